"""LGPD retention erases every copy of an anonymised case's and customer's personal data,
not only their rows: DNS evidence facts (the one update the evidence triggers allow),
webhook bodies and receivers' answers, e-mails, notes, documents. Real DNS, HTTP and SMTP
servers on loopback; pending work keeps what it still needs until a later run."""

from __future__ import annotations

import json
from contextlib import contextmanager
from dataclasses import dataclass

import dns.reversename
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import String, Text, select, text, update

from cli.worker import check_evidence, run_once
from models import (
    Case,
    DeliveryAttempt,
    EvidenceCheck,
    Notification,
    OutboxEvent,
    User,
    WebhookEndpoint,
    db,
    utcnow,
)
from tests.desk_support import Cast, case_url, signed_in
from tests.dns_support import DnsServer, txt
from tests.factories import REVOKE_REASON, act, cpf, make_case
from tests.lgpd_support import events
from tests.portal_support import add_note
from tests.records_support import issue_pending, pdf_attachments, pdf_text, records_of
from tests.test_email import Inbox, free_port
from tests.test_retention import age, age_account
from tests.webhook_support import Receiver, add_endpoint, make_due
from workflow import endpoints, notifications
from workflow.audit import Actor
from workflow.records import on_demand

HOST, DOMAIN = "mx.zelador-anonimo.com.br", "zelador-anonimo.com.br"
ADDRESS = "203.0.113.77"
SUBSCRIBER = "SUB-ANON-4242"
JUSTIFICATION = "Servidor próprio da Padaria Zelador Anônimo, que envia notas fiscais."
CUSTOMER = {"name": "Joana Quitéria Anonimizável", "email": "joana.anonimizavel@example.com.br",
            "cpf_cnpj": cpf(424242424), "phone": "+55 11 97777-1234",
            "subscriber_id": SUBSCRIBER, "uf": "SP"}
ANSWER = f"assinante {SUBSCRIBER} ainda desconhecido".encode()  # a receiver quoting it
ERASED = "Detalhes apagados com os dados pessoais do pedido (LGPD); o resultado permanece."
TYPES = ("exception.activated", "exception.revoked", "exception.expired")


@dataclass
class World:
    app: object
    dns: DnsServer
    receiver: Receiver
    inbox: Inbox


@contextmanager
def real_services(make_app):
    """A DNS server answering for the customer's mail host, a webhook receiver and an SMTP
    server, all on loopback; ``make_app(settings)`` makes the app that uses them."""
    server, receiver, inbox, port = DnsServer().start(), Receiver().start(), Inbox(), free_port()
    smtp = Controller(inbox, hostname="127.0.0.1", port=port)
    smtp.start()
    try:
        app = make_app(dict(EVIDENCE_RESOLVERS=server.resolvers, EVIDENCE_TIMEOUT_SECONDS=1.0,
                            SMTP_HOST="127.0.0.1", SMTP_PORT=port))
        server.add(dns.reversename.from_address(ADDRESS).to_text(), "PTR", HOST + ".")
        server.add(HOST, "A", ADDRESS)
        server.add(DOMAIN, "TXT", txt(f"v=spf1 a:{HOST} -all"))
        server.add(DOMAIN, "MX", f"10 {HOST}.")
        add_endpoint(app, receiver, *TYPES)
        yield World(app, server, receiver, inbox)
    finally:
        smtp.stop()
        receiver.stop()
        server.stop()


@pytest.fixture
def world(app_factory):
    """The app with a DNS server, a webhook receiver and an SMTP server of its own."""
    with real_services(lambda settings: app_factory(**settings)) as world:
        yield world


