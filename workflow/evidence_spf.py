"""SPF's check_host() (RFC 7208) for one address, over ``workflow.evidence_dns``.

Our own small evaluator: pyspf (2.0.14) is unmaintained since 2020 and reads DNS
through its own configuration; checkdmarc validates a domain's records (syntax,
lookup count) but does not evaluate an address against them. This covers what an
operator needs to know: all, include, a, mx, ptr, ip4, ip6, exists and redirect,
the macros of domain-specs (§7), the limit of 10 DNS-querying terms (§4.6.4) and of
2 void lookups; ``exp=`` is ignored (explanations are for rejected mail).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv6Address, ip_address, ip_network

from .evidence_dns import Dns, DnsTrouble, absolute

LOOKUP_LIMIT = 10
VOID_LIMIT = 2
MX_NAMES_LIMIT = 10
QUALIFIERS = {"+": "pass", "-": "fail", "~": "softfail", "?": "neutral"}
MECHANISMS = frozenset({"all", "include", "a", "mx", "ptr", "ip4", "ip6", "exists"})
_MODIFIER = re.compile(r"([a-z][a-z0-9_.\-]*)=(.*)", re.IGNORECASE)
_MECHANISM = re.compile(r"([+\-~?]?)([a-z][a-z0-9]*)(.*)", re.IGNORECASE)
_DUAL_CIDR = re.compile(r"(?::([^/]+))?(?:/(\d{1,2}))?(?://(\d{1,3}))?")
_MACRO = re.compile(r"([slodiphv])(\d*)(r?)([.\-+,/_=]*)", re.IGNORECASE)


class PermError(Exception):
    """The published policy cannot be evaluated; ``detail`` names the wording."""

    def __init__(self, detail: str, **facts: object):
        super().__init__(detail)
        self.detail = detail
        self.facts = facts


@dataclass(frozen=True)
class Verdict:
    """check_host()'s result for ``domain`` and how it was reached."""

    result: str  # pass, fail, softfail, neutral, none, permerror, temperror
    domain: str
    record: str | None = None
    path: tuple[str, ...] = ()  # the matching terms, outermost first
    detail: str | None = None  # for permerror and temperror
    facts: dict = field(default_factory=dict)
    lookups: int = 0


@dataclass(frozen=True)
class Term:
    qualifier: str
    name: str
    spec: str | None = None  # domain-spec, or the network of ip4/ip6
    cidr4: int = 32
    cidr6: int = 128
    text: str = ""


def record_of(resolver: Dns, domain: str) -> str | None:
    """The domain's one "v=spf1" TXT record, None when it has none (RFC 7208 §4.5)."""
    answer = resolver.query(domain, "TXT")
    texts = [b"".join(r.strings).decode("utf-8", "replace") for r in answer.records]
    found = [t for t in texts if t.lower() == "v=spf1" or t.lower().startswith("v=spf1 ")]
    if len(found) > 1:
        raise PermError("spf.multiple", domain=domain)
    return found[0] if found else None


def evaluate(resolver: Dns, address: str, domain: str, helo: str) -> Verdict:
    """check_host(address, domain, postmaster@domain), the HELO-style identity of §2.3."""
    evaluation = _Evaluation(resolver, ip_address(address), domain, helo)
    try:
        record = record_of(resolver, domain)
        if record is None:
            return Verdict("none", domain)
        result, path = evaluation.check_host(domain, record)
        return Verdict(result, domain, record, path, lookups=evaluation.lookups)
    except PermError as error:
        return Verdict("permerror", domain, None, (), error.detail,
                       {"domain": domain, **error.facts}, evaluation.lookups)
    except DnsTrouble as trouble:
        return Verdict("temperror", domain, None, (), trouble.detail, trouble.facts,
                       evaluation.lookups)


