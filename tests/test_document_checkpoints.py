"""The dossier and the period report print the signed audit checkpoint that covers their
events — or, before one is signed, that the next checkpoint will cover the trail up to
the head they print — and carry the same note in their embedded JSON."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from models import AuditCheckpoint, AuditEvent, db, utcnow
from tests.audit_support import KEY
from tests.desk_support import Cast, signed_in
from tests.factories import act, make_case, unique_target
from tests.helpers import Browser
from tests.records_support import issue_pending, pdf_attachments, pdf_text, records_of
from tests.test_i18n import in_english
from workflow import checkpoints
from workflow.records import codes, reports

NOT_YET = "Nenhum checkpoint assinado cobre ainda os eventos deste documento"


@pytest.fixture
def app(app_factory):
    return app_factory(AUDIT_SIGNING_KEY=KEY)


@pytest.fixture
def people(app):
    return Cast(app, customer=("customer", {"uf": "SP"}), operator=("operator", {}),
                procon=("auditor", {"uf": "SP"}))


def sign(app) -> SimpleNamespace:
    """The worker's step: sign the head as it is now."""
    with app.app_context():
        checkpoint = checkpoints.issue(utcnow())
        signed = SimpleNamespace(seq=checkpoint.seq, hash=checkpoint.hash, note=checkpoint.note,
                                 key_id=checkpoint.key_id)
        db.session.commit()
        return signed


def issued_event(app, code: str) -> AuditEvent:
    with app.app_context():
        event = db.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "record:issued", AuditEvent.object_id == code)).one()
        db.session.expunge(event)
        return event


def ask_dossier(app, people) -> str:
    protocol = make_case(app, people["customer"], target=unique_target())
    act(app, protocol, "claim", people["operator"])
    issue_pending(app)  # the receipt: its events are the case's too
    procon = signed_in(app, people["procon"])
    page = f"/regulador/casos/{protocol}"
    assert procon.submit(f"{page}/dossie", page=page).status_code == 200
    return protocol


def ask_report(app, people) -> None:
    operator = signed_in(app, people["operator"])
    with app.app_context():  # the report's days are São Paulo's
        today = reports.local_today(utcnow()).isoformat()
    response = operator.submit("/desk/reports/", {"start": today, "end": today, "scope": "SP"})
    assert response.status_code == 200


def test_a_dossier_before_any_checkpoint_says_what_the_next_one_will_cover(app, people):
    protocol = ask_dossier(app, people)
    issue_pending(app)
    (dossier,) = records_of(app, protocol, "dossier")
    head = issued_event(app, dossier.code).seq - 1  # the head when it was rendered

    text = pdf_text(dossier.content)
    data = json.loads(pdf_attachments(dossier.content)["dados.json"])["audit_checkpoint"]

    assert NOT_YET in text
    assert ("o próximo checkpoint os cobrirá. Quando este documento foi emitido, a cadeia "
            f"chegava ao evento nº {head}, com esta cabeça:") in text
    last_event = json.loads(pdf_attachments(dossier.content)["dados.json"])[
        "audit_events"][-1]["seq"]
    assert data["checkpoint"] is None and data["next_checkpoint_covers_up_to"] == head
    assert data["covers_up_to_seq"] == last_event and data["head"]["seq"] == head


def test_a_dossier_prints_the_signed_checkpoint_that_covers_its_events(app, people):
    protocol = ask_dossier(app, people)
    checkpoint = sign(app)  # signed after the request, before the worker renders it
    issue_pending(app)
    (dossier,) = records_of(app, protocol, "dossier")

    text = pdf_text(dossier.content)
    data = json.loads(pdf_attachments(dossier.content)["dados.json"])
    note = data["audit_checkpoint"]

    assert NOT_YET not in text
    assert f"cobertos pelo checkpoint assinado do evento nº {checkpoint.seq}" in text
    assert checkpoint.hash.hex() in text.replace(" ", "")
    assert note["checkpoint"]["seq"] == checkpoint.seq >= data["audit_events"][-1]["seq"]
    assert note["checkpoint"]["note"] == checkpoint.note
    assert note["checkpoint"]["key_id"] == checkpoint.key_id
    assert note["next_checkpoint_covers_up_to"] is None
    # The note is the one published, and it verifies with the published key.
    published = signed_in(app, people["procon"]).get(
        note["checkpoint"]["url"].split("localhost:5000")[1])
    assert published.get_data(as_text=True) == checkpoint.note
    with app.app_context():
        assert checkpoints.check(db.session.get(AuditCheckpoint, checkpoint.seq),
                                 checkpoints.verifiers()) is None


def test_a_period_report_names_the_checkpoint_of_the_trail_it_counts(app, people):
    make_case(app, people["customer"], target=unique_target())
    ask_report(app, people)
    issue_pending(app)
    ask_report(app, people)
    checkpoint = sign(app)
    issue_pending(app)
    before, after = records_of(app, kind="report")

    first = json.loads(pdf_attachments(before.content)["dados.json"])["audit_checkpoint"]
    assert NOT_YET in pdf_text(before.content) and first["checkpoint"] is None
    assert first["next_checkpoint_covers_up_to"] == first["head"]["seq"]

    second = json.loads(pdf_attachments(after.content)["dados.json"])["audit_checkpoint"]
    assert f"cobertos pelo checkpoint assinado do evento nº {checkpoint.seq}" in pdf_text(
        after.content)
    assert second["checkpoint"]["note"] == checkpoint.note
    assert second["covers_up_to_seq"] <= checkpoint.seq


def test_the_public_verification_page_names_the_checkpoint_covering_the_record(app, people):
    protocol = make_case(app, people["customer"], target=unique_target())
    assert issue_pending(app) == 1
    (receipt,) = records_of(app, protocol)
    page = f"/verify/{codes.display(receipt.code)}"
    client = app.test_client()

    before = client.get(page).get_data(as_text=True)
    assert ("ainda nenhum: o registro deste documento entra no próximo checkpoint assinado "
            "da trilha.") in before

    signed = sign(app)
    after = client.get(page).get_data(as_text=True)
    assert f'href="/audit/checkpoints/{signed.seq}"' in after
    assert f"nº {signed.seq}, assinado em " in after
    assert "ainda nenhum" not in after
    assert client.get(f"/audit/checkpoints/{signed.seq}").get_data(as_text=True) == signed.note
    english = in_english(Browser(client), page).get_data(as_text=True)
    assert f"no. {signed.seq}, signed on " in english
