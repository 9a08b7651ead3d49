"""Revealing a case's personal data to an auditor: masked by default; shown to that auditor,
for that case, for REVEAL_MINUTES once a reason is stated; every reveal an audit event
with references only, and a line of the customer's history statement; a missing, blank,
too short, too long or garbled reason is refused with nothing stored."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from models import AuditEvent, AuditHead, Case, PersonalDataReveal, User, db
from tests.desk_support import Cast, signed_in
from tests.factories import make_case, unique_target
from workflow import oversight
from workflow.audit import Actor
from workflow.errors import Forbidden, NotFound

NAME, EMAIL, PHONE = "Joana Prado Lima", "joana.prado@exemplo.com.br", "+55 11 98765-4321"
CIP = "CIP 2026.07.001234"


@pytest.fixture
def app(app_factory):
    return app_factory(REVEAL_MINUTES=7)


@pytest.fixture
def people(app):
    return Cast(app, customer=("customer", {"name": NAME, "email": EMAIL, "phone": PHONE,
                                            "uf": "SP", "cpf_cnpj": "39053344705"}),
                procon=("auditor", {"uf": "SP"}), other=("auditor", {"uf": "SP"}),
                rio=("auditor", {"uf": "RJ"}), operator=("operator", {}))


@pytest.fixture
def protocol(app, people) -> str:
    return make_case(app, people["customer"], target=unique_target())


def page_url(protocol: str) -> str:
    return f"/regulador/casos/{protocol}"


def reveal(browser, protocol: str, reason: str | None = CIP, **kwargs):
    data = {} if reason is None else {"reason": reason}
    return browser.submit(f"{page_url(protocol)}/revelar", data, page=page_url(protocol),
                          **kwargs)


def stored(app) -> tuple[int, int]:
    with app.app_context():
        count = db.session.scalar(select(func.count()).select_from(PersonalDataReveal))
        return count, db.session.get(AuditHead, 1).seq


def shows_the_data(page: str) -> bool:
    return all(fact in page for fact in (NAME, EMAIL, PHONE, "390.533.447-05"))


def test_personal_data_stay_masked_until_revealed_with_a_reason(app, people, protocol):
    procon = signed_in(app, people["procon"])
    page = procon.text(page_url(protocol))
    assert not any(fact in page for fact in (NAME, EMAIL, PHONE, "390.533.447-05"))
    assert "somente leitura; dados pessoais mascarados." in page
    assert "J. P. L." in page and "***.533.447-**" in page

    done = reveal(procon, protocol)

    page = done.get_data(as_text=True)
    assert done.status_code == 200 and done.request.path == page_url(protocol)
    assert "Dados pessoais revelados até" in page and shows_the_data(page)
    assert f"Motivo informado: {CIP}." in page
    until = re.search(r"Dados pessoais revelados até (\d\d:\d\d)", page)[1]
    assert ("Acesso de auditoria — PROCON-SP, escopo SP, somente leitura; dados pessoais "
            f"deste caso revelados até {until} (motivo: {CIP}).") in page
    assert "dados pessoais mascarados" not in page
    assert "Revelar dados pessoais</button>" not in page
    # Only for this auditor and this case.
    assert not shows_the_data(signed_in(app, people["other"]).text(page_url(protocol)))
    elsewhere = make_case(app, people["customer"], target=unique_target())
    assert not shows_the_data(procon.text(page_url(elsewhere)))


# make_case files as subscriber CTR-0042, accepting the terms from 127.0.0.1.
CONTRACT, ACCEPTED_FROM = "CTR-0042", "127.0.0.1"


@pytest.mark.parametrize(("locale", "contract", "terms", "scope"), [
    ("pt_BR", "Contrato/assinante", "versão 2026-11, aceitos em",
     "Acesso de auditoria — PROCON-SP, escopo SP, somente leitura; dados pessoais mascarados."),
    ("en", "Contract/subscriber", "version 2026-11, accepted on",
     "Audit access — PROCON-SP, scope SP, read-only; personal data masked."),
])
def test_the_contract_and_the_terms_address_are_masked_until_revealed(
        app, people, protocol, locale, contract, terms, scope):
    procon = signed_in(app, people["procon"])
    if locale == "en":
        procon.submit("/language", {"locale": "en", "next": page_url(protocol)},
                      page=page_url(protocol))

    page = procon.text(page_url(protocol))

    assert contract in page and CONTRACT not in page and "•••-••42" in page
    assert terms in page and ACCEPTED_FROM not in page and "127.0.•.•" in page
    assert scope in page
    page = reveal(procon, protocol).get_data(as_text=True)
    assert CONTRACT in page and ACCEPTED_FROM in page and "•••-••42" not in page
    assert scope not in page
    # Staff see them as they are.
    staff = signed_in(app, people["operator"]).text(f"/desk/cases/{protocol}")
    assert CONTRACT in staff and ACCEPTED_FROM in staff and "127.0.•.•" not in staff


def test_the_reveal_is_an_audit_event_with_references_only(app, people, protocol):
    reveal(signed_in(app, people["procon"]), protocol)

    with app.app_context():
        event = db.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "case:personal_data_revealed")).one()
        row = db.session.scalars(select(PersonalDataReveal)).one()
        details = json.loads(event.details)
        assert (event.actor_id, event.actor_role, event.object_type, event.object_id,
                event.uf) == (people["procon"].id, "auditor", "case", protocol, "SP")
        assert details == {"reveal_id": row.id, "reason": CIP,
                           "expires_at": row.expires_at.strftime("%Y-%m-%dT%H:%M:%SZ")}
        assert row.expires_at - row.granted_at == timedelta(minutes=7)
        assert (row.auditor_id, row.reason) == (people["procon"].id, CIP)
    for personal in (NAME, EMAIL, PHONE, "39053344705"):
        assert personal not in event.details
    trail = signed_in(app, people["procon"]).text(f"/regulador/trilha/?protocol={protocol}")
    assert "Dados pessoais revelados a um auditor" in trail and CIP in trail


def test_the_customers_history_statement_lists_the_reveal(app, people, protocol):
    reveal(signed_in(app, people["procon"]), protocol)

    customer = signed_in(app, people["customer"])
    statement = customer.get("/portal/documents/history.json").get_json()

    (listed,) = statement["personal_data_reveals"]
    assert (listed["protocol"], listed["reason"], listed["scope"]) == (protocol, CIP, "SP")
    assert listed["scope_label"] == "PROCON-SP"
    # The customer's own case page does not show the auditor's act as a step of the request.
    assert "revelados" not in customer.text(f"/portal/cases/{protocol}")


def test_the_reveal_ends_after_reveal_minutes(app, people, protocol):
    procon = signed_in(app, people["procon"])
    reveal(procon, protocol)
    assert shows_the_data(procon.text(page_url(protocol)))

    with app.app_context():  # seven minutes and a second later: the row's time moved back
        row = db.session.scalars(select(PersonalDataReveal)).one()
        earlier = timedelta(minutes=7, seconds=1)
        db.session.execute(update(PersonalDataReveal).values(
            granted_at=row.granted_at - earlier, expires_at=row.expires_at - earlier))
        db.session.commit()

    page = procon.text(page_url(protocol))
    assert not shows_the_data(page) and "J. P. L." in page
    assert "Revelar dados pessoais</button>" in page
    assert CONTRACT not in page and ACCEPTED_FROM not in page and "•••-••42" in page
    assert "dados pessoais mascarados." in page and "deste caso revelados" not in page


@pytest.mark.parametrize(("reason", "message"), [
    (None, "Informe o motivo do acesso"),
    ("", "Informe o motivo do acesso"),
    ("     ", "Informe o motivo do acesso"),
    ("ab", "O motivo deve ter pelo menos 3 caracteres."),
    ("x" * 201, "O motivo pode ter no máximo 200 caracteres."),
    ("CIP\x07 2026", "O texto contém caracteres de controle não permitidos."),
])
def test_a_missing_or_bad_reason_is_refused_and_nothing_is_stored(app, people, protocol,
                                                                  reason, message):
    procon = signed_in(app, people["procon"])
    procon.text(page_url(protocol))
    before = stored(app)

    refused = reveal(procon, protocol, reason)

    page = refused.get_data(as_text=True)
    assert refused.status_code == 422 and message in page
    assert 'aria-invalid="true"' in page and not shows_the_data(page)
    assert stored(app) == before


def test_a_reason_is_kept_on_one_line_and_trimmed(app, people, protocol):
    reveal(signed_in(app, people["procon"]), protocol, "  Ofício\n Anatel   55/2026 ")
    with app.app_context():
        assert db.session.scalars(select(PersonalDataReveal.reason)).one() == (
            "Ofício Anatel 55/2026")


def test_only_an_auditor_in_scope_reveals(app, people, protocol):
    rio, operator = people["rio"], people["operator"]
    before = stored(app)
    with app.app_context():
        case = db.session.scalars(select(Case).where(Case.protocol == protocol)).one()
        with pytest.raises(NotFound):
            oversight.reveal_personal_data(
                case, actor=Actor(db.session.get(User, rio.id)), reason=CIP)
        with pytest.raises(Forbidden):
            oversight.reveal_personal_data(
                case, actor=Actor(db.session.get(User, operator.id)), reason=CIP)
        db.session.rollback()
    assert stored(app) == before
    browser = signed_in(app, rio)  # a sign-in is an audit event of its own
    before = stored(app)
    assert reveal(browser, protocol, follow=False).status_code == 404
    assert stored(app) == before
