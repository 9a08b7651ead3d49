"""What address a customer may ask to open (DESIGN §4): normalised, eligible, not taken."""

from __future__ import annotations

import ipaddress

import pytest
from sqlalchemy import select

from models import Case, db
from tests.factories import (
    act,
    case_in,
    make_case,
    make_people,
    refusal,
    status_of,
)
from workflow.errors import Conflict, InvalidInput
from workflow.targets import parse_target


@pytest.fixture(scope="module")
def people(module_app):
    return make_people(module_app, "customer", "stranger", "operator")


def parsed(app, raw: str) -> str:
    with app.app_context():
        return parse_target(raw, app.config["ISP_PREFIXES"]).text


def refused_message(app, raw: str) -> str:
    """The Portuguese message that refuses ``raw`` (rendered as a page would)."""
    with app.test_request_context(), pytest.raises(InvalidInput) as refused:
        parse_target(raw, app.config["ISP_PREFIXES"])
    assert refused.value.field == "target"
    with app.test_request_context():
        return str(refused.value.message)


@pytest.mark.parametrize(("raw", "normalised"), [
    ("203.0.113.7", "203.0.113.7/32"),
    ("  203.0.113.7/32 ", "203.0.113.7/32"),
    ("203.0.113.8/29", "203.0.113.8/29"),
    ("198.51.100.255", "198.51.100.255/32"),
    ("2001:db8::7", "2001:db8::7/128"),
    ("2001:DB8:0:0::7", "2001:db8::7/128"),
    ("2001:db8:1:2::/64", "2001:db8:1:2::/64"),
    ("2001:db8::/120", "2001:db8::/120"),
])
def test_an_address_is_normalised_to_a_prefix(module_app, raw, normalised):
    assert parsed(module_app, raw) == normalised


@pytest.mark.parametrize(("raw", "message"), [
    ("10.1.2.3", "10.1.2.3/32 é um endereço privado e não pode receber exceção."),
    ("172.16.0.1", "172.16.0.1/32 é um endereço privado"),
    ("192.168.1.1", "192.168.1.1/32 é um endereço privado"),
    ("100.64.0.1", "100.64.0.1/32 é um endereço privado"),
    ("fc00::1", "fc00::1/128 é um endereço privado"),
    ("fd12:3456::1", "fd12:3456::1/128 é um endereço privado"),
    ("127.0.0.1", "127.0.0.1/32 é um endereço de loopback"),
    ("::1", "::1/128 é um endereço de loopback"),
    ("169.254.10.1", "169.254.10.1/32 é um endereço link-local"),
    ("fe80::1", "fe80::1/128 é um endereço link-local"),
    ("224.0.0.1", "224.0.0.1/32 é um endereço multicast"),
    ("ff02::1", "ff02::1/128 é um endereço multicast"),
    ("0.0.0.1", "0.0.0.1/32 é um endereço reservado"),
    ("240.0.0.1", "240.0.0.1/32 é um endereço reservado"),
    ("255.255.255.255", "255.255.255.255/32 é um endereço reservado"),
    ("::", "::/128 é um endereço reservado"),
    ("8.8.8.8", "8.8.8.8/32 não pertence à rede deste provedor."),
    ("2001:4860::8888", "2001:4860::8888/128 não pertence à rede deste provedor."),
    ("203.0.112.255", "203.0.112.255/32 não pertence à rede deste provedor."),
    ("203.0.113.0/28", "Prefixos IPv4 podem ter no máximo 8 endereços (/29); "
                       "203.0.113.0/28 é maior."),
    ("2001:db8::/48", "Prefixos IPv6 devem estar entre /64 e /128; 2001:db8::/48 é maior."),
    ("203.0.113.9/29", "203.0.113.9/29 tem bits de host definidos. "
                       "Você quis dizer 203.0.113.8/29?"),
    ("2001:db8::1/64", "2001:db8::1/64 tem bits de host definidos. "
                       "Você quis dizer 2001:db8::/64?"),
    ("", "Informe o endereço IP ou prefixo."),
    ("mail.exemplo.com.br", "“mail.exemplo.com.br” não é um endereço IPv4/IPv6 ou prefixo"),
    ("203.0.113.300", "“203.0.113.300” não é um endereço IPv4/IPv6 ou prefixo válido."),
    ("203.0.113.7/33", "“203.0.113.7/33” não é um endereço"),
    ("2001:db8::g", "“2001:db8::g” não é um endereço"),
])
def test_an_ineligible_address_is_refused_saying_why(module_app, raw, message):
    assert message in refused_message(module_app, raw)