def lived(world: World, cast: Cast) -> str:
    """A case with everything that copies personal data: DNS checks, a staff note,
    deliveries (one answered with the subscriber id quoted), e-mails (the expiry reminder
    too), documents (a dossier too); approved, active, then revoked — six years ago."""
    app = world.app
    protocol = make_case(app, cast["customer"], target=ADDRESS, mail_hostname=HOST,
                         subscriber_id=SUBSCRIBER, justification=JUSTIFICATION)
    with app.app_context():
        assert check_evidence(utcnow) == 1
    add_note(app, protocol, cast["operator"], f"Ligar para a cliente no {CUSTOMER['phone']}.")
    act(app, protocol, "claim", cast["operator"])
    act(app, protocol, "approve", cast["operator"], valid_days=30)
    world.receiver.script.append((503, {}, ANSWER))
    with app.app_context():
        run_once()
        db.session.execute(update(WebhookEndpoint).values(next_attempt_at=None))
        db.session.commit()
        run_once()  # delivered at the retry: the case is active
        case = _case(protocol)
        notifications.queue_email(case.customer, f"Pedido {protocol}",
                                  f"Olá, {case.customer.name}. Sua exceção está ativa.",
                                  case=case)
        db.session.commit()
    act(app, protocol, "revoke", cast["operator"], reason_code=REVOKE_REASON)
    with app.app_context():
        operator = Actor(db.session.get(User, cast["operator"].id))
        on_demand.request_dossier(_case(protocol), actor=operator)
        db.session.commit()
        run_once()
    issue_pending(app)
    # The expiry reminder (30 days' validity) and ours; the activation and the revocation.
    assert len(world.inbox.messages) == 2 and len(world.receiver.accepted()) == 2
    age(app, protocol, 6)
    return protocol


def _case(protocol: str) -> Case:
    return db.session.scalars(select(Case).where(Case.protocol == protocol)).one()


def people(world: World) -> Cast:
    return Cast(world.app, customer=("customer", dict(CUSTOMER)), operator=("operator", {}),
                auditor=("auditor", {"uf": "SP"}))


def every_text(app) -> list[tuple[str, str, str]]:
    """(table, column, value) of every text column of every table of the schema."""
    found = []
    with app.app_context():
        for table in db.metadata.sorted_tables:
            columns = [c for c in table.columns if isinstance(c.type, String | Text)]
            for row in db.session.execute(select(*columns)) if columns else ():
                found += [(table.name, c.name, v) for c, v in zip(columns, row, strict=True)
                          if isinstance(v, str)]
    return found


def where(needle: str, texts) -> set[str]:
    return {f"{table}.{column}" for table, column, value in texts if needle in value}


def personal_values(app, protocol: str, user_id: int) -> list[str]:
    """What the database holds of the customer and the case, as stored."""
    with app.app_context():
        user, case = db.session.get(User, user_id), _case(protocol)
        return [user.name, user.email, user.cpf_cnpj, user.phone, user.subscriber_id,
                case.mail_hostname, case.justification, "zelador-anonimo"]


def test_after_a_run_the_personal_data_are_nowhere_in_the_database(world):
    cast = people(world)
    protocol = lived(world, cast)
    age_account(world.app, cast["customer"].id, 7)
    values = personal_values(world.app, protocol, cast["customer"].id)
    before = every_text(world.app)
    # The copies this test is about are really there before the run.
    assert {"evidence_check.facts", "case.mail_hostname"} <= where(HOST, before)
    assert {"outbox_event.body", "delivery_attempt.error"} <= where(SUBSCRIBER, before)
    assert {"case_message.body", "user_account.phone"} <= where(CUSTOMER["phone"], before)
    assert {"notification.body", "user_account.name"} <= where(CUSTOMER["name"], before)

    result = world.app.test_cli_runner().invoke(args=["retention", "run"])

    assert result.exit_code == 0, result.output
    assert "anonymised 1 case(s)" in result.output
    assert "anonymised 1 customer(s)" in result.output
    after = every_text(world.app)
    assert {value: where(value, after) for value in values} == {value: set() for value in values}
    assert {r.content for r in records_of(world.app, protocol)} == {None}
    verify = world.app.test_cli_runner().invoke(args=["audit", "verify"])
    assert verify.exit_code == 0, verify.output


def test_what_is_erased_is_counted_in_the_event_and_listed_by_the_dry_run(world):
    cast = people(world)
    protocol = lived(world, cast)
    runner = world.app.test_cli_runner()

    dry = runner.invoke(args=["retention", "run", "--dry-run"]).output
    done = runner.invoke(args=["retention", "run"]).output

    [event] = events(world.app, "retention:anonymised")
    counts = {k: v for k, v in event["details"].items() if k != "protocol"}
    # The note and the expiry reminder; receipt, approval, revocation and the dossier;
    # the four checks; activation and revocation; the answer quoting the subscriber id;
    # the reminder and our e-mail.
    assert counts == {"messages": 2, "record_files": 4, "evidence_checks": 4,
                      "outbox_events": 2, "delivery_attempts": 1, "notifications": 2,
                      "record_requests": 0}
    assert listed(dry, protocol) == counts == listed(done, protocol)
    assert event["details"]["protocol"] == protocol and CUSTOMER["name"] not in json.dumps(event)


