"""Appending to and verifying the hash-chained audit trail (DESIGN §9).

The rule, so that a regulator can reimplement it:

    event_hash = SHA-256(canonical(event))
    hash(seq)  = SHA-256(0x00 || "porta25-audit/v1" || seq as 8 bytes big-endian
                         || prev_hash || event_hash)

``prev_hash`` of the first event is 32 zero bytes. ``canonical`` is JSON in
UTF-8 with sorted keys, no whitespace and no floats, over the fields
``seq, occurred_at, actor_id, actor_role, source_ip, action, object_type,
object_id, uf, details`` (``occurred_at`` as ISO 8601 UTC with microseconds and
``Z``; ``details`` as the parsed object). Events hold references (protocols,
user ids), never personal data, so erasing personal data keeps the chain whole.
"""

from __future__ import annotations

import enum
import hashlib
import json
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from models import AuditEvent, AuditHead, User, db, utcnow

DOMAIN_TAG = b"\x00porta25-audit/v1"
GENESIS = bytes(32)


class Tag(enum.StrEnum):
    """Every kind of audit event, namespaced by object."""

    CASE_SUBMITTED = "case:submitted"
    CASE_CLAIMED = "case:claimed"
    CASE_INFO_REQUESTED = "case:info_requested"
    CASE_REPLIED = "case:replied"
    CASE_APPROVAL_PROPOSED = "case:approval_proposed"
    CASE_APPROVED = "case:approved"
    CASE_REJECTED = "case:rejected"
    CASE_APPEALED = "case:appealed"
    CASE_CANCELLED = "case:cancelled"
    CASE_REVOKED = "case:revoked"
    CASE_ACTIVATED = "case:activated"
    CASE_EXPIRED = "case:expired"
    CASE_ABANDONED = "case:abandoned"
    CASE_NOTE_ADDED = "case:note_added"
    CASE_EXPIRY_REMINDED = "case:expiry_reminded"
    CASE_EVIDENCE_REQUESTED = "case:evidence_requested"  # staff asked the DNS checks again
    CASE_PERSONAL_DATA_REVEALED = "case:personal_data_revealed"  # an auditor, with a reason
    CASE_LIST_EXPORTED = "case:list_exported"  # a regulator's CSV/JSON Lines of cases
    ENDPOINT_CREATED = "endpoint:created"
    ENDPOINT_SECRET_ROTATED = "endpoint:secret_rotated"
    ENDPOINT_ENABLED = "endpoint:enabled"
    ENDPOINT_DISABLED = "endpoint:disabled"
    ENDPOINT_DISABLED_BY_RECEIVER = "endpoint:disabled_by_receiver"
    DELIVERY_DEAD = "delivery:dead"
    DELIVERY_REPLAYED = "delivery:replayed"
    USER_CREATED = "user:created"
    USER_REGISTERED = "user:registered"
    USER_LOGGED_IN = "user:logged_in"
    USER_LOGIN_FAILED = "user:login_failed"
    USER_LOGGED_OUT = "user:logged_out"
    USER_TOTP_ENROLLED = "user:totp_enrolled"  # second factor confirmed by a first code
    USER_TOTP_FAILED = "user:totp_failed"  # a wrong, expired or replayed code at sign-in
    USER_RECOVERY_CODE_USED = "user:recovery_code_used"
    USER_TOTP_RESET = "user:totp_reset"  # by a supervisor or the CLI: enrol again
    USER_CHANGED = "user:changed"  # role, state, name, active or language, as a diff
    USER_DATA_EXPORTED = "user:data_exported"  # LGPD: a customer downloaded their own data
    TOKEN_CREATED = "token:created"
    TOKEN_REVOKED = "token:revoked"
    REASON_CODE_CREATED = "reason_code:created"
    REASON_CODE_CHANGED = "reason_code:changed"  # labels or active, as a diff
    CALENDAR_CHANGED = "calendar:changed"  # a business-calendar correction added or removed
    SETTINGS_CHANGED = "settings:changed"  # the environment's settings differ at a start
    RETENTION_ANONYMISED = "retention:anonymised"  # a case's or account's personal data erased
    RETENTION_ERASED = "retention:erased"  # what an anonymised case held, pending then, erased
    RECORD_ISSUED = "record:issued"
    RECORD_DOWNLOADED = "record:downloaded"
    RECORD_HISTORY_EXPORTED = "record:history_exported"  # the JSON statement, served at once
    RECORD_REPORT_EXPORTED = "record:report_exported"  # a period report's CSV, served at once
    RECORD_REQUESTED = "record:requested"  # a person asked for a dossier or a re-issue
    AUDIT_EXPORTED = "audit:exported"  # `flask audit export`: a period for a regulator
    AUDIT_EVENTS_EXPORTED = "audit:events_exported"  # a regulator's CSV/JSON Lines of events


