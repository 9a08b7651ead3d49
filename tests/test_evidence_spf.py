"""SPF, PTR and MX checks against a real DNS server on loopback (tests/dns_support.py):
the evaluator's answers for the policies operators meet, one zone per test."""

from __future__ import annotations

from ipaddress import ip_address

import pytest

from models import EvidenceOutcome
from tests.dns_support import DnsServer, txt
from workflow.evidence_checks import check_mx, check_spf, domains_of
from workflow.evidence_dns import Dns

HOST = "mail.exemplo.com.br"
IP = "203.0.113.7"


@pytest.fixture
def server():
    started = DnsServer().start()
    yield started
    started.stop()


def spf(server: DnsServer, address: str = IP, host: str = HOST, timeout: float = 1.0):
    return check_spf(Dns(server.resolvers, timeout), ip_address(address), host)


def publish(server: DnsServer, zone: dict[str, list[tuple[str, str]]]) -> None:
    for name, records in zone.items():
        for rdtype, value in records:
            server.add(name, rdtype, txt(value) if rdtype == "TXT" else value)


# name -> [(type, value)]; the policy sits at the parent of the mail host unless said.
AUTHORISING = {
    "ip4 with a CIDR": ({"exemplo.com.br": [("TXT", "v=spf1 ip4:203.0.113.0/28 -all")]},
                        "ip4:203.0.113.0/28"),
    "include": ({"exemplo.com.br": [("TXT", "v=spf1 include:_spf.provedor.net -all")],
                 "_spf.provedor.net": [("TXT", "v=spf1 ip4:198.51.100.0/24 ip4:203.0.113.7 "
                                               "~all")]},
                "include:_spf.provedor.net → ip4:203.0.113.7"),
    "a": ({"exemplo.com.br": [("TXT", "v=spf1 a:smtp.exemplo.com.br -all")],
           "smtp.exemplo.com.br": [("A", "203.0.113.7")]}, "a:smtp.exemplo.com.br"),
    "a/24 of the domain itself": ({"exemplo.com.br": [("TXT", "v=spf1 a/24 -all"),
                                                      ("A", "203.0.113.200")]}, "a/24"),
    "mx": ({"exemplo.com.br": [("TXT", "v=spf1 mx -all"), ("MX", "10 mx1.exemplo.com.br."),
                               ("MX", "20 mx2.exemplo.com.br.")],
            "mx1.exemplo.com.br": [("A", "198.51.100.9")],
            "mx2.exemplo.com.br": [("A", "203.0.113.7")]}, "mx"),
    "redirect": ({"exemplo.com.br": [("TXT", "v=spf1 redirect=_spf.exemplo.net")],
                  "_spf.exemplo.net": [("TXT", "v=spf1 ip4:203.0.113.0/24 -all")]},
                 "redirect=_spf.exemplo.net → ip4:203.0.113.0/24"),
    "the mail host's own record first": (
        {HOST: [("TXT", "v=spf1 ip4:203.0.113.7 -all")],
         "exemplo.com.br": [("TXT", "v=spf1 -all")]}, "ip4:203.0.113.7"),
    "exists with macros": (
        {"exemplo.com.br": [("TXT", "v=spf1 exists:%{ir}.%{v}._spf.%{d} -all")],
         "7.113.0.203.in-addr._spf.exemplo.com.br": [("A", "127.0.0.2")]},
        "exists:%{ir}.%{v}._spf.%{d}"),
}


@pytest.mark.parametrize("case", AUTHORISING, ids=list(AUTHORISING))
def test_spf_authorises_the_target(server, case):
    zone, path = AUTHORISING[case]
    publish(server, zone)
    finding = spf(server)
    assert (finding.outcome, finding.detail) == (EvidenceOutcome.PASS, "spf.pass")
    assert finding.facts["path"] == path


NOT_AUTHORISING = {
    "-all": ("v=spf1 ip4:198.51.100.0/24 -all", "spf.not_authorised", "fail", "-all"),
    "~all": ("v=spf1 ip4:198.51.100.0/24 ~all", "spf.not_authorised", "softfail", "~all"),
    "no all": ("v=spf1 ip4:198.51.100.0/24", "spf.no_match", "neutral", ""),
    "a bad term": ("v=spf1 ip4:203.0.113.300 -all", "spf.syntax", "permerror", ""),
    "an unknown mechanism": ("v=spf1 foo:bar -all", "spf.syntax", "permerror", ""),
    "include without SPF": ("v=spf1 include:nada.exemplo.net -all", "spf.include_none",
                            "permerror", ""),
    "three void lookups": ("v=spf1 a:x1.exemplo.net a:x2.exemplo.net a:x3.exemplo.net -all",
                           "spf.void_lookups", "permerror", ""),
}


