"""Records: the dossier pipeline against plain WeasyPrint, and the worker's issue rate.

(a) The dossier of a case with 100 audit events. porta25's side is
``workflow.records.issue.produce``: the gathering in one read transaction, the
HTML, then the PDF/A-3b with its embedded JSON (static-only URL fetcher, shipped
font, one FontConfiguration). The baseline is ``weasyprint.HTML(string=html)
.write_pdf()`` with its defaults on the very HTML the pipeline wrote (no
stylesheet, no PDF/A, no attachment, system fonts).

(b) Records issued per second by one worker: ``cli.worker.issue_records`` over
N pending receipts (per record: the claim transaction, the render, and the
transaction storing the bytes with the audit append). The baseline is the plain
render rate of a receipt's HTML, as in (a).

Rounds alternate; medians. SQLite in a temporary file, or BENCH_DATABASE_URL.
"""

from __future__ import annotations

import io
import itertools
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import pypdf
import weasyprint
from flask_migrate import upgrade
from sqlalchemy import func, select

from app import create_app
from cli.worker import issue_records
from models import AuditEvent, Case, RecordKind, RecordRequest, Role, User, db, utcnow
from workflow import accounts, cases
from workflow.audit import Actor
from workflow.records import issue, on_demand
from workflow.records.documents.base import Pending

SYSTEM = Actor.system("bench")
EVENTS = 100  # audit events of the dossier's case
# Requests dated in the past are claimed before any other benchmark's pending records.
EARLY = datetime(2000, 1, 1, tzinfo=UTC)
_addresses = itertools.count(1)


def prepared_app(url: str):
    """A migrated database with a customer and an operator."""
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "TESTING": True})
    with app.app_context():
        upgrade()
        for email, role in (("records-cliente@example.com.br", Role.CUSTOMER),
                            ("records-operador@example.com.br", Role.OPERATOR)):
            accounts.create_user(email=email, password="bench-pass", role=role,
                                 name="Bench Records", uf="SP", cpf_cnpj="52998224725"
                                 if role is Role.CUSTOMER else None, actor=SYSTEM)
        db.session.commit()
    return app


def _people() -> tuple[User, User]:
    customer = db.session.scalars(select(User).where(
        User.email == "records-cliente@example.com.br")).one()
    operator = db.session.scalars(select(User).where(
        User.email == "records-operador@example.com.br")).one()
    return customer, operator


def submit_one(customer: User) -> Case:
    """One case (and its receipt request), on a /48 of its own in a shared database."""
    request = cases.Request(
        target=f"2001:db8:ec0::{next(_addresses):x}", subscriber_id="CTR-0001",
        category="own_mail_server", mail_hostname="mail.exemplo.com.br", terms_version="2026-11",
        justification="Servidor de e-mail próprio com SPF, DKIM e DMARC publicados.")
    return cases.submit(request, customer=customer, actor=Actor(customer))


def dossier_case() -> Pending:
    """A case with EVENTS audit events (notes, half public) and its dossier asked for."""
    customer, operator = _people()
    case = submit_one(customer)
    cases.claim(case, actor=Actor(operator))
    for n in range(EVENTS - 3):
        cases.add_note(case, actor=Actor(operator), public=n % 2 == 0,
                       message=f"Mensagem {n}: conferindo o DNS reverso, o SPF e o MX do domínio.")
    cases.approve(case, actor=Actor(operator))
    db.session.commit()
    events = db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.object_type == "case", AuditEvent.object_id == case.protocol))
    assert events == EVENTS, events
    row = on_demand.request_dossier(case, actor=Actor(operator))
    db.session.commit()
    return _pending(row)


def _pending(row: RecordRequest) -> Pending:
    return Pending(row.id, row.kind, row.code, row.series, row.case_id, row.customer_id,
                   row.uf, row.period_start, row.period_end, row.language, row.requested_by_id)


def _timed(step, times: int) -> float:
    """Seconds per call of ``step``, over ``times`` calls."""
    start = time.perf_counter()
    for _ in range(times):
        step()
    return (time.perf_counter() - start) / times


def _pages(pdf: bytes) -> int:
    return len(pypdf.PdfReader(io.BytesIO(pdf)).pages)


