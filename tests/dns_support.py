"""A small DNS server on loopback for the evidence tests: it answers every name from a
dict, over UDP and TCP (dnspython retries over TCP when an answer is truncated).

It stands in for the recursive resolver of EVIDENCE_RESOLVERS. Names listed in
``silent`` get no answer at all (a timeout), in ``servfail`` a SERVFAIL; a name
with no record of any type is NXDOMAIN, of other types only NODATA.
"""

from __future__ import annotations

import contextlib
import socket
import threading

import dns.exception
import dns.flags
import dns.message
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset


def absolute(name: str) -> str:
    return name.lower().rstrip(".") + "."


def txt(text: str) -> str:
    """A TXT value in zone-file syntax, split into strings of at most 255 bytes."""
    chunks = [text[i:i + 255] for i in range(0, len(text), 255)] or [""]
    return " ".join(f'"{chunk}"' for chunk in chunks)


class DnsServer:
    """Answers from ``records``: {(absolute name, type): [values in zone-file syntax]}."""

    def __init__(self, *, host: str = "127.0.0.1"):
        self.host = host
        self.records: dict[tuple[str, str], list[str]] = {}
        self.silent: set[str] = set()
        self.servfail: set[str] = set()
        self.queries: list[tuple[str, str, str]] = []  # (name, type, udp|tcp)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.udp, self.tcp = _bind_pair(host)
        self.port = self.udp.getsockname()[1]

    @property
    def resolvers(self) -> tuple[tuple[str, int], ...]:
        """The value of the EVIDENCE_RESOLVERS setting that points at this server."""
        return ((self.host, self.port),)

    def add(self, name: str, rdtype: str, *values: str) -> DnsServer:
        self.records.setdefault((absolute(name), rdtype.upper()), []).extend(values)
        return self

    def start(self) -> DnsServer:
        for loop in (self._serve_udp, self._serve_tcp):
            thread = threading.Thread(target=loop, daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(5)
        self.udp.close()
        self.tcp.close()

    def asked(self, rdtype: str | None = None) -> list[str]:
        """The names asked for (of one type), in order."""
        return [n for n, t, _ in self.queries if rdtype is None or t == rdtype]

    def answer(self, wire: bytes, transport: str) -> bytes | None:
        """The reply to one query's bytes; None stays silent."""
        query = dns.message.from_wire(wire)
        question = query.question[0]
        name, rdtype = absolute(question.name.to_text()), dns.rdatatype.to_text(question.rdtype)
        self.queries.append((name.rstrip("."), rdtype, transport))
        if name in self.silent:
            return None
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA | dns.flags.RA
        if name in self.servfail:
            response.set_rcode(dns.rcode.SERVFAIL)
            return response.to_wire()
        values = self.records.get((name, rdtype))
        if values:
            response.answer.append(dns.rrset.from_text_list(
                question.name, 60, dns.rdataclass.IN, question.rdtype, values))
        elif not any(key[0] == name for key in self.records):
            response.set_rcode(dns.rcode.NXDOMAIN)
        limit = 65535 if transport == "tcp" else max(512, query.payload if query.edns >= 0 else 0)
        try:
            return response.to_wire(max_size=limit)
        except dns.exception.TooBig:
            response.answer.clear()
            response.flags |= dns.flags.TC
            return response.to_wire()

    def _serve_udp(self) -> None:
        self.udp.settimeout(0.1)
        while not self._stop.is_set():
            try:
                wire, peer = self.udp.recvfrom(65535)
            except (TimeoutError, OSError):
                continue
            reply = self.answer(wire, "udp")
            if reply is not None:
                self.udp.sendto(reply, peer)

    def _serve_tcp(self) -> None:
        self.tcp.settimeout(0.1)
        while not self._stop.is_set():
            try:
                conn, _ = self.tcp.accept()
            except (TimeoutError, OSError):
                continue
            with conn, contextlib.suppress(OSError):
                conn.settimeout(2)
                size = int.from_bytes(_read(conn, 2), "big")
                reply = self.answer(_read(conn, size), "tcp")
                if reply is not None:
                    conn.sendall(len(reply).to_bytes(2, "big") + reply)


class DeadServer:
    """A UDP port that reads queries and never answers (a resolver gone silent)."""

    def __init__(self, host: str = "127.0.0.1"):
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.socket.bind((host, 0))
        self.resolvers = ((host, self.socket.getsockname()[1]),)

    def stop(self) -> None:
        self.socket.close()


def _read(conn: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        if not chunk:
            raise OSError("closed")
        data += chunk
    return data


def _bind_pair(host: str) -> tuple[socket.socket, socket.socket]:
    """A UDP and a TCP socket on the same free port."""
    for _ in range(50):
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        udp.bind((host, 0))
        tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            tcp.bind((host, udp.getsockname()[1]))
        except OSError:
            udp.close()
            tcp.close()
            continue
        tcp.listen(16)
        return udp, tcp
    raise RuntimeError("no free port for both UDP and TCP")