@pytest.mark.parametrize("case", NOT_AUTHORISING, ids=list(NOT_AUTHORISING))
def test_spf_that_does_not_cover_the_target_fails(server, case):
    record, detail, result, path = NOT_AUTHORISING[case]
    publish(server, {"exemplo.com.br": [("TXT", record)], "nada.exemplo.net": [("A", "1.2.3.4")]})
    finding = spf(server)
    assert (finding.outcome, finding.detail) == (EvidenceOutcome.FAIL, detail)
    assert (finding.facts["result"], finding.facts["path"]) == (result, path)


def test_no_spf_anywhere_names_every_domain_asked(server):
    publish(server, {"exemplo.com.br": [("TXT", "google-site-verification=abc")]})
    finding = spf(server)
    assert (finding.outcome, finding.detail) == (EvidenceOutcome.FAIL, "spf.none")
    assert finding.facts["domains"] == "mail.exemplo.com.br, exemplo.com.br, com.br"
    assert server.asked("TXT") == ["mail.exemplo.com.br", "exemplo.com.br", "com.br"]


def test_two_spf_records_are_a_permanent_error(server):
    publish(server, {"exemplo.com.br": [("TXT", "v=spf1 -all"), ("TXT", "v=spf1 +all")]})
    assert spf(server).detail == "spf.multiple"


def test_more_than_ten_lookups_is_a_permanent_error_and_stops_asking(server):
    chain = {f"n{i}.exemplo.net": [("TXT", f"v=spf1 include:n{i + 1}.exemplo.net -all")]
             for i in range(15)}
    publish(server, {"exemplo.com.br": [("TXT", "v=spf1 include:n0.exemplo.net -all")],
                     **chain})
    finding = spf(server)
    assert (finding.outcome, finding.detail) == (EvidenceOutcome.FAIL, "spf.too_many_lookups")
    assert finding.facts["limit"] == 10
    asked = server.asked("TXT")
    assert "n9.exemplo.net" in asked  # include:n0 … include:n9 are the ten terms allowed
    assert "n10.exemplo.net" not in asked  # the 11th is refused before it is queried


def test_an_include_loop_ends_at_the_limit(server):
    publish(server, {"exemplo.com.br": [("TXT", "v=spf1 include:exemplo.com.br -all")]})
    assert spf(server).detail == "spf.too_many_lookups"


def test_a_long_record_comes_over_tcp(server):
    many = " ".join(f"ip4:198.51.{i}.0/24" for i in range(70))
    publish(server, {"exemplo.com.br": [("TXT", f"v=spf1 {many} ip4:203.0.113.7 -all")]})
    assert spf(server).outcome is EvidenceOutcome.PASS
    assert ("exemplo.com.br", "TXT", "tcp") in server.queries  # truncated over UDP first


def test_ip6_authorises_an_ipv6_target(server):
    publish(server, {"exemplo.com.br": [("TXT", "v=spf1 ip4:203.0.113.0/24 ip6:2001:db8:25::/48 "
                                                "-all")]})
    finding = spf(server, address="2001:db8:25::7")
    assert finding.outcome is EvidenceOutcome.PASS
    assert finding.facts["path"] == "ip6:2001:db8:25::/48"


def test_a_servfail_is_an_error_not_a_failure(server):
    server.servfail.add("exemplo.com.br.")
    finding = spf(server)
    assert (finding.outcome, finding.detail) == (EvidenceOutcome.ERROR, "dns.servfail")
    assert finding.facts["name"] == "exemplo.com.br"


def test_a_silent_include_is_an_error_within_the_timeout(server):
    publish(server, {"exemplo.com.br": [("TXT", "v=spf1 include:lento.exemplo.net -all")]})
    server.silent.add("lento.exemplo.net.")
    finding = spf(server, timeout=0.3)
    assert (finding.outcome, finding.detail) == (EvidenceOutcome.ERROR, "dns.timeout")
    assert finding.facts == {**finding.facts, "name": "lento.exemplo.net", "type": "TXT",
                             "seconds": "0.3"}


MX = {
    "the host is an MX": ([("MX", "10 mail.exemplo.com.br.")], EvidenceOutcome.PASS,
                          "mx.is_host"),
    "other MX": ([("MX", "10 mx.provedor.net.")], EvidenceOutcome.PASS, "mx.other_hosts"),
    "null MX": ([("MX", "0 .")], EvidenceOutcome.FAIL, "mx.null"),
    "no MX": ([("A", "203.0.113.7")], EvidenceOutcome.FAIL, "mx.none"),
}


@pytest.mark.parametrize("case", MX, ids=list(MX))
def test_mx_of_the_mail_hosts_domain(server, case):
    records, outcome, detail = MX[case]
    publish(server, {"exemplo.com.br": records})
    finding = check_mx(Dns(server.resolvers, 1.0), HOST)
    assert (finding.outcome, finding.detail) == (outcome, detail)


def test_domains_are_the_host_and_its_parents_down_to_two_labels():
    assert domains_of("mail.exemplo.com.br") == ["mail.exemplo.com.br", "exemplo.com.br",
                                                 "com.br"]
    assert domains_of("exemplo.net") == ["exemplo.net"]