def parse(domain: str, record: str) -> tuple[list[Term], str | None]:
    """The record's mechanisms in order, and its redirect target; syntax errors: PermError."""
    terms, redirect, exp = [], None, None
    for text in record.split()[1:]:
        modifier = _MODIFIER.fullmatch(text)
        if modifier:
            name = modifier.group(1).lower()
            if name in ("redirect", "exp"):
                if (redirect if name == "redirect" else exp) is not None:
                    raise PermError("spf.syntax", domain=domain, term=text)
                redirect, exp = ((modifier.group(2), exp) if name == "redirect"
                                 else (redirect, modifier.group(2)))
            continue  # unknown modifiers are ignored (§6)
        terms.append(_term(domain, text))
    return terms, redirect


def _term(domain: str, text: str) -> Term:
    match = _MECHANISM.fullmatch(text)
    name = match.group(2).lower() if match else ""
    if not match or name not in MECHANISMS:
        raise PermError("spf.syntax", domain=domain, term=text)
    qualifier, rest = match.group(1) or "+", match.group(3)
    if name == "all" and not rest:
        return Term(qualifier, name, text=text)
    if name in ("include", "exists") and rest.startswith(":") and len(rest) > 1:
        return Term(qualifier, name, rest[1:], text=text)
    if name == "ptr" and (not rest or (rest.startswith(":") and len(rest) > 1)):
        return Term(qualifier, name, rest[1:] or None, text=text)
    if name in ("ip4", "ip6") and rest.startswith(":"):
        try:
            network = ip_network(rest[1:], strict=False)
        except ValueError:
            raise PermError("spf.syntax", domain=domain, term=text) from None
        if network.version == int(name[-1]):
            return Term(qualifier, name, str(network), text=text)
    if name in ("a", "mx"):
        cidr = _DUAL_CIDR.fullmatch(rest)
        if cidr and int(cidr.group(2) or 32) <= 32 and int(cidr.group(3) or 128) <= 128:
            return Term(qualifier, name, cidr.group(1), int(cidr.group(2) or 32),
                        int(cidr.group(3) or 128), text)
    raise PermError("spf.syntax", domain=domain, term=text)