def test_only_the_isp_prefixes_of_the_settings_are_eligible(app_factory):
    app = app_factory(ISP_PREFIXES=(ipaddress.ip_network("198.51.100.0/24"),))
    assert parsed(app, "198.51.100.7") == "198.51.100.7/32"
    assert "não pertence à rede" in refused_message(app, "203.0.113.7")


@pytest.mark.parametrize(("existing", "asked"), [
    ("203.0.113.17", "203.0.113.16/29"),  # a /29 covering an open /32
    ("203.0.113.32/29", "203.0.113.35"),  # a /32 inside an open /29
    ("203.0.113.48/29", "203.0.113.48/29"),  # the very same prefix
    ("2001:db8:77::5", "2001:db8:77::/120"),
    ("2001:db8:78::/64", "2001:db8:78::ffff:ffff:ffff:ffff"),  # the last /128 of an open /64
    ("203.0.113.64/29", "203.0.113.71"),  # the last address of an open /29
])
def test_a_target_overlapping_an_open_case_is_refused(module_app, people, existing, asked):
    make_case(module_app, people.customer, target=existing)
    with pytest.raises(Conflict) as refused:
        make_case(module_app, people.stranger, target=asked)
    assert refused.value.field == "target"
    with module_app.test_request_context():
        assert "Já existe um pedido aberto ou uma exceção ativa" in str(refused.value.message)


def test_the_same_customer_is_told_which_of_their_cases_holds_the_target(module_app, people):
    protocol = make_case(module_app, people.customer, target="198.51.100.64/29")
    with pytest.raises(Conflict) as refused:
        make_case(module_app, people.customer, target="198.51.100.66")
    with module_app.test_request_context():
        assert f"Você já tem o pedido {protocol}" in str(refused.value.message)


def test_adjacent_prefixes_do_not_overlap(module_app, people):
    make_case(module_app, people.customer, target="198.51.100.8/29")
    assert make_case(module_app, people.stranger, target="198.51.100.16/29")


@pytest.mark.parametrize("status", ["submitted", "in_review", "awaiting_customer",
                                    "pending_second_approval", "approved", "active",
                                    "appealed"])
def test_an_open_or_active_case_holds_its_target(module_app, people, status):
    protocol = case_in(module_app, status, people)
    with module_app.app_context():
        target = db.session.scalars(select(Case.target).where(Case.protocol == protocol)).one()
    with pytest.raises(Conflict):
        make_case(module_app, people.stranger, target=target)


@pytest.mark.parametrize("status", ["rejected", "cancelled", "revoked", "expired"])
def test_a_closed_cases_target_may_be_asked_for_again(module_app, people, status):
    target = f"2001:db8:c105:{['rejected', 'cancelled', 'revoked', 'expired'].index(status)}::9"
    first = case_in(module_app, status, people, target=target)
    second = make_case(module_app, people.stranger, target=target)
    assert status_of(module_app, first) == status and status_of(module_app, second) == "submitted"


def test_an_appeal_is_refused_while_someone_else_holds_the_target(module_app, people):
    target = "2001:db8:a99e::1"
    rejected = case_in(module_app, "rejected", people, target=target)
    make_case(module_app, people.stranger, target=target)
    error = refusal(module_app, rejected, "appeal", people.customer, message="Recurso.")
    assert isinstance(error, Conflict) and error.field == "target"


def test_an_appeal_reopens_the_target_when_it_is_free(module_app, people):
    rejected = case_in(module_app, "rejected", people, target="2001:db8:a99e::2")
    assert act(module_app, rejected, "appeal", people.customer, message="Recurso.") == "appealed"
    with pytest.raises(Conflict):
        make_case(module_app, people.stranger, target="2001:db8:a99e::2")
