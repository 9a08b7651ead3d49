"""Evidence checks through the real worker step, a real DNS server on loopback and the
desk's pages: what the operator reads, what a re-check does, what the customer never sees."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import dns.reversename
import pytest
from sqlalchemy import func, select, text

from cli.worker import check_evidence, run_forever
from models import AuditEvent, Case, EvidenceCheck, EvidenceRun, User, db, utcnow
from tests.desk_support import case_url, signed_in
from tests.dns_support import DeadServer, DnsServer, txt
from tests.factories import case_in, make_case, make_people
from workflow import evidence
from workflow.audit import Actor
from workflow.errors import Forbidden

HOST = "mail.exemplo.com.br"


@pytest.fixture
def server():
    started = DnsServer().start()
    yield started
    started.stop()


@pytest.fixture
def dns_app(app_factory, server):
    return app_factory(EVIDENCE_RESOLVERS=server.resolvers, EVIDENCE_TIMEOUT_SECONDS=1.0)


@pytest.fixture
def people(dns_app):
    return make_people(dns_app, "customer", "operator", "auditor")


def healthy(server: DnsServer, address: str = "203.0.113.7", host: str = HOST) -> None:
    """A mail server as it should be: PTR, forward name, SPF and MX all in place."""
    version = 6 if ":" in address else 4
    server.add(_reverse(address), "PTR", host + ".")
    server.add(host, "A" if version == 4 else "AAAA", address)
    server.add("exemplo.com.br", "TXT", txt(f"v=spf1 mx ip{version}:{address} -all"))
    server.add("exemplo.com.br", "MX", f"10 {host}.")


def _reverse(address: str) -> str:
    return dns.reversename.from_address(address).to_text()


def work(app) -> int:
    """The worker's evidence step, until nothing is due."""
    with app.app_context():
        return check_evidence(utcnow, limit=100)


def outcomes(app, protocol: str) -> dict[str, tuple[str, str]]:
    """kind -> (outcome, worded detail) of the case's latest round."""
    with app.test_request_context():
        case = db.session.scalars(select(Case).where(Case.protocol == protocol)).one()
        return {c.kind.value: (c.outcome.value, evidence.describe(c))
                for c in evidence.checks_for(case)}


def runs_of(app, protocol: str) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(EvidenceRun).join(
            Case, Case.id == EvidenceRun.case_id).where(Case.protocol == protocol))


def test_a_well_configured_mail_server_passes_every_check(dns_app, server, people):
    healthy(server)
    protocol = make_case(dns_app, people.customer, target="203.0.113.7", mail_hostname=HOST)
    assert work(dns_app) == 1
    assert outcomes(dns_app, protocol) == {
        "ptr": ("pass", "203.0.113.7 aponta para mail.exemplo.com.br, o servidor de e-mail "
                        "informado."),
        "fcrdns": ("pass", "mail.exemplo.com.br resolve de volta para 203.0.113.7."),
        "spf": ("pass", "O SPF de exemplo.com.br autoriza 203.0.113.7 (mx)."),
        "mx": ("pass", "exemplo.com.br recebe e-mail em mail.exemplo.com.br; "
                       "mail.exemplo.com.br é um deles."),
    }
    assert work(dns_app) == 0  # checked once; nothing is due until someone asks again


def test_a_missing_ptr_fails_and_leaves_nothing_to_confirm(dns_app, server, people):
    healthy(server, "203.0.113.8")
    server.records.pop((_reverse("203.0.113.8"), "PTR"))
    protocol = make_case(dns_app, people.customer, target="203.0.113.8", mail_hostname=HOST)
    work(dns_app)
    found = outcomes(dns_app, protocol)
    assert found["ptr"] == ("fail", "203.0.113.8 não tem nome reverso (NXDOMAIN).")
    assert found["fcrdns"] == ("not_applicable", "Sem nome reverso, não há o que confirmar.")
    assert found["spf"][0] == found["mx"][0] == "pass"


