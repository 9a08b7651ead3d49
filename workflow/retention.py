"""LGPD retention (DESIGN §9): personal data are anonymised RETENTION_YEARS after a case ends.

When a case has *ended*: its status is terminal — rejected, cancelled, revoked
or expired — and it ended at the latest of its last change (``updated_at``: the
transition into that status, or any later change such as a staff note's
version bump), its decision (``decided_at``) and, for a refusal that may still
be appealed, the end of the appeal window. Approved and active cases never end
here: they end by expiry or revocation first.

A case that ended more than RETENTION_YEARS ago (calendar years) keeps its
protocol, status, dates, target, category, sending profile, terms version, reason
and the codes and hashes of its records — what a regulator counts and verifies —
plus the outcome of each DNS evidence check and the address checked (inside the
target), the enforcement events' type, target, dates and sequence with every
delivery's status and attempts (time, HTTP status, duration), and the audit trail.
It loses, in one transaction (``workflow.retention_traces`` finds and erases them):

- in its row: the justification, the mail host, the subscriber id, the address
  the terms were accepted from;
- every message body (staff notes too);
- the bytes of its records (``record_file``; a record's code and SHA-256 stay, so
  /verify still confirms a copy the customer kept) — those asked for after the
  anonymisation hold only the erased case and stay;
- the facts of its evidence checks (DNS names, the mail host's domain, SPF text:
  set to ``{}``, the one update the triggers allow, and only for an anonymised
  case); pages and dossiers say the detail was erased;
- the subscriber id in the webhook bodies of its enforcement events (the change
  feed's too) and the receivers' answers quoted in their attempts' errors (cut to
  ``HTTP <status>``) — once nothing will send the event again: no delivery of it
  pending, every active endpoint past it;
- the e-mails about it (``notification.case_id``), once sent or given up;
- the render errors of its documents' requests.

What was still pending then is erased by a later run once finished: a
``retention:erased`` event with the same counts.

A customer is anonymised once every case of theirs is (a customer who never
asked for anything too) and their account has been idle as long: created, last
signed in and last used an API token more than RETENTION_YEARS ago. Name,
e-mail (``anon-<id>@invalid``, still unique), CPF/CNPJ, phone and subscriber id
go; the account can no longer sign in, its tokens are revoked and their names
erased, its e-mails and the bytes of its records (history statements) are
deleted, its documents' render errors cleared.

Each anonymisation is a ``retention:anonymised`` audit event by
``system:retention`` holding references and counts only (the protocol or the user
id, how many rows of each kind were erased), so the chain stays verifiable: events
never held the personal data. The dry run lists the same counts. What stays in the
chain: the address each customer action came from (``source_ip``, hashed), and
what regulators typed (a reveal's reason, a list export's search).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import String, cast, exists, select

from models import ApiToken, AuditEvent, Case, CaseStatus, Role, User, db

from . import audit
from . import retention_traces as traces
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
    """What a run erases, in order, each with the counts of ``workflow.retention_traces``."""

    due_cases: dict[str, dict[str, int]]  # protocol -> counts
    due_customers: dict[int, dict[str, int]]  # user id -> counts
    leftovers: dict[str, dict[str, int]]  # anonymised cases still holding what was pending

    @property
    def cases(self) -> list[str]:
        return list(self.due_cases)

    @property
    def customers(self) -> list[int]:
        return list(self.due_customers)


def plan(now: datetime) -> Plan:
    """The cases and customers due at ``now`` and what each still holds; changes nothing
    (the dry run shows it)."""
    limit = cutoff(now)
    candidates = db.session.scalars(select(Case).where(
        Case.status.in_(ENDED), Case.anonymised_at.is_(None), Case.updated_at < limit)
        .order_by(Case.id)).all()
    cases = [c for c in candidates if ended_at(c) < limit]
    due = {c.protocol for c in cases}
    customers = {user.id: traces.find_customer(
        user, cases_due=[c.id for c in cases if c.customer_id == user.id]).counts()
        for user in _idle_customers(limit) if _all_cases_done(user.id, due_protocols=due)}
    leftovers = {case.protocol: found.counts() for case in traces.leftover_candidates()
                 if (found := traces.find_case(case, as_of=case.anonymised_at))}
    return Plan({c.protocol: traces.find_case(c, as_of=now).counts() for c in cases},
                customers, leftovers)


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


def anonymise_case(case: Case, *, now: datetime) -> dict[str, int] | None:
    """Erase the case's personal data, in its row and wherever else they live; returns
    what was erased (counts), or None when the case is not due (done meanwhile, or
    changed since the plan)."""
    if case.anonymised_at is not None or (ended_at(case) or now) >= cutoff(now):
        return None
    case.justification = case.mail_hostname = case.subscriber_id = ""
    case.terms_accepted_from = None
    case.anonymised_at = now
    db.session.flush()  # first: the evidence triggers erase the facts of anonymised cases only
    found = traces.find_case(case, as_of=now)
    traces.erase_case(found)
    audit.record(Tag.RETENTION_ANONYMISED, ACTOR, object_type="case", object_id=case.protocol,
                 uf=case.uf, details={"protocol": case.protocol, **found.counts()})
    return found.counts()


def erase_leftovers(case: Case) -> dict[str, int] | None:
    """Erase what an anonymised case held that was still pending at its anonymisation
    (a delivery, an e-mail, a render) and has finished since; None when nothing is left."""
    if case.anonymised_at is None:
        return None
    found = traces.find_case(case, as_of=case.anonymised_at)
    if not found:
        return None
    traces.erase_case(found)
    audit.record(Tag.RETENTION_ERASED, ACTOR, object_type="case", object_id=case.protocol,
                 uf=case.uf, details={"protocol": case.protocol, **found.counts()})
    return found.counts()


def anonymise_customer(user: User, *, now: datetime) -> dict[str, int] | None:
    """Erase the account's personal data (see the module docstring); returns what was
    erased (counts), or None when the account is not due (done meanwhile, or used again)."""
    if not _idle_customers(cutoff(now), user_id=user.id):
        return None
    if not _all_cases_done(user.id, due_protocols=set()):
        return None
    user.name, user.email = "", f"anon-{user.id}@invalid"
    user.cpf_cnpj = user.phone = user.subscriber_id = None
    user.password_hash = "!" + secrets.token_hex(16)  # no password matches it
    user.is_active, user.anonymised_at = False, now
    found = traces.find_customer(user)
    traces.erase_customer(found, now=now)
    audit.record(Tag.RETENTION_ANONYMISED, ACTOR, object_type="user", object_id=str(user.id),
                 uf=user.uf, details={"user_id": user.id, **found.counts()})
    return found.counts()
