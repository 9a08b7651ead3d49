"""C2SP signed notes with Ed25519 keys, and the tlog-checkpoint text they carry.

Pure functions over bytes and text (no app, no database), following
https://c2sp.org/signed-note and https://c2sp.org/tlog-checkpoint:

- key ID = SHA-256(key name || 0x0A || 0x01 || 32-byte public key)[:4]
- verifier key = ``<name>+<key ID, 8 hex digits>+<base64(0x01 || public key)>``
- signed note = text (ending in a newline), a blank line, then signature lines
  ``— <name> <base64(key ID || Ed25519 signature of the text)>`` (U+2014, spaces)
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

ED25519 = b"\x01"
DASH = "\u2014"  # the em dash that opens a signature line
_NAME = re.compile(r"[^\s+]+")
_TIME = "%Y-%m-%dT%H:%M:%SZ"
_SIZE = re.compile(r"0|[1-9][0-9]*")  # ASCII decimal, no leading zeroes


class NoteError(ValueError):
    """A note, key or checkpoint text that does not parse or does not verify."""


def valid_name(name: str) -> bool:
    """A C2SP key name: non-empty, no spaces, no plus sign."""
    return bool(_NAME.fullmatch(name))


def raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def key_id(name: str, public: Ed25519PublicKey) -> bytes:
    """The 4-byte C2SP key ID of an Ed25519 key under ``name``."""
    return hashlib.sha256(name.encode() + b"\n" + ED25519 + raw_public(public)).digest()[:4]


def verifier_key(name: str, public: Ed25519PublicKey) -> str:
    """The C2SP verifier key string ``<name>+<hex key ID>+<base64(0x01 || key)>``."""
    encoded = base64.b64encode(ED25519 + raw_public(public)).decode()
    return f"{name}+{key_id(name, public).hex()}+{encoded}"


@dataclass(frozen=True)
class Verifier:
    """A trusted public key: its name, ID and the key itself."""

    name: str
    id: bytes
    key: Ed25519PublicKey

    @property
    def string(self) -> str:
        return verifier_key(self.name, self.key)


def parse_verifier_key(text: str) -> Verifier:
    """Parse a verifier key string; its key ID must match its name and key."""
    name, _, rest = text.strip().partition("+")
    hex_id, _, encoded = rest.partition("+")
    try:
        raw = base64.b64decode(encoded, validate=True)
        identifier = bytes.fromhex(hex_id)
    except ValueError as error:
        raise NoteError("verifier key is not name+hex+base64") from error
    if not valid_name(name) or len(raw) != 33 or raw[:1] != ED25519 or len(identifier) != 4:
        raise NoteError("verifier key is not an Ed25519 C2SP key")
    public = Ed25519PublicKey.from_public_bytes(raw[1:])
    if key_id(name, public) != identifier:
        raise NoteError("verifier key ID does not match its name and key")
    return Verifier(name, identifier, public)


def sign(text: str, name: str, private: Ed25519PrivateKey) -> str:
    """The signed note: ``text`` (ending in a newline), a blank line, one signature line."""
    if not text.endswith("\n") or not valid_name(name):
        raise NoteError("note text must end in a newline; key name must be a C2SP name")
    signature = private.sign(text.encode())
    encoded = base64.b64encode(key_id(name, private.public_key()) + signature).decode()
    return f"{text}\n{DASH} {name} {encoded}\n"


def open_note(note: str, verifiers: list[Verifier]) -> tuple[str, Verifier]:
    """The note's text and the known key that signed it; NoteError if none verifies.

    Signatures by unknown keys are ignored; one by a known key that fails rejects
    the note (C2SP: clients SHOULD reject the whole note).
    """
    text, separator, signatures = note.rpartition("\n\n")
    if not separator or not signatures.endswith("\n"):
        raise NoteError("not a signed note (no blank line before the signatures)")
    text += "\n"
    known = {(v.name, v.id): v for v in verifiers}
    signer = None
    for line in signatures[:-1].split("\n"):
        name, blob = _signature_line(line)
        verifier = known.get((name, blob[:4]))
        if verifier is None:
            continue
        try:
            verifier.key.verify(blob[4:], text.encode())
        except InvalidSignature:
            raise NoteError(f"signature by {name} does not verify") from None
        signer = verifier
    if signer is None:
        raise NoteError("signed by no known key")
    return text, signer


def _signature_line(line: str) -> tuple[str, bytes]:
    parts = line.split(" ")
    if len(parts) != 3 or parts[0] != DASH or not valid_name(parts[1]):
        raise NoteError("malformed signature line")
    try:
        blob = base64.b64decode(parts[2], validate=True)
    except ValueError:
        raise NoteError("malformed signature line") from None
    if len(blob) < 5:
        raise NoteError("malformed signature line")
    return parts[1], blob


@dataclass(frozen=True)
class Checkpoint:
    """The body of a checkpoint note: origin, tree size (our seq), hash and time."""

    origin: str
    size: int
    hash: bytes
    time: datetime


def checkpoint_text(origin: str, size: int, chain_hash: bytes, time: datetime) -> str:
    """The note text: origin, size, base64 hash, then our one extension line ``time …Z``."""
    stamp = time.astimezone(UTC).strftime(_TIME)
    return f"{origin}\n{size}\n{base64.b64encode(chain_hash).decode()}\ntime {stamp}\n"


def parse_checkpoint(text: str) -> Checkpoint:
    """Parse note text written by ``checkpoint_text`` (exactly: four lines)."""
    lines = text.split("\n")
    if len(lines) != 5 or lines[4] != "" or not lines[3].startswith("time "):
        raise NoteError("checkpoint text is not origin, size, hash, time")
    origin, size, encoded, time_line = lines[:4]
    try:
        chain_hash = base64.b64decode(encoded, validate=True)
        moment = datetime.strptime(time_line[5:], _TIME).replace(tzinfo=UTC)
    except ValueError:
        raise NoteError("checkpoint hash or time does not parse") from None
    if not _SIZE.fullmatch(size) or len(chain_hash) != 32:
        raise NoteError("checkpoint size or hash is malformed")
    return Checkpoint(origin, int(size), chain_hash, moment)