def test_a_ptr_that_does_not_resolve_back_fails_forward_confirmation(dns_app, server, people):
    healthy(server, "203.0.113.9")
    server.records[(_reverse("203.0.113.9"), "PTR")] = ["cliente-9.provedor.net."]
    server.add("cliente-9.provedor.net", "A", "198.51.100.99")
    protocol = make_case(dns_app, people.customer, target="203.0.113.9", mail_hostname=HOST)
    work(dns_app)
    found = outcomes(dns_app, protocol)
    assert found["ptr"] == ("pass", "203.0.113.9 aponta para cliente-9.provedor.net, não para "
                                    "mail.exemplo.com.br.")
    assert found["fcrdns"] == ("fail", "Nenhum nome reverso (cliente-9.provedor.net) resolve "
                                       "para 203.0.113.9; eles resolvem para 198.51.100.99.")


def test_spf_that_does_not_authorise_the_target_fails(dns_app, server, people):
    healthy(server, "203.0.113.10")
    server.records[("exemplo.com.br.", "TXT")] = [txt("v=spf1 ip4:198.51.100.0/24 -all")]
    protocol = make_case(dns_app, people.customer, target="203.0.113.10", mail_hostname=HOST)
    work(dns_app)
    assert outcomes(dns_app, protocol)["spf"] == (
        "fail", "O SPF de exemplo.com.br não autoriza 203.0.113.10: resultado fail em -all.")


def test_no_mx_and_no_spf_are_reported_with_the_domains_asked(dns_app, server, people):
    protocol = make_case(dns_app, people.customer, target="203.0.113.11",
                         mail_hostname="mail.outro.net")
    work(dns_app)
    found = outcomes(dns_app, protocol)
    assert found["spf"] == ("fail", "Nenhum registro SPF em mail.outro.net, outro.net.")
    assert found["mx"] == ("fail", "Nenhum MX em mail.outro.net, outro.net.")


def test_an_ipv6_target_is_checked_through_ip6_arpa_and_aaaa(dns_app, server, people):
    healthy(server, "2001:db8:25::25")
    protocol = make_case(dns_app, people.customer, target="2001:db8:25::25", mail_hostname=HOST)
    work(dns_app)
    found = outcomes(dns_app, protocol)
    assert {kind: outcome for kind, (outcome, _) in found.items()} == {
        "ptr": "pass", "fcrdns": "pass", "spf": "pass", "mx": "pass"}
    assert "ip6.arpa" in " ".join(server.asked("PTR"))
    assert HOST in server.asked("AAAA")


def test_a_prefix_is_checked_at_the_mail_hosts_address_inside_it(dns_app, server, people):
    healthy(server, "203.0.113.21")
    protocol = make_case(dns_app, people.customer, target="203.0.113.16/29", mail_hostname=HOST)
    other = make_case(dns_app, people.customer, target="198.51.100.8/29",
                      mail_hostname="mail.outro.net")
    work(dns_app)
    assert outcomes(dns_app, protocol)["ptr"][0] == "pass"
    operator = signed_in(dns_app, people.operator)
    assert ("Endereço verificado: 203.0.113.21, o endereço do servidor de e-mail dentro do "
            "prefixo.") in operator.text(case_url(protocol))
    assert ("Endereço verificado: 198.51.100.9, o primeiro endereço utilizável do prefixo "
            "(o servidor de e-mail não aponta para dentro dele).") in operator.text(case_url(other))