def listed(output: str, item: str) -> dict[str, int]:
    """The counts the CLI prints for one item: "  <item>: kind=n kind=n …"."""
    [line] = [line for line in output.splitlines() if line.startswith(f"  {item}: ")]
    return {k: int(v) for k, v in (pair.split("=") for pair in line.split(": ")[1].split())}


def test_the_case_pages_and_a_new_dossier_show_the_erased_checks(world):
    cast = people(world)
    protocol = lived(world, cast)
    assert world.app.test_cli_runner().invoke(args=["retention", "run"]).exit_code == 0

    desk = signed_in(world.app, cast["operator"])
    for page in (desk.text(case_url(protocol)),
                 signed_in(world.app, cast["auditor"]).text(f"/regulador/casos/{protocol}")):
        assert page.count(ERASED) == 4 and "aprovada" in page and HOST not in page
    desk.submit(f"{case_url(protocol)}/records/dossier", page=case_url(protocol))
    issue_pending(world.app)
    dossier = records_of(world.app, protocol, "dossier")[-1]
    assert ERASED.split(";")[0] in pdf_text(dossier.content)
    data = json.loads(pdf_attachments(dossier.content)["dados.json"])
    assert [(c["outcome"], c["facts"], c["facts_erased"]) for c in data["evidence"]] == [
        ("pass", {}, True)] * 4
    assert HOST not in json.dumps(data) and SUBSCRIBER not in json.dumps(data)


def test_a_delivery_still_pending_keeps_its_event_until_a_later_run(world):
    """A disabled endpoint's pending delivery still gets the very bytes first signed; once
    it is delivered, the next run erases the subscriber id (``retention:erased``)."""
    app = world.app
    cast = people(world)
    late = Receiver(script=[(503, {}, ANSWER)] * 2).start()  # both tries while the case lives
    try:
        late_id = add_endpoint(app, late, *TYPES)
        protocol = lived(world, cast)
        _set_active(app, late_id, False)
        runner = app.test_cli_runner()

        assert "anonymised 1 case(s)" in runner.invoke(args=["retention", "run"]).output
        activated, revoked = _bodies(app, protocol)
        assert activated["data"]["subscriber_id"] == SUBSCRIBER  # its delivery is pending
        assert revoked["data"]["subscriber_id"] == ""
        assert "would erase what 0 anonymised case(s) still held" in runner.invoke(
            args=["retention", "run", "--dry-run"]).output

        _set_active(app, late_id, True)
        make_due(app, late_id)
        with app.app_context():
            run_once()
        assert [json.loads(r.body)["data"]["subscriber_id"] for r in late.accepted()] == [
            SUBSCRIBER, ""]
        result = runner.invoke(args=["retention", "run"])
    finally:
        late.stop()

    assert f"erased what 1 anonymised case(s) still held: {protocol}" in result.output
    [erased] = events(app, "retention:erased")
    assert (erased["object_id"], erased["details"]["outbox_events"],
            erased["details"]["delivery_attempts"]) == (protocol, 1, 3)  # both receivers' 503s
    assert [b["data"]["subscriber_id"] for b in _bodies(app, protocol)] == ["", ""]
    with app.app_context():
        assert not [e for e in db.session.scalars(select(DeliveryAttempt.error)) if e and
                    SUBSCRIBER in e]
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0


def _set_active(app, endpoint_id: int, active: bool) -> None:
    with app.app_context():
        endpoints.set_active(db.session.get(WebhookEndpoint, endpoint_id), active,
                             actor=Actor.system("tests"))
        db.session.commit()


def _bodies(app, protocol: str) -> list[dict]:
    with app.app_context():
        return [json.loads(body) for body in db.session.scalars(
            select(OutboxEvent.body).join(Case, Case.id == OutboxEvent.case_id)
            .where(Case.protocol == protocol).order_by(OutboxEvent.sequence))]