@dataclass(frozen=True)
class Actor:
    """Who acts: a user, or a named part of the system (``system:worker``)."""

    user: User | None
    source_ip: str | None = None
    system_name: str | None = None

    @classmethod
    def system(cls, name: str) -> Actor:
        return cls(user=None, system_name=name)

    @property
    def role_label(self) -> str:
        if self.user is not None:
            return self.user.role.value
        return f"system:{self.system_name}" if self.system_name else "anonymous"


WITHHELD = "•••"  # a personal field changed: its values stay out of the trail


def diff(before: Mapping, after: Mapping, *, withheld: Collection[str] = ()) -> dict:
    """The fields whose values differ, as ``{field: [old, new]}`` (Indico's make_diff_log).

    A field in ``withheld`` (personal data) shows only that it changed: ``[WITHHELD,
    WITHHELD]``, so the trail keeps references, never the data (DESIGN §9).
    """
    changes = {}
    for field in sorted(before.keys() | after.keys()):
        old, new = before.get(field), after.get(field)
        if old != new:
            changes[field] = [WITHHELD, WITHHELD] if field in withheld else [old, new]
    return changes


def canonical(data: dict) -> bytes:
    """Canonical JSON bytes: UTF-8, sorted keys, no whitespace; floats are refused."""
    _refuse_floats(data)
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _refuse_floats(value: object) -> None:
    if isinstance(value, float):
        raise TypeError("floats are not allowed in audit details")
    if isinstance(value, dict):
        for v in value.values():
            _refuse_floats(v)
    elif isinstance(value, list | tuple):
        for v in value:
            _refuse_floats(v)


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def event_body(event) -> dict:
    """The fields of ``event`` that the chain covers."""
    return {
        "seq": event.seq,
        "occurred_at": _iso(event.occurred_at),
        "actor_id": event.actor_id,
        "actor_role": event.actor_role,
        "source_ip": event.source_ip,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "uf": event.uf,
        "details": json.loads(event.details),
    }


def chain_hash(seq: int, prev_hash: bytes, body: dict) -> bytes:
    """The hash of event ``seq`` given the previous hash (see the module docstring)."""
    return _link(seq, prev_hash, canonical(body))


def _link(seq: int, prev_hash: bytes, canonical_body: bytes) -> bytes:
    event_hash = hashlib.sha256(canonical_body).digest()
    return hashlib.sha256(
        DOMAIN_TAG + seq.to_bytes(8, "big") + prev_hash + event_hash
    ).digest()


def holds(event, prev_hash: bytes) -> bool:
    """Whether a stored event (a row of ``stored_events``) is its content chained to ``prev_hash``.

    The app stores ``details`` as canonical JSON already, so the canonical body is
    spliced together from the stored text (several times faster over a regulator's
    million events than parsing and re-encoding each); only a row that fails that way
    is checked again by the rule itself, which has the final word.
    """
    return (_link(event.seq, prev_hash, _stored_body(event)) == event.hash
            or chain_hash(event.seq, prev_hash, event_body(event)) == event.hash)


_text = json.encoder.encode_basestring  # a JSON string, non-ASCII kept (ensure_ascii=False)


