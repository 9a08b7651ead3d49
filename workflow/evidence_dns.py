"""DNS for the evidence checks: the configured resolvers, a limit per query and one for
the whole round, and answers reduced to what a check needs.

Nothing here touches the database: the worker calls it between two transactions.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv6Address, ip_address

import dns.exception
import dns.name
import dns.nameserver
import dns.rdatatype
import dns.resolver
import dns.reversename

# A round of checks may spend this many per-query limits in all (a dead resolver costs one
# per check: PTR, SPF and MX, plus the address of a prefix's mail host).
ROUND_BUDGET = 5


class DnsTrouble(Exception):
    """DNS gave no conclusion (timeout, SERVFAIL, time spent): ``detail`` names the wording."""

    def __init__(self, detail: str, **facts: object):
        super().__init__(detail)
        self.detail = detail
        self.facts = facts


@dataclass(frozen=True)
class Answer:
    """``status`` is ok, nxdomain or nodata; ``records`` the rdata of the asked type."""

    status: str
    records: tuple

    @property
    def void(self) -> bool:
        return not self.records


def absolute(name: str) -> dns.name.Name:
    """The name as an absolute DNS name; ValueError when it cannot be one."""
    try:
        parsed = dns.name.from_text(name)
    except dns.exception.DNSException as error:
        raise ValueError(f"not a domain name: {name!r}") from error
    if len(parsed.labels) < 2:  # the root alone
        raise ValueError(f"not a domain name: {name!r}")
    return parsed


def text_of(name: dns.name.Name) -> str:
    """A name as people write it: lower case, without the final dot."""
    return name.to_text(omit_final_dot=True).lower()


class Dns:
    """Queries through the configured resolvers within a per-query and a per-round limit."""

    def __init__(self, servers: tuple[tuple[str, int], ...], timeout: float,
                 clock: Callable[[], float] = time.monotonic):
        self.timeout = timeout
        self.clock = clock
        self.deadline = clock() + timeout * ROUND_BUDGET
        self.queries = 0
        self._resolver, self.description = _resolver(servers, timeout)

    def query(self, name: str | dns.name.Name, rdtype: str) -> Answer:
        """Ask for ``rdtype`` records of ``name``; NXDOMAIN and no data are answers too."""
        qname = absolute(name) if isinstance(name, str) else name
        shown = text_of(qname)
        if self._resolver is None:
            raise DnsTrouble("dns.no_resolver", name=shown, type=rdtype)
        remaining = self.deadline - self.clock()
        if remaining <= 0:
            raise DnsTrouble("dns.budget", name=shown, type=rdtype)
        self.queries += 1
        try:
            answer = self._resolver.resolve(qname, rdtype, lifetime=min(self.timeout, remaining),
                                            search=False, raise_on_no_answer=False)
        except dns.resolver.NXDOMAIN:
            return Answer("nxdomain", ())
        except dns.exception.Timeout:
            raise DnsTrouble("dns.timeout", name=shown, type=rdtype,
                             seconds=f"{self.timeout:g}") from None
        except dns.resolver.NoNameservers:  # SERVFAIL or REFUSED from every server
            raise DnsTrouble("dns.servfail", name=shown, type=rdtype) from None
        except dns.exception.DNSException as error:
            raise DnsTrouble("dns.failure", name=shown, type=rdtype,
                             error=type(error).__name__) from None
        records = tuple(answer.rrset) if answer.rrset is not None else ()
        return Answer("ok" if records else "nodata", records)

    def addresses(self, name: str | dns.name.Name, version: int) -> tuple[Answer, set]:
        """The A (IPv4) or AAAA (IPv6) records of ``name``, and the addresses they hold."""
        answer = self.query(name, "A" if version == 4 else "AAAA")
        return answer, {ip_address(r.address) for r in answer.records}

    def names_of(self, address: IPv4Address | IPv6Address) -> tuple[Answer, list[str]]:
        """The PTR records of ``address``, and the names they point to."""
        answer = self.query(dns.reversename.from_address(str(address)), "PTR")
        return answer, [text_of(r.target) for r in answer.records]


def _resolver(servers: tuple[tuple[str, int], ...], timeout: float
              ) -> tuple[dns.resolver.Resolver | None, str]:
    """A dnspython resolver on ``servers``, or the system's; None when there is none."""
    if servers:
        resolver = dns.resolver.Resolver(configure=False)
        resolver.nameservers = [dns.nameserver.Do53Nameserver(host, port)
                                for host, port in servers]
        shown = ", ".join(f"[{h}]:{p}" if ":" in h else f"{h}:{p}" for h, p in servers)
    else:
        try:
            resolver = dns.resolver.Resolver()
        except dns.resolver.NoResolverConfiguration:
            return None, "/etc/resolv.conf"
        shown = "/etc/resolv.conf: " + ", ".join(str(n) for n in resolver.nameservers)
    # Each server gets its share of the limit, so that a dead first one leaves time for the next.
    resolver.timeout = timeout / max(1, len(resolver.nameservers))
    resolver.cache = None  # a re-check asks again: it is why staff ask for one
    return resolver, shown[:200]
