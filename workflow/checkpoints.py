"""Signed checkpoints of the audit chain's head (DESIGN §9): issued, looked up, verified.

What is signed, so that a regulator can reimplement the check. A checkpoint is a
C2SP signed note (https://c2sp.org/signed-note) whose text has the C2SP
tlog-checkpoint form (https://c2sp.org/tlog-checkpoint): four lines, each ending
in a newline (0x0A), UTF-8::

    porta25.example.com.br/audit                   origin: the key name, AUDIT_KEY_NAME
    1234                                           "tree size": seq of the last event
                                                   covered (events are numbered 1, 2, …
                                                   without gaps: also their count)
    q3xKx1g0cG3Cqk2H0xwTQmDpq3c8ZJmCq3tMY2f9sEI=   base64 of the chain hash of event seq
    time 2026-11-29T12:00:00Z                      when it was signed (UTC, to the second)

then a blank line and one signature line::

    — porta25.example.com.br/audit <base64(key ID || signature)>

``signature`` is Ed25519 (RFC 8032) over exactly the four lines' bytes, the last
newline included; ``key ID`` = SHA-256(name || 0x0A || 0x01 || 32-byte public
key)[:4]. The public key is published as the C2SP verifier key string
``<name>+<key ID hex>+<base64(0x01 || public key)>`` at GET /audit/public-key.

The third line is NOT an RFC 6962 Merkle root, although tlog-checkpoint calls it
the root hash: it is our chain hash (workflow/audit.py), SHA-256(0x00 ||
"porta25-audit/v1" || seq as 8 bytes big-endian || prev_hash || SHA-256(canonical
event)). Standard note tools check the signature; checking events means
recomputing the chain up to ``seq`` (verifier/porta25_verify.py does so from an
export). The ``time`` line is an extension line (opaque to tlog tools, signed all
the same).

Before signing, the events since the previous checkpoint are recomputed from its
hash: a head whose chain does not hold is never signed. Checkpoints are rows of
``audit_checkpoint``, which the database keeps insert-only.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from models import AuditCheckpoint, AuditEvent, AuditHead, db

from . import signed_note
from .audit import GENESIS, Verification, holds, stored_events, verify_chain
from .config import setting
from .signed_note import NoteError, Verifier
from .snapshot import open_snapshot


class CheckpointsOff(RuntimeError):
    """No AUDIT_SIGNING_KEY is configured: nothing can be signed."""


class ChainBroken(RuntimeError):
    """The chain since the previous checkpoint does not recompute; the head is not signed."""

    def __init__(self, verification: Verification) -> None:
        super().__init__(f"event {verification.broken_seq}: {verification.problem}")
        self.verification = verification


def new_key(name: str) -> tuple[str, str]:
    """A fresh key: AUDIT_SIGNING_KEY's value (base64 of the seed) and its verifier key."""
    private = Ed25519PrivateKey.generate()
    seed = base64.b64encode(private.private_bytes_raw()).decode()
    return seed, signed_note.verifier_key(name, private.public_key())


def signing_key() -> Ed25519PrivateKey | None:
    """The configured private key, or None when checkpoints are off."""
    seed = setting("AUDIT_SIGNING_KEY")
    return Ed25519PrivateKey.from_private_bytes(base64.b64decode(seed)) if seed else None


def verifiers() -> list[Verifier]:
    """The keys checkpoints may carry: the signing key's, then AUDIT_VERIFIER_KEYS."""
    name, private = setting("AUDIT_KEY_NAME"), signing_key()
    keys = []
    if private is not None:
        public = private.public_key()
        keys.append(Verifier(name, signed_note.key_id(name, public), public))
    keys += [signed_note.parse_verifier_key(text) for text in setting("AUDIT_VERIFIER_KEYS")]
    return keys


def public_keys() -> list[str]:
    """The verifier key strings to publish, the current key first."""
    return [v.string for v in verifiers()]


def latest() -> AuditCheckpoint | None:
    """The newest checkpoint (highest seq)."""
    return db.session.scalars(
        select(AuditCheckpoint).order_by(AuditCheckpoint.seq.desc()).limit(1)).first()


def at(seq: int) -> AuditCheckpoint | None:
    """The checkpoint of event ``seq`` exactly."""
    return db.session.get(AuditCheckpoint, seq)


def covering_checkpoint(seq: int) -> AuditCheckpoint | None:
    """The first checkpoint with seq ≥ ``seq``: the signed head that covers event ``seq``."""
    return db.session.scalars(
        select(AuditCheckpoint).where(AuditCheckpoint.seq >= seq)
        .order_by(AuditCheckpoint.seq).limit(1)).first()


def due(now: datetime) -> bool:
    """Whether the head moved since the last checkpoint and the interval has passed."""
    if not setting("AUDIT_SIGNING_KEY"):
        return False
    head_seq = db.session.scalar(select(AuditHead.seq).where(AuditHead.id == 1)) or 0
    last = latest()
    if last is None:
        return head_seq > 0
    interval = timedelta(seconds=setting("AUDIT_CHECKPOINT_INTERVAL_SECONDS"))
    return head_seq > last.seq and now >= last.signed_at + interval