def test_an_email_not_yet_sent_stays_until_it_is(world):
    cast = people(world)
    protocol = lived(world, cast)
    with world.app.app_context():
        case = _case(protocol)
        notifications.queue_email(case.customer, "Assunto", "Ainda na fila.", case=case)
        db.session.commit()

    runner = world.app.test_cli_runner()
    runner.invoke(args=["retention", "run"])

    with world.app.app_context():
        assert db.session.scalars(select(Notification.body)).all() == ["Ainda na fila."]
        run_once()
    assert len(world.inbox.messages) == 3
    assert "erased what 1 anonymised case(s) still held" in runner.invoke(
        args=["retention", "run"]).output
    with world.app.app_context():
        assert db.session.scalars(select(Notification.body)).all() == []


# The evidence triggers, on the engine under test -------------------------------------

CHECKED = "203.0.113.78"


@pytest.fixture
def checked(world):
    """Two cases whose checks hold facts: one open, one marked anonymised (as retention
    does first, in its transaction) but not yet erased."""
    world.dns.add(dns.reversename.from_address(CHECKED).to_text(), "PTR", HOST + ".")
    cast = people(world)
    live = make_case(world.app, cast["customer"], target=CHECKED, mail_hostname=HOST)
    gone = make_case(world.app, cast["customer"], target=ADDRESS, mail_hostname=HOST)
    with world.app.app_context():
        assert check_evidence(utcnow) == 2
        db.session.execute(update(Case).where(Case.protocol == gone)
                           .values(anonymised_at=utcnow()))
        db.session.commit()
        ids = {p: _case(p).id for p in (live, gone)}
    return world.app, ids[live], ids[gone]


def _refused(app, statement: str, **params) -> None:
    with app.app_context(), pytest.raises(Exception, match="insert-only"):
        db.session.execute(text(statement), params)
    with app.app_context():
        assert "{}" not in db.session.scalars(select(EvidenceCheck.facts)).all()


def test_the_facts_of_an_open_case_cannot_be_erased(checked):
    app, live, gone = checked
    _refused(app, "UPDATE evidence_check SET facts = '{}' WHERE case_id = :case", case=live)


@pytest.mark.parametrize("change", [
    "outcome = 'fail'", "detail = 'ptr.nodata'", "kind = 'mx'", "id = id + 1000",
    "run_id = run_id + 1000", "case_id = :other", "checked_at = '2001-01-01 00:00:00'",
])
def test_erasing_the_facts_changes_nothing_else(checked, change):
    app, live, gone = checked
    _refused(app, f"UPDATE evidence_check SET facts = '{{}}', {change} WHERE case_id = :case",
             case=gone, other=live)


@pytest.mark.parametrize("statement", [
    "UPDATE evidence_check SET facts = '{\"address\": \"x\"}' WHERE case_id = :case",
    "UPDATE evidence_check SET outcome = 'pass' WHERE case_id = :case",
    "DELETE FROM evidence_check WHERE case_id = :case",
])
def test_an_anonymised_cases_checks_refuse_any_other_change(checked, statement):
    app, live, gone = checked
    _refused(app, statement, case=gone)


def test_the_one_update_allowed_is_the_erasure_of_an_anonymised_cases_facts(checked):
    app, live, gone = checked
    with app.app_context():
        before = db.session.execute(select(EvidenceCheck.id, EvidenceCheck.outcome,
                                           EvidenceCheck.detail, EvidenceCheck.checked_at)
                                    .where(EvidenceCheck.case_id == gone)).all()
        db.session.execute(text("UPDATE evidence_check SET facts = '{}' WHERE case_id = :c"),
                           {"c": gone})
        db.session.commit()
        after = db.session.execute(select(EvidenceCheck.id, EvidenceCheck.outcome,
                                          EvidenceCheck.detail, EvidenceCheck.checked_at)
                                   .where(EvidenceCheck.case_id == gone)).all()
        facts = db.session.scalars(select(EvidenceCheck.facts)
                                   .where(EvidenceCheck.case_id == gone)).all()
    assert after == before and facts == ["{}"] * 4