def _stored_body(row) -> bytes:
    """``canonical(event_body(row))`` for a row whose details are stored canonical."""
    (seq, occurred_at, actor_id, actor_role, source_ip, action, object_type, object_id, uf,
     details, *_) = row  # unpacked: a Row's attribute lookups cost more than the hashing
    return (
        f'{{"action":{_text(action)},'
        f'"actor_id":{"null" if actor_id is None else int(actor_id)},'
        f'"actor_role":{_text(actor_role)},"details":{details},'
        f'"object_id":{_optional(object_id)},"object_type":{_optional(object_type)},'
        f'"occurred_at":"{_iso(occurred_at)}","seq":{int(seq)},'
        f'"source_ip":{_optional(source_ip)},"uf":{_optional(uf)}}}'
    ).encode()


def _optional(value: str | None) -> str:
    return "null" if value is None else _text(value)


_STORED = [AuditEvent.__table__.c[name] for name in (
    "seq", "occurred_at", "actor_id", "actor_role", "source_ip", "action", "object_type",
    "object_id", "uf", "details", "prev_hash", "hash")]  # the order _stored_body unpacks


def stored_events(execute, *, after: int, up_to: int, batch: int = 5000) -> Iterator:
    """Rows of events ``after``+1 … ``up_to`` in seq order, in batches, without filling a
    session; ``execute`` is a session's or a connection's."""
    seq = AuditEvent.__table__.c.seq
    while True:
        rows = execute(select(*_STORED).where(seq > after, seq <= up_to)
                       .order_by(seq).limit(batch)).all()
        if not rows:
            return
        yield from rows
        after = rows[-1].seq


def record(
    tag: Tag,
    actor: Actor,
    *,
    object_type: str | None = None,
    object_id: str | None = None,
    uf: str | None = None,
    details: dict | None = None,
) -> AuditEvent:
    """Append one event to the chain, in the caller's transaction.

    Call it last in a transaction: the head row stays locked until commit
    (PostgreSQL: SELECT … FOR UPDATE; SQLite: the write lock of BEGIN IMMEDIATE).
    """
    head = db.session.execute(
        select(AuditHead).where(AuditHead.id == 1).with_for_update()
    ).scalar_one()
    event = AuditEvent(
        seq=head.seq + 1,
        occurred_at=utcnow(),  # taken after the lock, so time follows seq
        actor_id=actor.user.id if actor.user else None,
        actor_role=actor.role_label,
        source_ip=actor.source_ip,
        action=tag.value,
        object_type=object_type,
        object_id=object_id,
        uf=uf,
        details=canonical(details or {}).decode(),
        prev_hash=head.hash,
    )
    event.hash = chain_hash(event.seq, head.hash, event_body(event))
    db.session.add(event)
    head.seq, head.hash = event.seq, event.hash
    db.session.flush()
    return event


@dataclass(frozen=True)
class Verification:
    ok: bool
    checked: int
    broken_seq: int | None = None
    problem: str | None = None


def verify_chain(batch: int = 5000) -> Verification:
    """Recompute every hash in order up to the head; report the first event that does not hold.

    The head is read first and the events up to it are checked against it. Events
    appended meanwhile lie beyond that head (an event and its head move in one
    commit), so verifying a live system never mistakes new events for tampering.
    """
    head = _head()
    if head is None:
        return Verification(False, 0, 1, "head missing")
    prev, expected_seq = GENESIS, 1
    for event in stored_events(db.session.execute, after=0, up_to=head.seq, batch=batch):
        if event.seq != expected_seq:
            return Verification(False, expected_seq - 1, expected_seq, "missing event")
        if event.prev_hash != prev:
            return Verification(False, expected_seq - 1, event.seq, "previous hash differs")
        if not holds(event, prev):
            return Verification(False, expected_seq - 1, event.seq, "content altered")
        prev, expected_seq = event.hash, expected_seq + 1
    if head.seq != expected_seq - 1 or head.hash != prev:
        return Verification(False, expected_seq - 1, expected_seq, "head does not match")
    # A row slipped in beyond the head: read the highest seq before the head again,
    # so that an append committing in between cannot look like one.
    highest = db.session.scalar(select(func.max(AuditEvent.seq)))
    latest = _head()
    if latest is None or (highest or 0) > latest.seq:
        return Verification(False, head.seq, (latest.seq if latest else head.seq) + 1,
                            "event beyond the head")
    return Verification(True, head.seq)


def _head():
    """(seq, hash) of the chain's head as committed now, or None."""
    return db.session.execute(
        select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == 1)
    ).one_or_none()
