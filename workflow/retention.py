"""LGPD retention (DESIGN §9): personal data are anonymised RETENTION_YEARS after a case ends.

When a case has *ended*: its status is terminal — rejected, cancelled, revoked
or expired — and it ended at the latest of its last change (``updated_at``: the
transition into that status, or any later change such as a staff note's
version bump), its decision (``decided_at``) and, for a refusal that may still
be appealed, the end of the appeal window. Approved and active cases never end
here: they end by expiry or revocation first.

A case that ended more than RETENTION_YEARS ago (calendar years) keeps its
protocol, status, dates, target, category, reason and the codes and hashes of
its records — what a regulator counts and verifies — and loses: the
justification, the mail host, the subscriber id, the address the terms were
accepted from, every message body, and the bytes of its records (the
``record_file`` rows; a record's code and SHA-256 stay, so /verify still
confirms a copy the customer kept). The DNS evidence checks stay (insert-only
by design; see the README).

A customer is anonymised once every case of theirs is (a customer who never
asked for anything too) and their account has been idle as long: created, last
signed in and last used an API token more than RETENTION_YEARS ago. Name,
e-mail (``anon-<id>@invalid``, still unique), CPF/CNPJ, phone and subscriber id
go; the account can no longer sign in, its tokens are revoked, its e-mail copies
and history statements' bytes are deleted.

Each anonymisation is a ``retention:anonymised`` audit event by
``system:retention`` holding references only (the protocol or the user id), so
the chain stays verifiable: events never held the personal data.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import String, cast, delete, exists, select, update

from models import (
    ApiToken,
    AuditEvent,
    Case,
    CaseStatus,
    Message,
    Notification,
    Record,
    RecordFile,
    Role,
    User,
    db,
)

from . import audit
from .audit import Actor, Tag
from .config import setting
from .errors import InvalidInput

ACTOR = Actor.system("retention")
MIN_YEARS = 2
ENDED = frozenset({CaseStatus.REJECTED, CaseStatus.CANCELLED, CaseStatus.REVOKED,
                   CaseStatus.EXPIRED})
SIGN_INS = (Tag.USER_LOGGED_IN.value,)


def retention_years() -> int:
    """RETENTION_YEARS, refused below two years (settings.py refuses it at start too)."""
    years = setting("RETENTION_YEARS")
    if years < MIN_YEARS:
        raise InvalidInput(_l("RETENTION_YEARS deve ser de pelo menos %(min)d anos (os registros "
                              "de um pedido são guardados ao menos esse tempo depois do fim); "
                              "está em %(years)d.", min=MIN_YEARS, years=years),
                           field="RETENTION_YEARS")
    return years


def cutoff(now: datetime) -> datetime:
    """``now`` minus RETENTION_YEARS calendar years (29 February counts as the 28th)."""
    years = retention_years()
    try:
        return now.replace(year=now.year - years)
    except ValueError:
        return now.replace(year=now.year - years, day=28)


def ended_at(case: Case) -> datetime | None:
    """When ``case`` ended (see the module docstring), or None while it has not."""
    if case.status not in ENDED:
        return None
    moments = [case.updated_at, case.decided_at or case.updated_at]
    if case.status is CaseStatus.REJECTED and case.appealed_at is None and case.decided_at:
        moments.append(case.decided_at + timedelta(days=setting("APPEAL_WINDOW_DAYS")))
    return max(moments)


@dataclass(frozen=True)
class Plan:
    """What a run anonymises: case protocols and customer ids, in order."""

    cases: list[str]
    customers: list[int]


def plan(now: datetime) -> Plan:
    """The cases and customers due at ``now``; changes nothing (the dry run shows it)."""
    limit = cutoff(now)
    candidates = db.session.scalars(select(Case).where(
        Case.status.in_(ENDED), Case.anonymised_at.is_(None), Case.updated_at < limit)
        .order_by(Case.id)).all()
    cases = [c for c in candidates if ended_at(c) < limit]
    due = {c.protocol for c in cases}
    customers = [user.id for user in _idle_customers(limit)
                 if _all_cases_done(user.id, due_protocols=due)]
    return Plan([c.protocol for c in cases], customers)


def _idle_customers(limit: datetime, *, user_id: int | None = None) -> list[User]:
    """Customers not yet anonymised whose account was created, used and signed in to
    last before ``limit`` (or just ``user_id``, if it is one)."""
    signed_in = select(AuditEvent.seq).where(
        AuditEvent.action.in_(SIGN_INS), AuditEvent.object_type == "user",
        AuditEvent.object_id == cast(User.id, String), AuditEvent.occurred_at >= limit)
    token_used = select(ApiToken.id).where(ApiToken.user_id == User.id,
                                           ApiToken.last_used_at >= limit)
    query = select(User).where(
        User.role == Role.CUSTOMER, User.anonymised_at.is_(None), User.created_at < limit,
        ~exists(signed_in), ~exists(token_used)).order_by(User.id)
    if user_id is not None:
        query = query.where(User.id == user_id)
    return list(db.session.scalars(query))


def _all_cases_done(user_id: int, *, due_protocols: set[str]) -> bool:
    """Every case of the customer is anonymised already or due in this run."""
    left = db.session.scalars(select(Case.protocol).where(
        Case.customer_id == user_id, Case.anonymised_at.is_(None))).all()
    return all(protocol in due_protocols for protocol in left)


def anonymise_case(case: Case, *, now: datetime) -> int | None:
    """Erase the case's personal data and its records' bytes; returns the files deleted,
    or None when the case is not due (done meanwhile, or changed since the plan)."""
    if case.anonymised_at is not None or (ended_at(case) or now) >= cutoff(now):
        return None
    case.justification = case.mail_hostname = case.subscriber_id = ""
    case.terms_accepted_from = None
    case.anonymised_at = now
    db.session.execute(update(Message).where(Message.case_id == case.id).values(body="")
                       .execution_options(synchronize_session=False))
    files = _delete_files(select(Record.id).where(Record.case_id == case.id))
    db.session.flush()
    audit.record(Tag.RETENTION_ANONYMISED, ACTOR, object_type="case", object_id=case.protocol,
                 uf=case.uf, details={"protocol": case.protocol, "record_files": files})
    return files


def anonymise_customer(user: User, *, now: datetime) -> int | None:
    """Erase the account's personal data (see the module docstring); returns the files
    deleted, or None when the account is not due (done meanwhile, or used again)."""
    if not _idle_customers(cutoff(now), user_id=user.id):
        return None
    if not _all_cases_done(user.id, due_protocols=set()):
        return None
    user.name, user.email = "", f"anon-{user.id}@invalid"
    user.cpf_cnpj = user.phone = user.subscriber_id = None
    user.password_hash = "!" + secrets.token_hex(16)  # no password matches it
    user.is_active, user.anonymised_at = False, now
    db.session.execute(update(ApiToken).where(ApiToken.user_id == user.id,
                                              ApiToken.revoked_at.is_(None))
                       .values(revoked_at=now).execution_options(synchronize_session=False))
    db.session.execute(delete(Notification).where(Notification.user_id == user.id))
    files = _delete_files(select(Record.id).where(Record.customer_id == user.id))
    db.session.flush()
    audit.record(Tag.RETENTION_ANONYMISED, ACTOR, object_type="user", object_id=str(user.id),
                 uf=user.uf, details={"user_id": user.id, "record_files": files})
    return files


def _delete_files(record_ids) -> int:
    """Delete the bytes of these records (record_file rows); their code and hash stay."""
    result = db.session.execute(delete(RecordFile).where(RecordFile.record_id.in_(record_ids))
                                .execution_options(synchronize_session=False))
    return result.rowcount or 0