class _Evaluation:
    """One check_host() with its recursion: the lookup and void-lookup counters are shared."""

    def __init__(self, resolver: Dns, address: IPv4Address | IPv6Address, domain: str,
                 helo: str):
        self.dns, self.ip, self.helo = resolver, address, helo
        self.sender_domain = domain
        self.lookups = 0
        self.voids = 0

    def check_host(self, domain: str, record: str) -> tuple[str, tuple[str, ...]]:
        """The result of ``record`` (published at ``domain``) and the terms that decided it."""
        terms, redirect = parse(domain, record)
        for term in terms:
            matched, inner = self._matches(term, domain)
            if matched:
                return QUALIFIERS[term.qualifier], (term.text, *inner)
        if redirect is None:
            return "neutral", ()
        self._count(domain)
        target = self._domain(redirect, domain)
        target_record = record_of(self.dns, target)
        if target_record is None:
            raise PermError("spf.redirect_none", domain=domain, target=target)
        result, path = self.check_host(target, target_record)
        return result, (f"redirect={target}", *path)

    def _matches(self, term: Term, domain: str) -> tuple[bool, tuple[str, ...]]:
        if term.name == "all":
            return True, ()
        if term.name in ("ip4", "ip6"):
            network = ip_network(term.spec)
            return self.ip.version == network.version and self.ip in network, ()
        self._count(domain)
        target = self._domain(term.spec, domain) if term.spec else domain
        if term.name == "include":
            return self._include(target, domain)
        if term.name == "a":
            return self._within(self._addresses(target, void_counts=True), term), ()
        if term.name == "mx":
            return self._mx(target, term), ()
        if term.name == "exists":
            answer = self.dns.query(target, "A")
            self._void(answer.void)
            return not answer.void, ()
        return self._ptr(target), ()

    def _include(self, target: str, domain: str) -> tuple[bool, tuple[str, ...]]:
        record = record_of(self.dns, target)
        if record is None:
            raise PermError("spf.include_none", domain=domain, target=target)
        result, path = self.check_host(target, record)
        return result == "pass", path

    def _mx(self, target: str, term: Term) -> bool:
        answer = self.dns.query(target, "MX")
        self._void(answer.void)
        hosts = [r.exchange for r in answer.records if len(r.exchange.labels) > 1]
        if len(hosts) > MX_NAMES_LIMIT:
            raise PermError("spf.mx_limit", domain=target, limit=MX_NAMES_LIMIT)
        found = set()
        for host in hosts:
            found |= self._addresses(host, void_counts=False)
        return self._within(found, term)

    def _ptr(self, target: str) -> bool:
        """Deprecated but still published: a validated reverse name under ``target``."""
        try:
            _, names = self.dns.names_of(self.ip)
        except DnsTrouble:
            return False  # §5.5: a DNS error in the PTR lookup is no match
        for name in names[:LOOKUP_LIMIT]:
            if name == target or name.endswith("." + target):
                try:
                    if self.ip in self.dns.addresses(name, self.ip.version)[1]:
                        return True
                except DnsTrouble:
                    continue  # §5.5: that name is skipped
        return False

    def _addresses(self, name, *, void_counts: bool) -> set:
        answer, found = self.dns.addresses(name, self.ip.version)
        if void_counts:
            self._void(answer.void)
        return found

    def _within(self, addresses: set, term: Term) -> bool:
        prefix = term.cidr4 if self.ip.version == 4 else term.cidr6
        return any(self.ip in ip_network(f"{a}/{prefix}", strict=False) for a in addresses)

    def _count(self, domain: str) -> None:
        self.lookups += 1
        if self.lookups > LOOKUP_LIMIT:
            raise PermError("spf.too_many_lookups", domain=domain, limit=LOOKUP_LIMIT)

    def _void(self, void: bool) -> None:
        self.voids += void
        if self.voids > VOID_LIMIT:
            raise PermError("spf.void_lookups", limit=VOID_LIMIT)

    def _domain(self, spec: str, domain: str) -> str:
        """A domain-spec with its macros expanded, as a checked name (§7.3)."""
        expanded = expand(spec, self._macros(domain)).rstrip(".").lower()
        labels = expanded.split(".")
        while len(".".join(labels)) > 253:
            labels = labels[1:]
        try:
            absolute(".".join(labels))
        except ValueError:
            raise PermError("spf.syntax", domain=domain, term=spec) from None
        return ".".join(labels)

    def _macros(self, domain: str) -> dict[str, str]:
        if self.ip.version == 4:
            dotted, version = str(self.ip), "in-addr"
        else:
            dotted, version = ".".join(self.ip.exploded.replace(":", "")), "ip6"
        return {"s": f"postmaster@{self.sender_domain}", "l": "postmaster",
                "o": self.sender_domain, "d": domain, "i": dotted, "p": "unknown",
                "v": version, "h": self.helo}


def expand(spec: str, values: dict[str, str]) -> str:
    """Expand the macros of a domain-spec (RFC 7208 §7.1); malformed ones: PermError."""
    out, i = [], 0
    while i < len(spec):
        char = spec[i]
        if char != "%":
            out.append(char)
            i += 1
            continue
        following = spec[i + 1:i + 2]
        if following in ("%", "_", "-"):
            out.append({"%": "%", "_": " ", "-": "%20"}[following])
            i += 2
            continue
        end = spec.find("}", i)
        macro = _MACRO.fullmatch(spec[i + 2:end]) if following == "{" and end > 0 else None
        if macro is None or macro.group(2) == "0":
            raise PermError("spf.syntax", domain=values["d"], term=spec)
        out.append(_transform(values[macro.group(1).lower()], macro))
        i = end + 1
    return "".join(out)


def _transform(value: str, macro: re.Match) -> str:
    parts = re.split("[" + re.escape(macro.group(4) or ".") + "]", value)
    if macro.group(3):
        parts.reverse()
    if macro.group(2):
        parts = parts[-int(macro.group(2)):]
    return ".".join(parts)