def test_a_resolver_that_never_answers_gives_errors_within_the_limits(app_factory):
    dead = DeadServer()
    try:
        app = app_factory(EVIDENCE_RESOLVERS=dead.resolvers, EVIDENCE_TIMEOUT_SECONDS=0.3)
        people = make_people(app, "customer")
        first = make_case(app, people.customer, target="203.0.113.30")
        second = make_case(app, people.customer, target="203.0.113.31")
        started = time.monotonic()
        assert work(app) == 2  # the worker goes on to the next case
        elapsed = time.monotonic() - started
    finally:
        dead.stop()
    # Per case: PTR, SPF and MX each wait one timeout (FCrDNS needs the PTR): ~0.9 s.
    assert elapsed < 2 * (5 * 0.3) + 1.0
    for protocol in (first, second):
        found = outcomes(app, protocol)
        assert {outcome for outcome, _ in found.values()} == {"error"}
        assert found["ptr"][1].startswith("Sem resposta do DNS em 0.3 s para ")
        assert found["fcrdns"][1] == "Não verificado: a consulta do PTR falhou."


def test_the_worker_thread_checks_a_new_case_by_itself(dns_app, server, people):
    healthy(server, "203.0.113.40")
    stop = threading.Event()
    thread = threading.Thread(target=_run_forever, args=(dns_app, stop), daemon=True)
    thread.start()
    try:
        protocol = make_case(dns_app, people.customer, target="203.0.113.40",
                             mail_hostname=HOST)
        deadline = time.monotonic() + 15
        while not outcomes(dns_app, protocol) and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        stop.set()
        thread.join(15)
    assert not thread.is_alive()
    assert outcomes(dns_app, protocol)["spf"][0] == "pass"


def _run_forever(app, stop):
    with app.app_context():
        run_forever(stop)


def test_the_operator_and_the_auditor_see_the_checks_and_the_customer_does_not(
        dns_app, server, people):
    healthy(server, "203.0.113.50")
    protocol = make_case(dns_app, people.customer, target="203.0.113.50", mail_hostname=HOST)
    page = signed_in(dns_app, people.operator).text(case_url(protocol))
    assert "Ainda não verificado" in page
    work(dns_app)
    page = signed_in(dns_app, people.operator).text(case_url(protocol))
    for seen in ("Verificações automáticas", "DNS reverso (PTR)",
                 "DNS reverso confirmado (FCrDNS)", "SPF do domínio",
                 "MX do domínio (informativo)", "aprovada",
                 "O SPF de exemplo.com.br autoriza 203.0.113.50", "Rodada automática",
                 f"Resolvedor: 127.0.0.1:{server.port}.", "Verificar novamente"):
        assert seen in page, seen
    audit_page = signed_in(dns_app, people.auditor).text(f"/regulador/casos/{protocol}")
    assert "O SPF de exemplo.com.br autoriza 203.0.113.50" in audit_page
    assert "Verificar novamente" not in audit_page  # auditors read only
    customer_page = signed_in(dns_app, people.customer).text(f"/portal/cases/{protocol}")
    assert protocol in customer_page
    for hidden in ("Verificações automáticas", "SPF do domínio", "autoriza", "aponta para"):
        assert hidden not in customer_page, hidden


def test_staff_ask_again_and_the_worker_runs_a_new_round(dns_app, server, people):
    healthy(server, "203.0.113.60")
    server.records[("exemplo.com.br.", "TXT")] = [txt("v=spf1 -all")]
    protocol = make_case(dns_app, people.customer, target="203.0.113.60", mail_hostname=HOST)
    work(dns_app)
    assert outcomes(dns_app, protocol)["spf"][0] == "fail"
    server.records[("exemplo.com.br.", "TXT")] = [txt("v=spf1 ip4:203.0.113.60 -all")]  # fixed

    operator = signed_in(dns_app, people.operator)
    response = operator.submit(f"{case_url(protocol)}/evidence", page=case_url(protocol))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Verificação pedida" in page and "Verificação na fila desde" in page
    assert "Verificar novamente</button>" not in page  # one round waits at a time
    operator.submit(f"{case_url(protocol)}/evidence", page=case_url(protocol))  # a double click
    assert runs_of(dns_app, protocol) == 2
    assert _tags(dns_app, protocol).count("case:evidence_requested") == 1

    assert work(dns_app) == 1
    assert outcomes(dns_app, protocol)["spf"][0] == "pass"
    page = operator.text(case_url(protocol))
    assert "Rodada pedida pela equipe" in page and "Verificações automáticas pedidas" in page
    with dns_app.app_context():  # the first round is kept as it was
        assert db.session.scalar(select(func.count()).select_from(EvidenceCheck)) == 8
    customer_page = signed_in(dns_app, people.customer).text(f"/portal/cases/{protocol}")
    assert "evidence" not in customer_page and "Verificações" not in customer_page


