"""LGPD retention: the personal data of cases ended more than RETENTION_YEARS ago are
anonymised (then those of customers left with nothing else), while protocols, statuses,
dates, record codes and hashes stay, /verify still confirms a kept copy and the audit
chain still verifies."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select, update

import settings
from models import (
    ApiToken,
    AuditEvent,
    Case,
    Message,
    Notification,
    Record,
    RecordFile,
    User,
    db,
    utcnow,
)
from tests.desk_support import signed_in
from tests.factories import case_in, make_people
from tests.lgpd_support import count, events
from tests.portal_support import add_note
from tests.records_support import issue_pending, records_of
from tests.test_records_verify import send
from workflow import accounts, notifications, retention
from workflow.audit import Actor
from workflow.records import codes

YEAR = timedelta(days=366)
PERSONAL = ("justification", "mail_hostname", "subscriber_id", "terms_accepted_from")
CASE_TRACES = ("messages", "record_files", "evidence_checks", "outbox_events",
               "delivery_attempts", "notifications", "record_requests")
KEPT = ("protocol", "status", "target", "uf", "category", "submitted_at", "decided_at",
        "valid_from", "valid_until", "appealed_at", "reason_code")


def age(app, protocol: str, years: float) -> None:
    """Arrange: the case happened ``years`` earlier (every moment moved back alike)."""
    shift = YEAR * years
    with app.app_context():
        case = db.session.scalars(select(Case).where(Case.protocol == protocol)).one()
        values = {name: getattr(case, name) - shift for name in (
            "submitted_at", "updated_at", "decided_at", "valid_from", "valid_until",
            "appealed_at", "terms_accepted_at", "answer_due_at", "execution_due_at")
            if getattr(case, name) is not None}
        db.session.execute(update(Case).where(Case.id == case.id).values(**values))
        db.session.commit()


def age_account(app, user_id: int, years: float) -> None:
    with app.app_context():
        db.session.execute(update(User).where(User.id == user_id)
                           .values(created_at=utcnow() - YEAR * years))
        db.session.commit()


def case_row(app, protocol: str) -> dict:
    with app.app_context():
        case = db.session.scalars(select(Case).where(Case.protocol == protocol)).one()
        row = {c.key: getattr(case, c.key) for c in Case.__table__.columns}
        row["messages"] = db.session.scalars(select(Message.body).where(
            Message.case_id == case.id).order_by(Message.id)).all()
        return row


def everything(app) -> tuple:
    """A fingerprint of what retention may change: cases, accounts, files, the trail."""
    with app.app_context():
        cases = [tuple(getattr(c, col.key) for col in Case.__table__.columns)
                 for c in db.session.scalars(select(Case).order_by(Case.id))]
        users = [(u.name, u.email, u.cpf_cnpj, u.phone, u.anonymised_at)
                 for u in db.session.scalars(select(User).order_by(User.id))]
        bodies = db.session.scalars(select(Message.body).order_by(Message.id)).all()
    return cases, users, bodies, count(app, RecordFile), count(app, AuditEvent)


@pytest.fixture
def story(app):
    """An old customer whose four cases ended six years ago (with notes and records);
    a case that ended four years ago; an old exception still active; another customer's
    recent request."""
    people = make_people(app, "customer", "stranger", "operator")
    old = {status: case_in(app, status, people)
           for status in ("rejected", "cancelled", "expired", "revoked")}
    add_note(app, old["rejected"], people.operator, "Ligar para o cliente no 11 9999-0000.")
    add_note(app, old["rejected"], people.operator, "Cliente informou o CNPJ.", public=True)
    recent = case_in(app, "rejected", people)
    active = case_in(app, "active", people)
    other = case_in(app, "submitted", type(people)(customer=people.stranger))
    issue_pending(app)
    for protocol in old.values():
        age(app, protocol, 6)
    age(app, recent, 4)
    age(app, active, 6)
    return people, old, recent, active, other


def test_a_dry_run_lists_what_is_due_and_changes_nothing(app, runner, story):
    people, old, recent, active, other = story
    before = everything(app)

    result = runner.invoke(args=["retention", "run", "--dry-run"])

    assert result.exit_code == 0, result.output
    assert "RETENTION_YEARS=5" in result.output
    assert "would anonymise 4 case(s): " + ", ".join(sorted(old.values())) in result.output
    for protocol in (recent, active, other):
        assert protocol not in result.output
    assert "would anonymise 0 customer(s)" in result.output  # the customer is still active
    assert everything(app) == before


def test_anonymised_cases_keep_their_facts_and_lose_their_personal_data(app, runner, story):
    people, old, recent, active, other = story
    before = {protocol: case_row(app, protocol) for protocol in (*old.values(), recent, active)}
    kept_copies = {r.code: r.content for p in old.values() for r in records_of(app, p)}
    assert len(kept_copies) >= 6  # receipts, the refusal, expiry and revocation notices

    result = runner.invoke(args=["retention", "run"])

    assert result.exit_code == 0, result.output
    assert "anonymised 4 case(s)" in result.output
    assert f"deleted {len(kept_copies)} record file(s)" in result.output
    for protocol in old.values():
        row = case_row(app, protocol)
        assert {k: row[k] for k in KEPT} == {k: before[protocol][k] for k in KEPT}
        assert [row[k] for k in PERSONAL] == ["", "", "", None]
        assert row["anonymised_at"] is not None
        assert set(row["messages"]) <= {""} and len(row["messages"]) == len(
            before[protocol]["messages"])
    for protocol in (recent, active):
        assert case_row(app, protocol) == before[protocol]
    with app.app_context():
        assert db.session.scalars(select(RecordFile.record_id).join(Record).where(
            Record.code.in_(kept_copies))).all() == []


def test_erased_records_still_verify_and_the_chain_still_holds(app, runner, client, story):
    people, old, *_ = story
    [receipt] = [r for r in records_of(app, old["rejected"]) if r.kind == "receipt"]
    assert runner.invoke(args=["retention", "run"]).exit_code == 0

    page = send(client, f"/verify/{codes.display(receipt.code)}", receipt.content)
    assert page.status_code == 200
    assert "Idêntico ao documento emitido" in page.get_data(as_text=True)
    download = signed_in(app, people.customer).get(f"/records/{receipt.code}")
    assert download.status_code == 404
    assert "apagado pela política de retenção" in download.get_data(as_text=True)

    verify = runner.invoke(args=["audit", "verify"])
    assert verify.exit_code == 0, verify.output


def test_each_anonymisation_is_an_audit_event_with_references_only(app, runner, story):
    people, old, *_ = story
    runner.invoke(args=["retention", "run"])

    found = events(app, "retention:anonymised")
    assert sorted(e["object_id"] for e in found) == sorted(old.values())
    for event in found:
        assert (event["actor_id"], event["actor_role"], event["object_type"]) == (
            None, "system:retention", "case")
        assert set(event["details"]) == {"protocol", *CASE_TRACES}
        assert all(isinstance(event["details"][k], int) for k in CASE_TRACES)
        assert event["details"]["protocol"] == event["object_id"]
    assert "9999-0000" not in json.dumps(found)


def test_a_second_run_finds_nothing_left(app, runner, story):
    runner.invoke(args=["retention", "run"])
    before = everything(app)
    result = runner.invoke(args=["retention", "run"])
    assert "anonymised 0 case(s)" in result.output and everything(app) == before


def test_a_refusal_still_open_to_appeal_has_not_ended(app_factory):
    app = app_factory(APPEAL_WINDOW_DAYS=3000)  # eight years to appeal
    people = make_people(app, "customer", "operator")
    protocol = case_in(app, "rejected", people)
    age(app, protocol, 6)
    with app.app_context():
        assert retention.plan(utcnow()).cases == []


@pytest.fixture
def idle_customer(app):
    """A customer whose only case ended six years ago and who never came back, with a
    token, a sent e-mail and a history statement."""
    people = make_people(app, "customer", "operator")
    protocol = case_in(app, "cancelled", people)
    with app.app_context():
        user = db.session.get(User, people.customer.id)
        accounts.create_token(user, "crm", actor=Actor.system("tests"))
        notifications.queue_email(user, "Assunto", f"Olá, {user.name}.")
        from workflow.records import statements
        statements.request_statement(actor=Actor(user), language="pt_BR")
        db.session.commit()
    issue_pending(app)
    age(app, protocol, 6)
    age_account(app, people.customer.id, 7)
    return people, protocol


def test_a_customer_left_with_nothing_is_anonymised_too(app, runner, idle_customer):
    people, protocol = idle_customer

    result = runner.invoke(args=["retention", "run"])

    assert "anonymised 1 customer(s): user id " + str(people.customer.id) in result.output
    with app.app_context():
        user = db.session.get(User, people.customer.id)
        assert (user.name, user.email, user.cpf_cnpj, user.phone, user.subscriber_id) == (
            "", f"anon-{user.id}@invalid", None, None, None)
        assert not user.is_active and user.anonymised_at is not None
        assert db.session.scalars(select(ApiToken.revoked_at)).one() is not None
        assert db.session.scalars(select(Notification).where(
            Notification.user_id == user.id)).all() == []
    assert count(app, RecordFile) == 0  # the receipt and the history statement
    [event] = [e for e in events(app, "retention:anonymised") if e["object_type"] == "user"]
    assert event["object_id"] == str(people.customer.id)
    # The history statement, the e-mail, the token (named "crm": the name goes too).
    assert event["details"] == {"user_id": people.customer.id, "record_files": 1,
                                "notifications": 1, "api_tokens": 1, "record_requests": 0}
    with app.app_context():
        assert db.session.scalars(select(ApiToken.name)).all() == [""]
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0


def test_a_customer_who_signed_in_lately_keeps_their_account(app, runner, idle_customer):
    people, protocol = idle_customer
    signed_in(app, people.customer)  # a sign-in today

    result = runner.invoke(args=["retention", "run"])

    assert "anonymised 1 case(s)" in result.output
    assert "anonymised 0 customer(s)" in result.output
    with app.app_context():
        assert db.session.get(User, people.customer.id).anonymised_at is None


def test_the_worker_runs_the_job(app, idle_customer):
    people, protocol = idle_customer
    result = app.test_cli_runner().invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert case_row(app, protocol)["anonymised_at"] is not None


def test_the_settings_refuse_a_retention_below_two_years():
    with pytest.raises(ValueError, match="RETENTION_YEARS must be at least 2"):
        settings.from_environment({"RETENTION_YEARS": "1"})
    assert settings.from_environment({"RETENTION_YEARS": "2"})["RETENTION_YEARS"] == 2


def test_the_job_and_the_worker_refuse_a_retention_below_two_years(app, app_factory, story):
    short = app_factory(DATABASE_URL=app.config["DATABASE_URL"], RETENTION_YEARS=1)
    before = everything(app)
    for args in (["retention", "run"], ["retention", "run", "--dry-run"], ["worker", "--once"]):
        result = short.test_cli_runner().invoke(args=args)
        assert result.exit_code == 1, result.output
        assert "RETENTION_YEARS deve ser de pelo menos 2 anos" in result.output
        assert "Traceback" not in result.output
    assert everything(app) == before


def test_the_case_pages_say_the_personal_data_were_erased(app, runner, story):
    people, old, recent, *_ = story
    runner.invoke(args=["retention", "run"])
    notice = "Os dados pessoais deste pedido foram apagados em"
    customer = signed_in(app, people.customer)
    operator = signed_in(app, people.operator)
    assert notice in customer.text(f"/portal/cases/{old['rejected']}")
    assert notice in operator.text(f"/desk/cases/{old['rejected']}")
    assert notice not in customer.text(f"/portal/cases/{recent}")
