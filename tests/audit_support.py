"""Keys, a busy trail and the tampering an administrator with the owner's rights could do
to the audit tables (the append-only triggers dropped first), for the checkpoint and
export tests."""

from __future__ import annotations

import base64
import hashlib
from datetime import timedelta

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, select, text

from models import AuditCheckpoint, AuditEvent, db, utcnow
from tests.factories import case_in, make_people, make_user
from workflow.audit import canonical, chain_hash, event_body

KEY = base64.b64encode(bytes(range(32))).decode()  # AUDIT_SIGNING_KEY of the tests
OTHER_KEY = base64.b64encode(bytes(range(100, 132))).decode()  # nobody's key
NAME = "porta25.example.com.br/audit"

TRIGGERS = {
    "sqlite": [("audit_event_no_update", ""), ("audit_event_no_delete", ""),
               ("audit_checkpoint_no_update", ""), ("audit_checkpoint_no_delete", "")],
    "postgresql": [("audit_event_no_change", " ON audit_event"),
                   ("audit_checkpoint_no_change", " ON audit_checkpoint")],
}


def private_key(seed: str = KEY) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(base64.b64decode(seed))


def verifier_string(seed: str = KEY, name: str = NAME) -> str:
    """The C2SP verifier key of ``seed``, built here by hand from the spec."""
    raw = b"\x01" + private_key(seed).public_key().public_bytes_raw()
    key_id = hashlib.sha256(name.encode() + b"\n" + raw).digest()[:4]
    return f"{name}+{key_id.hex()}+{base64.b64encode(raw).decode()}"


def busy_trail(app):
    """Cases of an SP and an RJ customer through several transitions (~30 events)."""
    people = make_people(app, "customer", "operator")
    carioca = make_user(app, uf="RJ")
    for status in ("approved", "rejected", "awaiting_customer"):
        case_in(app, status, people)
    rio = type(people)(customer=carioca, operator=people.operator)
    for status in ("approved", "in_review"):
        case_in(app, status, rio)
    return people, carioca


def execute(app, sql: str, **params) -> None:
    with app.app_context():
        db.session.execute(text(sql), params)
        db.session.commit()


def head_seq(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.max(AuditEvent.seq)))


def unprotect(app) -> None:
    """Drop the triggers that keep both audit tables append-only."""
    with app.app_context():
        dialect = db.engine.dialect.name
    for trigger, on in TRIGGERS[dialect]:
        execute(app, f"DROP TRIGGER {trigger}{on}")


def change_field(app, seq: int) -> None:
    unprotect(app)
    execute(app, "UPDATE audit_event SET actor_id = 999 WHERE seq = :seq", seq=seq)


def delete_event(app, seq: int) -> None:
    unprotect(app)
    execute(app, "DELETE FROM audit_event WHERE seq = :seq", seq=seq)


def swap(app, seq: int) -> None:
    """Events ``seq`` and ``seq + 1`` trade places (unique keys: through a free number)."""
    unprotect(app)
    for old, new in ((seq, -1), (seq + 1, seq), (-1, seq + 1)):
        execute(app, "UPDATE audit_event SET seq = :new WHERE seq = :old", old=old, new=new)


def rewrite_from(app, seq: int) -> None:
    """Alter event ``seq`` and recompute every later hash and the head: the chain holds."""
    unprotect(app)
    with app.app_context():
        table = AuditEvent.__table__
        prev = db.session.scalar(select(table.c.hash).where(table.c.seq == seq - 1))
        rows = db.session.execute(select(table).where(table.c.seq >= seq)
                                  .order_by(table.c.seq)).all()
        for row in rows:
            body = event_body(row)
            if row.seq == seq:
                body["details"] = {**body["details"], "forged": True}
            new = chain_hash(row.seq, prev, body)
            db.session.execute(table.update().where(table.c.seq == row.seq).values(
                prev_hash=prev, hash=new, details=canonical(body["details"]).decode()))
            prev = new
        db.session.execute(text("UPDATE audit_head SET hash = :h"), {"h": prev})
        db.session.commit()


def truncate_tail(app, keep: int) -> None:
    """Remove every event after ``keep`` and rewind the head to it: the chain holds."""
    unprotect(app)
    with app.app_context():
        table = AuditEvent.__table__
        last = db.session.scalar(select(table.c.hash).where(table.c.seq == keep))
        db.session.execute(table.delete().where(table.c.seq > keep))
        db.session.execute(text("UPDATE audit_head SET seq = :s, hash = :h"),
                           {"s": keep, "h": last})
        db.session.commit()


def forge_note(app, seq: int) -> None:
    """Put another hash in a checkpoint's note, keeping its signature line."""
    unprotect(app)
    with app.app_context():
        checkpoint = db.session.get(AuditCheckpoint, seq)
        lines = checkpoint.note.split("\n")
        lines[2] = base64.b64encode(bytes(32)).decode()
        note = "\n".join(lines)
    execute(app, "UPDATE audit_checkpoint SET note = :n WHERE seq = :s", n=note, s=seq)


def sign_with_other_key(app, seq: int) -> None:
    """Replace a checkpoint's signature by one of a key under the same name."""
    from workflow import signed_note

    unprotect(app)
    with app.app_context():
        checkpoint = db.session.get(AuditCheckpoint, seq)
        body = checkpoint.note.rpartition("\n\n")[0] + "\n"
        note = signed_note.sign(body, NAME, private_key(OTHER_KEY))
    execute(app, "UPDATE audit_checkpoint SET note = :n WHERE seq = :s", n=note, s=seq)


def later(minutes: float):
    """A clock ``minutes`` from now."""
    moment = utcnow() + timedelta(minutes=minutes)
    return lambda: moment