def dossier_rounds(app, rounds: int, per_round: int) -> dict:
    """Alternate the pipeline and plain WeasyPrint on the dossier; median seconds each."""
    with app.app_context():
        pending = dossier_case()
        html, _ = issue.write_html(pending, utcnow())
        pipeline_pdf = issue.produce(pending, utcnow()).pdf  # warm-up: fonts, stylesheet
        plain_pdf = weasyprint.HTML(string=html).write_pdf()
        pipeline, plain = [], []
        for _ in range(rounds):
            pipeline.append(_timed(lambda: issue.produce(pending, utcnow()), per_round))
            plain.append(_timed(lambda: weasyprint.HTML(string=html).write_pdf(), per_round))
    produce_s, plain_s = statistics.median(pipeline), statistics.median(plain)
    return {"events": EVENTS, "produce_s": produce_s, "plain_s": plain_s,
            "ratio": produce_s / plain_s, "pages": _pages(pipeline_pdf),
            "plain_pages": _pages(plain_pdf), "html_bytes": len(html.encode())}


def _ask_receipts(app, count: int) -> list[Pending]:
    """``count`` receipts due before anything else (a new case each)."""
    with app.app_context():
        customer, _ = _people()
        rows = []
        for _ in range(count):
            case = submit_one(customer)
            row = db.session.scalars(select(RecordRequest).where(
                RecordRequest.case_id == case.id, RecordRequest.kind == RecordKind.RECEIPT)).one()
            row.next_attempt_at = EARLY
            rows.append(row)
        db.session.commit()
        return [_pending(row) for row in rows]


def worker_round(app, count: int) -> float:
    """Records per second issued by the worker's step over ``count`` pending receipts."""
    _ask_receipts(app, count)
    start = time.perf_counter()
    with app.app_context():
        issued = issue_records(utcnow, limit=count)
    elapsed = time.perf_counter() - start
    assert issued == count, issued
    return count / elapsed


def plain_round(html: str, count: int) -> float:
    """Plain WeasyPrint renders per second of a receipt's HTML."""
    return 1 / _timed(lambda: weasyprint.HTML(string=html).write_pdf(), count)


def issue_rounds(app, rounds: int, per_round: int) -> dict:
    """Alternate the worker and plain renders of receipts; median rates."""
    (sample,) = _ask_receipts(app, 1)
    with app.app_context():
        html, _ = issue.write_html(sample, utcnow())
        issue_records(utcnow, limit=1)  # warm-up, and the sample out of the way
    worker, plain = [], []
    for _ in range(rounds):
        worker.append(worker_round(app, per_round))
        plain.append(plain_round(html, per_round))
    worker_rate, plain_rate = statistics.median(worker), statistics.median(plain)
    return {"records": rounds * per_round, "worker_per_s": worker_rate,
            "plain_per_s": plain_rate, "ratio": worker_rate / plain_rate}


def run(url: str | None = None, rounds: int = 5, dossiers: int = 2,
        receipts: int = 50, receipt_rounds: int = 3) -> dict:
    """Both measurements on one database."""
    with tempfile.TemporaryDirectory() as folder:
        url = url or f"sqlite:///{Path(folder) / 'bench.db'}"
        app = prepared_app(url)
        result = {"dossier": dossier_rounds(app, rounds, dossiers),
                  "issue": issue_rounds(app, receipt_rounds, receipts)}
        with app.app_context():
            db.engine.dispose()
    return result


def report(result: dict) -> None:
    """Print the figures as `make bench` shows them."""
    d, i = result["dossier"], result["issue"]
    print(f"dossier, {d['events']} audit events, produce (gather + HTML + PDF/A, "
          f"{d['pages']} pages): {d['produce_s'] * 1000:8.1f} ms")
    print(f"baseline, plain WeasyPrint write_pdf() on the same HTML ({d['plain_pages']} pages): "
          f"{d['plain_s'] * 1000:8.1f} ms")
    print(f"ratio produce/plain:                          {d['ratio']:8.3f}")
    print(f"records issued by one worker ({i['records']} receipts): "
          f"{i['worker_per_s']:8.1f}/s")
    print(f"baseline, plain WeasyPrint renders of a receipt: {i['plain_per_s']:8.1f}/s")
    print(f"ratio worker/plain:                           {i['ratio']:8.3f}")


if __name__ == "__main__":
    import os

    report(run(os.environ.get("BENCH_DATABASE_URL")))