def _tags(app, protocol: str) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent.action).where(
            AuditEvent.object_id == protocol).order_by(AuditEvent.seq)))


@pytest.mark.parametrize("who", ["auditor", "customer"])
def test_only_staff_may_ask_again(dns_app, people, who):
    protocol = make_case(dns_app, people.customer)
    browser = signed_in(dns_app, getattr(people, who))
    token = browser.csrf_token("/portal/" if who == "customer" else "/regulador/")
    response = browser.client.post(f"{case_url(protocol)}/evidence", data={"csrf_token": token})
    assert response.status_code == 403
    assert runs_of(dns_app, protocol) == 0


def test_asking_again_without_the_form_token_stores_nothing(dns_app, people):
    protocol = make_case(dns_app, people.customer)
    operator = signed_in(dns_app, people.operator)
    response = operator.client.post(f"{case_url(protocol)}/evidence")
    assert response.status_code == 400
    assert runs_of(dns_app, protocol) == 0


def test_a_closed_case_keeps_its_checks_as_they_were(dns_app, people):
    protocol = case_in(dns_app, "cancelled", people)
    operator = signed_in(dns_app, people.operator)
    assert "Verificar novamente" not in operator.text(case_url(protocol))
    response = operator.submit(f"{case_url(protocol)}/evidence", page=case_url(protocol))
    assert "O caso está encerrado: as verificações ficam como estavam." in response.get_data(
        as_text=True)
    assert runs_of(dns_app, protocol) == 0
    assert work(dns_app) == 0  # closed cases are not checked for the first time either


def test_a_round_whose_worker_died_is_taken_over_then_given_up(dns_app, people):
    protocol = make_case(dns_app, people.customer)
    lease = dns_app.config["WORKER_LEASE_SECONDS"]
    now = utcnow()
    with dns_app.app_context():
        first = evidence.claim_next(now)
        db.session.commit()
        assert evidence.claim_next(now) is None  # leased
        for n in (1, 2):
            again = evidence.claim_next(now + timedelta(seconds=n * (lease + 1)))
            db.session.commit()
            assert again.run_id == first.run_id
        assert evidence.claim_next(now + timedelta(seconds=3 * (lease + 1))) is None
        db.session.commit()
    found = outcomes(dns_app, protocol)
    assert set(found.values()) == {("error", "A verificação não pôde ser feita; peça de novo.")}


def test_checks_are_insert_only(dns_app, server, people):
    healthy(server, "203.0.113.70")
    make_case(dns_app, people.customer, target="203.0.113.70", mail_hostname=HOST)
    work(dns_app)
    for statement in ("UPDATE evidence_check SET outcome = 'pass'", "DELETE FROM evidence_check"):
        with dns_app.app_context(), pytest.raises(Exception, match="insert-only"):
            db.session.execute(text(statement))
    with dns_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(EvidenceCheck)) == 4


def test_the_verb_refuses_people_outside_the_staff(dns_app, people):
    protocol = make_case(dns_app, people.customer)
    with dns_app.app_context():
        case = db.session.scalars(select(Case).where(Case.protocol == protocol)).one()
        auditor = db.session.get(User, people.auditor.id)
        with pytest.raises(Forbidden):
            evidence.request_checks(case, actor=Actor(auditor))
