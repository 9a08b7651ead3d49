"""The four evidence checks of a case's target (DESIGN §4), run by the worker between
two transactions: plain values in, plain findings out, DNS in between.

Which address: the target itself when it is one address. For a prefix, the mail
host's own address inside it (its A/AAAA records), else the prefix's first usable
address; the page says which.

Which domain: SPF and MX are looked up at the mail host's name, then at its parents
down to two labels (mail.exemplo.com.br, exemplo.com.br, com.br), and the first
that publishes one is used. Without a public-suffix list we cannot tell
``exemplo.com.br`` from ``com.br``; a public suffix publishes neither in practice.
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address, IPv6Address, ip_network

from models import AddressSource, EvidenceKind, EvidenceOutcome

from . import evidence_spf
from .evidence_dns import Dns, DnsTrouble, text_of

Kind, Outcome = EvidenceKind, EvidenceOutcome
PTR_NAMES_LIMIT = 10  # names of one address we try to confirm, as SPF's ptr does
SHOWN = 5  # names or addresses quoted in a detail


@dataclass(frozen=True)
class Subject:
    """What the worker checks, copied out of the claim's transaction."""

    run_id: int
    case_id: int
    target: str
    mail_hostname: str


@dataclass(frozen=True)
class Finding:
    kind: EvidenceKind
    outcome: EvidenceOutcome
    detail: str  # key of the wording in workflow.evidence.DETAILS
    facts: dict


@dataclass(frozen=True)
class Round:
    address: str | None
    address_source: AddressSource | None
    resolver: str
    findings: tuple[Finding, ...]


def run_checks(subject: Subject, *, servers: tuple[tuple[str, int], ...],
               timeout: float) -> Round:
    """PTR, forward-confirmed reverse DNS, SPF and MX of the subject, in that order."""
    resolver = Dns(servers, timeout)
    address, source = choose_address(resolver, subject)
    ptr, names = check_ptr(resolver, address, subject.mail_hostname)
    findings = (ptr, check_fcrdns(resolver, address, ptr, names),
                check_spf(resolver, address, subject.mail_hostname),
                check_mx(resolver, subject.mail_hostname))
    return Round(str(address), source, resolver.description, findings)


def failed(subject: Subject, resolver: str = "") -> Round:
    """A round that could not run at all (a fault of ours): every check is an error."""
    return Round(None, None, resolver,
                 tuple(Finding(kind, Outcome.ERROR, "internal", {}) for kind in Kind))


def domains_of(host: str) -> list[str]:
    """The host and its parents down to two labels, nearest first."""
    labels = host.rstrip(".").lower().split(".")
    return [".".join(labels[i:]) for i in range(max(1, len(labels) - 1))]


def choose_address(resolver: Dns, subject: Subject
                   ) -> tuple[IPv4Address | IPv6Address, AddressSource]:
    """The one address the checks are about (see the module's docstring)."""
    network = ip_network(subject.target)
    if network.num_addresses == 1:
        return network.network_address, AddressSource.TARGET
    try:
        _, found = resolver.addresses(subject.mail_hostname, network.version)
    except (DnsTrouble, ValueError):
        found = set()
    inside = sorted(a for a in found if a in network)
    if inside:
        return inside[0], AddressSource.MAIL_HOST
    return network.network_address + 1, AddressSource.FIRST_USABLE


def check_ptr(resolver: Dns, address, host: str) -> tuple[Finding, list[str]]:
    """The address has a reverse name; the detail says whether it is the mail host's."""
    facts = {"address": str(address)}
    try:
        answer, names = resolver.names_of(address)
    except DnsTrouble as trouble:
        return Finding(Kind.PTR, Outcome.ERROR, trouble.detail, {**facts, **trouble.facts}), []
    if not names:
        detail = "ptr.nxdomain" if answer.status == "nxdomain" else "ptr.nodata"
        return Finding(Kind.PTR, Outcome.FAIL, detail, facts), []
    facts["names"] = ", ".join(names[:SHOWN])
    detail = "ptr.is_host" if host in names else "ptr.other_name"
    return Finding(Kind.PTR, Outcome.PASS, detail, {**facts, "host": host}), names


