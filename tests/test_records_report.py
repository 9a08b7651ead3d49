"""Period reports: the PDF (figures, charts, the rules, PDF/A-3b, embedded JSON), the
same figures as CSV, who may ask for which scope, and every refused period."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy import func, select, update

from models import AuditEvent, Case, RecordRequest, Role, db, utcnow
from tests.desk_support import signed_in
from tests.factories import case_in, make_people, make_user
from tests.records_support import issue_pending, pdf_attachments, pdf_info, pdf_text, pdf_xmp
from tests.records_support import records_of as _records_of
from workflow.records import report_data, reports
from workflow.records.report_data import ReportScope

PAGE = "/desk/reports/"
CSV_URL = "/desk/reports/report.csv"
# The same page on the regulators' portal, where auditors ask for and read reports.
AUDIT_PAGE = "/regulador/relatorios/"
AUDIT_CSV_URL = "/regulador/relatorios/relatorio.csv"
H, D = timedelta(hours=1), timedelta(days=1)


def _today(app) -> date:
    with app.app_context():
        return reports.local_today(utcnow())


def _zone(app):
    with app.app_context():
        return report_data.zone()


def _set(app, protocol: str, **values) -> None:
    """Place a case in time and space (test setup: a report reads what is stored)."""
    with app.app_context():
        db.session.execute(update(Case).where(Case.protocol == protocol).values(**values)
                           .execution_options(synchronize_session=False))
        db.session.commit()


@pytest.fixture
def world(app):
    """Six cases submitted on one day 40 days ago (four SP, two RJ), one 10 days earlier.

    Worked out by hand: granted 2 (active, revoked), refused 1 → approval 66,7 % (2 de 3),
    revocation 50,0 % (1 de 2); decisions in 1 h, 3 h, 2 d → median 3 h, p90 2 d;
    answer: met 3 (active, rejected, revoked), missed 1 (in review), open 1 (appeal),
    not counted 1 (cancelled) → 75,0 %; execution: met 2 (active applied now, before
    its deadline; the refusal), missed 1, open 1, not counted 2 → 66,7 %; one appeal.
    """
    people = make_people(app, "customer", "operator")
    day = _today(app) - 40 * D
    base = datetime.combine(day, time(12), _zone(app))
    cases = {status: case_in(app, status, people) for status in
             ("active", "rejected", "revoked", "cancelled", "in_review", "appealed")}
    due = {"answer_due_at": base + 7 * D, "execution_due_at": base + 14 * D}
    _set(app, cases["active"], submitted_at=base, decided_at=base + H, answer_due_at=base + 7 * D,
         execution_due_at=base + 50 * D)
    _set(app, cases["rejected"], submitted_at=base, decided_at=base + 3 * H, uf="RJ",
         category="other", **due)
    _set(app, cases["revoked"], submitted_at=base, decided_at=base + 2 * D,
         category="smtp_application", **due)
    _set(app, cases["cancelled"], submitted_at=base, **due)
    _set(app, cases["in_review"], submitted_at=base, **due)
    _set(app, cases["appealed"], submitted_at=base, uf="RJ")
    earlier = case_in(app, "submitted", people)
    _set(app, earlier, submitted_at=base - 10 * D)
    issue_pending(app)  # receipts and notices, out of the way
    return {"people": people, "cases": cases, "earlier": earlier, "day": day,
            "form": {"start": (day - 2 * D).isoformat(), "end": day.isoformat(), "scope": "BR"}}


def _reports(app):
    return _records_of(app, kind="report")


def _ask(app, browser, form: dict, page: str = PAGE):
    response = browser.submit(page, form)
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    assert issue_pending(app) == 1
    return _reports(app)[-1]


def _br(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def test_the_report_states_its_period_scope_rules_and_figures(app, world):
    browser = signed_in(app, make_user(app, Role.OPERATOR))
    form = world["form"]
    response = browser.submit(PAGE, form)
    assert "Relatório pedido" in response.get_data(as_text=True)
    assert issue_pending(app) == 1
    (report,) = _reports(app)

    text = pdf_text(report.content)
    start, end = _br(date.fromisoformat(form["start"])), _br(world["day"])
    for fact in (f"registrados de {start} a {end}", "Abrangência: Nacional",
                 "America/Sao_Paulo", "Pedidos contados 6",
                 "Taxa de aprovação 66,7 % (2 de 3)", "Taxa de revogação 50,0 % (1 de 2)",
                 "mediana 3 h 0 min", "percentil 90 2 d 0 h",
                 "Prazo de resposta cumprido 75,0 % (3 de 4)",
                 "Prazo de execução cumprido 66,7 % (2 de 3)", "Recursos apresentados 1",
                 "O que se conta", "Percentil 90: o valor na posição 0,9 · n"):
        assert fact in text, fact
    # The charts' bars carry their labels and values as text.
    for bar in ("Em recurso 1", "Revogado 1", "Servidor de e-mail próprio 4",
                "Aplicação ou equipamento que envia por SMTP 1", "RJ 2", "SP 4",
                "Recurso em análise 1", "Resposta (7 dias corridos) 75,0 % (3 de 4)"):
        assert bar in text, bar
    assert world["earlier"] not in text
    xmp = pdf_xmp(report.content)
    assert 'pdfaid:part="3"' in xmp and 'pdfaid:conformance="B"' in xmp
    assert pdf_info(report.content)["/Title"] == f"Relatório do período {start} a {end} — Nacional"


def test_the_embedded_json_the_csv_and_the_statistics_agree(app, world):
    operator = make_user(app, Role.OPERATOR)
    browser = signed_in(app, operator)
    report = _ask(app, browser, world["form"])
    embedded = json.loads(pdf_attachments(report.content)["dados.json"])

    response = browser.get(CSV_URL, query_string=world["form"])

    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "private, no-store"
    lines = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert lines[0] == ["section", "item", "value"]
    in_csv = {(s, i): v for s, i, v in lines[1:] if (s, i) != ("report", "as_of")}
    # The PDF alone names the audit checkpoint covering it: the CSV is computed on the spot.
    in_json = {(s, i): v for s, i, v in report_data.csv_lines(embedded)
               if (s, i) != ("report", "as_of") and s != "audit_checkpoint"}
    assert in_csv == in_json
    assert embedded["total"] == 6
    assert embedded["approval_rate"] == {"granted": 2, "decided": 3, "percent": 66.7}
    assert embedded["revocation_rate"] == {"revoked": 1, "granted": 2, "percent": 50.0}
    assert embedded["decision_time_seconds"] == {"count": 3, "median": 3 * 3600,
                                                 "p90": 2 * 86400}
    assert embedded["answer_deadline"] == {"met": 3, "missed": 1, "open": 1,
                                           "not_applicable": 1, "percent_met": 75.0}
    assert embedded["execution_deadline"] == {"met": 2, "missed": 1, "open": 1,
                                              "not_applicable": 2, "percent_met": 66.7}
    assert embedded["appeals"] == {"total": 1, "granted": 0, "upheld": 0, "pending": 1,
                                   "withdrawn": 0}
    assert embedded["by_uf"] == {"RJ": 2, "SP": 4}
    assert embedded["report"]["scope"] == "BR"
    with app.app_context():
        (event,) = db.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "record:report_exported")).all()
        assert event.actor_id == operator.id and event.uf is None


def test_a_procon_auditor_reports_on_their_own_uf_only(app, world):
    auditor = make_user(app, Role.AUDITOR, uf="SP")
    browser = signed_in(app, auditor)
    page = browser.text(AUDIT_PAGE)
    assert '<option selected value="SP">SP</option>' in page
    assert 'value="RJ"' not in page and 'value="BR"' not in page

    report = _ask(app, browser, {**world["form"], "scope": "SP"}, AUDIT_PAGE)

    data = json.loads(pdf_attachments(report.content)["dados.json"])
    assert data["total"] == 4 and data["by_uf"] == {"SP": 4}
    assert "Abrangência: SP" in pdf_text(report.content)
    assert browser.get(f"/records/{report.code}").status_code == 200


@pytest.mark.parametrize("scope", ["RJ", "BR"])
def test_a_procon_auditor_gets_no_other_scope(app, world, scope):
    browser = signed_in(app, make_user(app, Role.AUDITOR, uf="SP"))
    form = {**world["form"], "scope": scope}

    asked = browser.submit(AUDIT_PAGE, form)
    downloaded = browser.get(AUDIT_CSV_URL, query_string=form)

    for response in (asked, downloaded):
        assert response.status_code == 404
        assert "a sua abrangência é SP" in response.get_data(as_text=True)
    _assert_nothing_stored(app)


def test_reports_of_another_scope_stay_hidden_from_a_procon_auditor(app, world):
    national = _ask(app, signed_in(app, make_user(app, Role.SUPERVISOR)), world["form"])
    anatel = signed_in(app, make_user(app, Role.AUDITOR))
    procon = signed_in(app, make_user(app, Role.AUDITOR, uf="SP"))

    assert anatel.get(f"/records/{national.code}").status_code == 200
    assert procon.get(f"/records/{national.code}").status_code == 404
    assert national.code[:4] not in procon.text(AUDIT_PAGE)
    assert "Nenhum relatório emitido ainda" in procon.text(AUDIT_PAGE)


def test_anatel_reports_on_any_scope(app, world):
    browser = signed_in(app, make_user(app, Role.AUDITOR))
    report = _ask(app, browser, {**world["form"], "scope": "RJ"}, AUDIT_PAGE)
    data = json.loads(pdf_attachments(report.content)["dados.json"])
    assert data["by_uf"] == {"RJ": 2}
    page = browser.text(AUDIT_PAGE)
    assert "Relatórios" in page and report.code[:4] in page.replace("-", "")


@pytest.mark.parametrize(("change", "field", "message"), [
    ({"start": ""}, "start", "Informe a data inicial do período."),
    ({"end": ""}, "end", "Informe a data final do período."),
    ({"start": "31/02/2026"}, "start", "Data inválida: “31/02/2026”. Use o formato dd/mm/aaaa."),
    ({"end": "ontem"}, "end", "Data inválida: “ontem”."),
    ({"start": "2026-03-10", "end": "2026-03-09"}, "end",
     "A data final é anterior à data inicial."),
    ({"start": "2025-01-01", "end": "2026-01-02"}, "end",
     "O período pode ter no máximo 366 dias."),
    ({"start": "+1", "end": "+2"}, "start", "A data inicial está no futuro"),
    ({"scope": "XX"}, "scope", "Abrangência desconhecida: “XX”."),
])
def test_every_bad_period_is_refused_clearly_and_stores_nothing(app, change, field, message):
    browser = signed_in(app, make_user(app, Role.OPERATOR))
    form = {"start": "2026-01-01", "end": "2026-01-31", "scope": "BR", **change}
    for key, value in form.items():
        if value.startswith("+"):  # days from today
            form[key] = (_today(app) + int(value) * D).isoformat()

    asked = browser.submit(PAGE, form)
    downloaded = browser.get(CSV_URL, query_string=form)

    for response in (asked, downloaded):
        body = response.get_data(as_text=True).replace("&#34;", '"').replace("&#39;", "'")
        assert response.status_code == 422
        assert message in body
        assert f'id="{field}-error"' in body
    _assert_nothing_stored(app)


def test_a_leap_year_of_366_days_is_accepted(app):
    with app.app_context():
        from models import User
        operator = db.session.get(User, make_user(app, Role.OPERATOR).id)
        period = reports.parse_scope(start="01/01/2024", end="31/12/2024", scope="sp",
                                     user=operator, today=date(2026, 1, 1))
    assert period == ReportScope(date(2024, 1, 1), date(2024, 12, 31), "SP")


@pytest.mark.parametrize("role", [Role.CUSTOMER, Role.PROVIDER])
def test_customers_and_providers_have_no_reports(app, role):
    browser = signed_in(app, make_user(app, role))
    assert browser.get(PAGE).status_code == 403
    assert browser.get(CSV_URL, query_string={"start": "2026-01-01", "end": "2026-01-02",
                                              "scope": "BR"}).status_code == 403
    assert "/desk/reports/" not in browser.text("/")


def test_the_period_counts_local_days_inclusive(app):
    people = make_people(app, "customer")
    zone = _zone(app)
    first, last = date(2026, 3, 1), date(2026, 3, 31)
    moments = {
        "before": datetime.combine(first, time(0), zone) - timedelta(seconds=1),
        "first": datetime.combine(first, time(0), zone),
        "last": datetime.combine(last, time(23, 59, 59), zone),
        "after": datetime.combine(last + D, time(0), zone),
    }
    for when in moments.values():
        _set(app, case_in(app, "submitted", people), submitted_at=when)
    with app.app_context():
        rows = report_data.rows(ReportScope(first, last, None))
        assert sorted(r.submitted_at for r in rows) == [moments["first"], moments["last"]]
        assert report_data.rows(ReportScope(first, last, "RJ")) == []


def test_the_report_in_english(app, world):
    browser = signed_in(app, make_user(app, Role.OPERATOR))
    browser.submit("/language", {"locale": "en", "next": PAGE}, page=PAGE)
    report = _ask(app, browser, world["form"])
    text = pdf_text(report.content)
    assert "Period report" in text and "Approval rate 66.7 % (2 of 3)" in text
    assert "What is counted" in text and "Own mail server 4" in text
    assert "Relatório" not in text


def _assert_nothing_stored(app):
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(RecordRequest).where(
            RecordRequest.kind == "report")) == 0
        assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "record:report_exported")) == 0


def test_the_report_names_the_deadlines_with_the_lengths_in_the_settings(app_factory):
    app = app_factory(ANSWER_DEADLINE_DAYS=5, EXECUTION_DEADLINE_BUSINESS_DAYS=8)
    people = make_people(app, "customer", "operator")
    case_in(app, "in_review", people)
    issue_pending(app)  # its receipt, out of the way
    today = utcnow().date()
    report = _ask(app, signed_in(app, people.operator),
                  {"start": (today - timedelta(days=1)).isoformat(), "end": today.isoformat(),
                   "scope": "BR"})
    text = pdf_text(report.content)
    assert "Resposta (5 dias corridos)" in text and "Execução (8 dias úteis)" in text
    assert "7 dias corridos" not in text and "10 dias úteis" not in text
