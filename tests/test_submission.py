"""What a request must hold (DESIGN §4) besides its target: each bad field is named,
and a refused request stores nothing (no case, no protocol number, no audit event)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from models import AuditEvent, Case, ProtocolCounter, db
from tests.factories import make_case, make_people, make_user, unique_target
from workflow.errors import InvalidInput


@pytest.fixture(scope="module")
def people(module_app):
    people = make_people(module_app, "customer", "operator")
    make_case(module_app, people.customer, target=unique_target())  # the year's counter exists
    return people


def stored(app):
    with app.app_context():
        return (db.session.scalar(select(func.count()).select_from(Case)),
                db.session.scalar(select(func.max(AuditEvent.seq))),
                db.session.execute(select(ProtocolCounter.year, ProtocolCounter.last)).all())


@pytest.mark.parametrize(("override", "field"), [
    ({"subscriber_id": ""}, "subscriber_id"),
    ({"subscriber_id": "CTR 42"}, "subscriber_id"),
    ({"subscriber_id": "C" * 65}, "subscriber_id"),
    ({"category": "spam"}, "category"),
    ({"justification": "curta demais" + " " * 40}, "justification"),
    ({"justification": "x" * 29}, "justification"),
    ({"justification": "x" * 4001}, "justification"),
    ({"mail_hostname": "localhost"}, "mail_hostname"),
    ({"mail_hostname": "mail_1.exemplo.com.br"}, "mail_hostname"),
    ({"mail_hostname": "-mail.exemplo.com.br"}, "mail_hostname"),
    ({"terms_version": "2020-01"}, "accepted_terms_version"),
    ({"messages_per_day": -1}, "sending_profile"),
    ({"messages_per_day": 10_000_001}, "sending_profile"),
    ({"sending_kind": "spam"}, "sending_profile"),
    ({"target": "10.0.0.1"}, "target"),
])
def test_a_bad_field_is_named_and_nothing_is_stored(module_app, people, override, field):
    before = stored(module_app)
    with pytest.raises(InvalidInput) as refused:
        make_case(module_app, people.customer, **{"target": unique_target(), **override})
    assert refused.value.field == field
    assert stored(module_app) == before


@pytest.mark.parametrize(("override", "kept"), [
    ({"justification": "  " + "x" * 30 + "  "}, {"justification": "x" * 30}),
    ({"mail_hostname": "Mail.Exemplo.COM.br."}, {"mail_hostname": "mail.exemplo.com.br"}),
    ({"subscriber_id": " CTR-0042/1 "}, {"subscriber_id": "CTR-0042/1"}),
    ({"messages_per_day": 500, "sending_kind": "bulk"},
     {"messages_per_day": 500, "sending_kind": "bulk"}),
])
def test_fields_are_kept_normalised(module_app, people, override, kept):
    protocol = make_case(module_app, people.customer, target=unique_target(), **override)
    with module_app.app_context():
        case = db.session.scalars(select(Case).where(Case.protocol == protocol)).one()
        assert {name: getattr(case, name) for name in kept} == kept


def test_only_a_customer_can_be_the_one_who_asks(module_app, people):
    before = stored(module_app)
    with pytest.raises(InvalidInput) as refused:
        make_case(module_app, people.operator)
    assert refused.value.field == "customer_email"
    assert stored(module_app) == before


def test_the_request_records_the_terms_and_the_customers_state(module_app):
    customer = make_user(module_app, uf="BA")
    protocol = make_case(module_app, customer, target="2001:db8:5d::1")
    with module_app.app_context():
        case = db.session.scalars(select(Case).where(Case.protocol == protocol)).one()
        assert (case.uf, case.terms_version, case.terms_accepted_from) == (
            "BA", "2026-11", "127.0.0.1")
        assert case.terms_accepted_at == case.submitted_at