def check_fcrdns(resolver: Dns, address, ptr: Finding, names: list[str]) -> Finding:
    """Some reverse name of the address resolves back to it (forward-confirmed rDNS)."""
    facts = {"address": str(address)}
    if ptr.outcome is Outcome.ERROR:
        return Finding(Kind.FCRDNS, Outcome.ERROR, "fcrdns.ptr_error", facts)
    if ptr.outcome is not Outcome.PASS:
        return Finding(Kind.FCRDNS, Outcome.NOT_APPLICABLE, "fcrdns.no_ptr", facts)
    trouble, seen = None, set()
    for name in names[:PTR_NAMES_LIMIT]:
        try:
            _, found = resolver.addresses(name, address.version)
        except (DnsTrouble, ValueError) as error:
            trouble = trouble or error
            continue
        if address in found:
            return Finding(Kind.FCRDNS, Outcome.PASS, "fcrdns.confirmed", {**facts, "name": name})
        seen |= found
    if isinstance(trouble, DnsTrouble):
        return Finding(Kind.FCRDNS, Outcome.ERROR, trouble.detail, {**facts, **trouble.facts})
    shown = ", ".join(str(a) for a in sorted(seen, key=str)[:SHOWN]) or "—"
    return Finding(Kind.FCRDNS, Outcome.FAIL, "fcrdns.not_confirmed",
                   {**facts, "names": ", ".join(names[:SHOWN]), "seen": shown})


def check_spf(resolver: Dns, address, host: str) -> Finding:
    """The first SPF policy from the host up authorises the address (check_host = pass)."""
    candidates = domains_of(host)
    for domain in candidates:
        verdict = evidence_spf.evaluate(resolver, str(address), domain, host)
        if verdict.result != "none":
            return _spf_finding(verdict, str(address))
    return Finding(Kind.SPF, Outcome.FAIL, "spf.none",
                   {"domains": ", ".join(candidates), "address": str(address)})


def _spf_finding(verdict: evidence_spf.Verdict, address: str) -> Finding:
    facts = {"domain": verdict.domain, "address": address, "record": verdict.record,
             "path": " → ".join(verdict.path), "result": verdict.result,
             "lookups": verdict.lookups}
    if verdict.result == "pass":
        return Finding(Kind.SPF, Outcome.PASS, "spf.pass", facts)
    if verdict.result == "temperror":
        return Finding(Kind.SPF, Outcome.ERROR, verdict.detail, {**facts, **verdict.facts})
    if verdict.result == "permerror":
        return Finding(Kind.SPF, Outcome.FAIL, verdict.detail, {**facts, **verdict.facts})
    detail = "spf.not_authorised" if verdict.path else "spf.no_match"
    return Finding(Kind.SPF, Outcome.FAIL, detail, facts)


def check_mx(resolver: Dns, host: str) -> Finding:
    """The nearest domain with MX records, and whether the mail host is one of them."""
    candidates = domains_of(host)
    for domain in candidates:
        try:
            answer = resolver.query(domain, "MX")
        except DnsTrouble as trouble:
            return Finding(Kind.MX, Outcome.ERROR, trouble.detail, trouble.facts)
        if answer.void:
            continue
        records = sorted(answer.records, key=lambda r: (r.preference, str(r.exchange)))
        if all(len(r.exchange.labels) == 1 for r in records):  # "0 .": no mail (RFC 7505)
            return Finding(Kind.MX, Outcome.FAIL, "mx.null", {"domain": domain})
        hosts = [text_of(r.exchange) for r in records if len(r.exchange.labels) > 1]
        facts = {"domain": domain, "host": host, "hosts": ", ".join(hosts[:SHOWN])}
        detail = "mx.is_host" if host in hosts else "mx.other_hosts"
        return Finding(Kind.MX, Outcome.PASS, detail, facts)
    return Finding(Kind.MX, Outcome.FAIL, "mx.none", {"domains": ", ".join(candidates)})