def issue(now: datetime) -> AuditCheckpoint | None:
    """Sign the head as of now if it moved since the last checkpoint; None if it did not.

    The caller commits. Raises CheckpointsOff without a key, ChainBroken when the
    events since the previous checkpoint do not recompute.
    """
    private = signing_key()
    if private is None:
        raise CheckpointsOff("AUDIT_SIGNING_KEY is not set")
    seq, head_hash = _verified_head()
    # The head's lock serialises signers (two workers, or the CLI and a worker).
    db.session.execute(select(AuditHead.id).where(AuditHead.id == 1).with_for_update())
    last = latest()
    if seq == 0 or (last is not None and last.seq >= seq):
        return None
    signed_at = now.replace(microsecond=0)
    name = setting("AUDIT_KEY_NAME")
    text = signed_note.checkpoint_text(name, seq, head_hash, signed_at)
    checkpoint = AuditCheckpoint(
        seq=seq, hash=head_hash, signed_at=signed_at,
        key_id=signed_note.key_id(name, private.public_key()).hex(),
        note=signed_note.sign(text, name, private))
    db.session.add(checkpoint)
    db.session.flush()
    return checkpoint


def _verified_head() -> tuple[int, bytes]:
    """The committed head, after recomputing the chain from the last checkpoint to it.

    Read in a snapshot of its own, so that appends go on meanwhile (no write lock).
    """
    with open_snapshot(db.engine) as connection:
        head = connection.execute(
            select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == 1)).one()
        start = connection.execute(
            select(AuditCheckpoint.seq, AuditCheckpoint.hash)
            .order_by(AuditCheckpoint.seq.desc()).limit(1)).one_or_none()
        after, prev = (start.seq, start.hash) if start else (0, GENESIS)
        if after < head.seq:
            result = verify_segment(connection, after, prev, head.seq)
            if not result.ok:
                raise ChainBroken(result)
            if result.end_hash != head.hash:
                raise ChainBroken(Verification(False, head.seq - after, head.seq + 1,
                                               "head does not match"))
    return head.seq, head.hash


@dataclass(frozen=True)
class Segment(Verification):
    end_hash: bytes | None = None


def verify_segment(connection: Connection, after: int, prev: bytes, up_to: int,
                   batch: int = 5000) -> Segment:
    """Recompute events ``after``+1 … ``up_to`` from ``prev`` (the hash of event ``after``)."""
    expected = after + 1
    for event in stored_events(connection.execute, after=after, up_to=up_to, batch=batch):
        problem = ("missing event" if event.seq != expected
                   else "previous hash differs" if event.prev_hash != prev
                   else "content altered" if not holds(event, prev)
                   else None)
        if problem:
            return Segment(False, expected - 1 - after, expected, problem)
        prev, expected = event.hash, expected + 1
    if expected <= up_to:
        return Segment(False, expected - 1 - after, expected, "missing event")
    return Segment(True, up_to - after, end_hash=prev)


@dataclass(frozen=True)
class Report:
    """`audit verify`: the chain's verification, then the checkpoints'."""

    chain: Verification
    checkpoints: int = 0
    newest: AuditCheckpoint | None = None
    broken_checkpoint: int | None = None
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.chain.ok and self.broken_checkpoint is None


def verify_all(batch: int = 5000) -> Report:
    """The whole chain (workflow.audit.verify_chain), then every checkpoint against it.

    Checkpoints are counted before the chain's head is read: one signed meanwhile
    (always at or below that head) is left for the next run, so a checkpoint above
    the verified head means events were removed and the head rewound.
    """
    cutoff = db.session.scalar(select(func.max(AuditCheckpoint.seq))) or 0
    chain = verify_chain(batch)
    if not chain.ok:
        return Report(chain)
    rows = db.session.execute(
        select(AuditCheckpoint, AuditEvent.hash)
        .outerjoin(AuditEvent, AuditEvent.seq == AuditCheckpoint.seq)
        .where(AuditCheckpoint.seq <= cutoff).order_by(AuditCheckpoint.seq)).all()
    return _check_each(chain, rows, verifiers())


def _check_each(chain: Verification, rows: Iterable, keys: list[Verifier]) -> Report:
    checked, newest = 0, None
    for checkpoint, event_hash in rows:
        problem = check(checkpoint, keys)
        if problem is None and checkpoint.seq > chain.checked:
            problem = "checkpoint beyond the chain's head (events removed?)"
        elif problem is None and event_hash != checkpoint.hash:
            problem = "hash differs from the chain at its seq"
        if problem:
            return Report(chain, checked, newest, checkpoint.seq, problem)
        checked, newest = checked + 1, checkpoint
    return Report(chain, checked, newest)


def check(checkpoint: AuditCheckpoint, keys: list[Verifier]) -> str | None:
    """What is wrong with a checkpoint's note (signature, content vs its row), or None."""
    try:
        text, signer = signed_note.open_note(checkpoint.note, keys)
        body = signed_note.parse_checkpoint(text)
    except NoteError as error:
        return f"note does not verify: {error}"
    if body.origin != signer.name:
        return "origin differs from the signing key's name"
    if (body.size, body.hash, body.time) != (checkpoint.seq, checkpoint.hash,
                                             checkpoint.signed_at):
        return "signed note differs from the stored seq, hash or time"
    return None
