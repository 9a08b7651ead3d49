#!/usr/bin/env python3
"""Check a porta25 audit export on your own machine, without porta25.

    python porta25_verify.py export.jsonl --key 'porta25.example.com.br/audit+1a2b3c4d+AX…'
    python porta25_verify.py export.jsonl --key-file public-key.txt

Needs Python 3.11+ and the ``cryptography`` package, nothing else. Get the key from
the ISP's published address (GET /audit/public-key) or another channel you trust
— not from the export: a key that came with the file proves nothing.

What it checks
--------------
1. Every checkpoint line's signed note (C2SP signed-note, Ed25519) verifies with
   the key you gave, its origin is the key's name, and its size and hash are
   those of the line. The note text is four lines: origin, size (the seq of the
   last event covered), base64 of the chain hash at that seq, ``time <UTC>``.
2. The event lines come in seq order without gaps, from ``first_seq`` to the
   checkpoint's seq, each ``prev_hash`` being the previous line's hash.
3. Each hash recomputes: event_hash = SHA-256(body as UTF-8) for ``event`` lines
   (the line's ``event_hash`` for ``withheld`` lines), and
   hash = SHA-256(0x00 || "porta25-audit/v1" || seq as 8 bytes big-endian ||
   prev_hash || event_hash).
4. The recomputed hash at every checkpoint's seq equals the signed hash.
5. Every ``event`` body is in the export's scope: its ``seq`` is the line's, its
   ``occurred_at`` lies in [period_start, period_end) and, for a state's export,
   its ``uf`` is that state.

What a success proves
---------------------
That the events shown are exactly as recorded in the ISP's chain, in this order
and at these positions, under the checkpoint signed at time T by key K: the ISP
cannot change, remove, insert or reorder any of them afterwards without the
chain failing to reach the signed hash — and a key-holder that signs a second,
different checkpoint for the same seq is caught by comparing checkpoints (the
public page, other exports, records), which is why they are published.

What it does not prove
----------------------
- That the events are true, or were recorded when they happened: the chain
  protects what was written from the moment a checkpoint covers it; an event
  altered before the first checkpoint covering it would be signed as altered.
- Completeness for a state (``--uf``): events of other states are ``withheld``
  (only their hash is shown), and nothing in a withheld line says which state
  it belongs to, so an event of this state presented as withheld cannot be told
  apart. The chain proves that nothing was left out of the sequence, not that
  every event of the state was shown in full.
- That the period's edges are right: the events just before ``first_seq`` and
  after ``last_seq`` are not shown, so it cannot tell that they fall outside it.
- Anything about the events before ``first_seq``: the first ``prev_hash`` is
  taken as given (it is bound by the hashes after it, not checked back to the start).
- That the key is the ISP's: that depends on where you got it.

Exit status: 0 verified; 1 the export fails (the message names the event or
checkpoint); 2 the export or the key cannot be read.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import sys
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

FORMAT = "porta25-audit-export/v1"
DOMAIN_TAG = b"\x00porta25-audit/v1"
ED25519 = b"\x01"


class Failed(Exception):
    """The export does not verify; the message says where."""


class Unreadable(Exception):
    """The export or the key is malformed."""


@dataclass(frozen=True)
class Key:
    name: str
    id: bytes
    public: Ed25519PublicKey
    text: str


def parse_key(text: str) -> Key:
    """A C2SP verifier key ``name+keyid+base64(0x01 || 32-byte Ed25519 key)``."""
    try:
        name, hex_id, encoded = text.strip().split("+", 2)
        raw = base64.b64decode(encoded, validate=True)
        key_id = bytes.fromhex(hex_id)
    except ValueError:
        raise Unreadable(f"not a verifier key: {text.strip()!r}") from None
    if not name or len(raw) != 33 or raw[:1] != ED25519 or len(key_id) != 4:
        raise Unreadable(f"not an Ed25519 verifier key: {text.strip()!r}")
    public = Ed25519PublicKey.from_public_bytes(raw[1:])
    if hashlib.sha256(name.encode() + b"\n" + raw).digest()[:4] != key_id:
        raise Unreadable("the verifier key's ID does not match its name and key")
    return Key(name, key_id, public, text.strip())


def open_note(note: str, keys: list[Key]) -> tuple[str, Key]:
    """The signed text of a C2SP note and the given key that signed it."""
    text, sep, signatures = note.rpartition("\n\n")
    if not sep or not signatures.endswith("\n"):
        raise Failed("not a signed note")
    text += "\n"
    signer = None
    for line in signatures[:-1].split("\n"):
        dash, name, encoded = (line.split(" ") + ["", ""])[:3]
        try:
            blob = base64.b64decode(encoded, validate=True)
        except ValueError:
            raise Failed("malformed signature line") from None
        if dash != "\u2014":
            raise Failed("malformed signature line")
        for key in keys:
            if key.name == name and key.id == blob[:4]:
                try:
                    key.public.verify(blob[4:], text.encode())
                except InvalidSignature:
                    raise Failed(f"the signature by {name} does not verify") from None
                signer = key
    if signer is None:
        raise Failed("not signed by the given key")
    return text, signer


def chain_hash(seq: int, prev: bytes, event_hash: bytes) -> bytes:
    return hashlib.sha256(DOMAIN_TAG + seq.to_bytes(8, "big") + prev + event_hash).digest()


def _time(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ" if "." in text
                             else "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def check_checkpoint(line: dict, origin: str, keys: list[Key]) -> tuple[bytes, datetime, Key]:
    """The signed (hash, time, key) of a checkpoint line."""
    seq = line.get("seq")
    try:
        text, signer = open_note(line["note"], keys)
    except Failed as error:
        raise Failed(f"checkpoint at event {seq}: {error}") from None
    parts = text.split("\n")
    if len(parts) != 5 or not parts[3].startswith("time "):
        raise Failed(f"checkpoint at event {seq}: the note is not origin, size, hash, time")
    if parts[0] != signer.name or parts[0] != origin:
        raise Failed(f"checkpoint at event {seq}: origin {parts[0]!r} is not the key's name")
    if parts[1] != str(seq):
        raise Failed(f"checkpoint at event {seq}: the note signs event {parts[1]}")
    signed = base64.b64decode(parts[2])
    if line.get("hash") != signed.hex():
        raise Failed(f"checkpoint at event {seq}: the line's hash is not the signed one")
    return signed, _time(parts[3][5:]), signer


class Chain:
    """Walks the event lines in order, recomputing each hash."""

    def __init__(self, header: dict, signed: dict[int, bytes]) -> None:
        self.header, self.signed = header, signed
        self.expected, self.prev = header["first_seq"], None
        self.start = _time(header["period_start"])
        self.end = _time(header["period_end"])
        self.revealed = self.withheld = 0

    def take(self, line: dict) -> None:
        seq = line.get("seq")
        if seq != self.expected:
            raise Failed(f"event {self.expected}: expected here, found event {seq} "
                         "(an event is missing or out of order)")
        prev = bytes.fromhex(line["prev_hash"])
        if self.prev is not None and prev != self.prev:
            raise Failed(f"event {seq}: its previous hash is not the hash of event {seq - 1}")
        revealed = line["type"] == "event"
        event_hash = (hashlib.sha256(line["body"].encode()).digest() if revealed
                      else bytes.fromhex(line["event_hash"]))
        computed = chain_hash(seq, prev, event_hash)
        if computed.hex() != line["hash"]:
            raise Failed(f"event {seq}: its hash does not match its content")
        if seq in self.signed and self.signed[seq] != computed:
            raise Failed(f"checkpoint at event {seq}: the chain does not reach the signed hash")
        if revealed:
            self._in_scope(seq, json.loads(line["body"]))
            self.revealed += 1
        elif self.header.get("uf") is None and seq <= self.header["last_seq"]:
            raise Failed(f"event {seq}: withheld from an export of every state")
        else:
            self.withheld += 1
        self.prev, self.expected = computed, seq + 1

    def _in_scope(self, seq: int, body: dict) -> None:
        if body.get("seq") != seq:
            raise Failed(f"event {seq}: its body says event {body.get('seq')}")
        if not self.start <= _time(body["occurred_at"]) < self.end:
            raise Failed(f"event {seq}: occurred outside the export's period")
        uf = self.header.get("uf")
        if uf is not None and body.get("uf") != uf:
            raise Failed(f"event {seq}: shown in full but not of {uf}")


def verify(lines, keys: list[Key]) -> str:
    """Check an export (an iterable of text lines); a summary, or Failed/Unreadable."""
    header = None
    signed: dict[int, bytes] = {}
    stamps: dict[int, tuple[datetime, Key]] = {}
    chain = None
    for number, text in enumerate(lines, 1):
        try:
            line = json.loads(text)
            kind = line["type"]
            if header is None:
                if kind != "header" or line.get("format") != FORMAT:
                    raise Unreadable(f"line 1 is not a {FORMAT} header")
                header = line
            elif kind == "checkpoint" and chain is None:
                hash_, at, key = check_checkpoint(line, header["origin"], keys)
                signed[line["seq"]], stamps[line["seq"]] = hash_, (at, key)
            elif kind in ("event", "withheld") and header["first_seq"] is not None:
                chain = chain or Chain(header, signed)
                chain.take(line)
            else:
                raise Unreadable(f"line {number}: unexpected {kind!r} line")
        except (ValueError, KeyError, TypeError, AttributeError):
            raise Unreadable(f"line {number} is not a well-formed export line") from None
    if header is None:
        raise Unreadable("the export is empty")
    return _conclude(header, signed, stamps, chain)


def _conclude(header: dict, signed: dict, stamps: dict, chain: Chain | None) -> str:
    if header["first_seq"] is None:
        return "the export holds no events: nothing to verify"
    last, covering = header["last_seq"], header["checkpoint_seq"]
    if covering is None or covering not in signed or covering < last:
        raise Failed(f"event {last}: no signed checkpoint covers the export's last event")
    reached = chain.expected - 1 if chain else header["first_seq"] - 1
    if reached != covering:
        raise Failed(f"checkpoint at event {covering}: the events stop at {reached}, "
                     "before the chain reaches it")
    for seq in signed:
        if not header["first_seq"] <= seq <= covering:
            raise Failed(f"checkpoint at event {seq}: outside the exported events")
    at, key = stamps[covering]
    scope = f"of {header['uf']} " if header.get("uf") else ""
    return (f"verified: events {header['first_seq']}–{last} {scope}({header['from']} to "
            f"{header['to']}): {chain.revealed} shown in full, {chain.withheld} withheld; "
            f"the chain reaches the checkpoint at event {covering}, signed "
            f"{at:%Y-%m-%dT%H:%M:%SZ} by {key.text}")


def _keys(arguments) -> list[Key]:
    texts = list(arguments.key or [])
    for path in arguments.key_file or []:
        with open(path, encoding="utf-8") as file:
            texts += [t for t in file.read().splitlines() if t.strip() and t[0] != "#"]
    if not texts:
        raise Unreadable("give the ISP's verifier key with --key or --key-file")
    return [parse_key(text) for text in texts]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Verify a porta25 audit export.")
    parser.add_argument("export", help="the .jsonl file (- for standard input)")
    parser.add_argument("--key", action="append", help="a C2SP verifier key string")
    parser.add_argument("--key-file", action="append", help="a file of verifier keys")
    arguments = parser.parse_args(argv)
    try:
        keys = _keys(arguments)
        if arguments.export == "-":
            print(verify(sys.stdin, keys))
        else:
            with open(arguments.export, encoding="utf-8") as file:
                print(verify(file, keys))
    except Failed as error:
        print(f"FAILED at {error}", file=sys.stderr)
        return 1
    except (Unreadable, OSError) as error:
        print(f"cannot verify: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
