"""Records people ask for: a case's dossier (staff, auditors) and a re-issue (staff).

Both write a request in the caller's transaction and an audit event saying who
asked; the worker renders it after commit. The record it gives keeps the
requester as ``issued_by``, and supersedes the series' previous one.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from models import Case, Record, RecordKind, RecordRequest, Role, User, db

from .. import audit
from ..access import visible_cases
from ..audit import Actor, Tag
from ..errors import Forbidden, InvalidInput, NotFound
from .documents.dossier import STAFF_ROLES, is_masked
from .issue import language_of, request_record

DOSSIER_ROLES = frozenset({Role.OPERATOR, Role.SUPERVISOR, Role.AUDITOR})
# What staff may issue again (the customer's documents); a dossier is simply asked for anew.
REISSUABLE = frozenset({RecordKind.RECEIPT, RecordKind.APPROVAL, RecordKind.REJECTION,
                        RecordKind.REVOCATION, RecordKind.EXPIRY})
MASKED = "masked"  # the series variant of auditors' dossiers


def request_dossier(case: Case, *, actor: Actor) -> RecordRequest:
    """Ask for ``case``'s dossier, in the requester's language; staff and auditors in scope."""
    user = _reader_of(case, actor)
    if user.role not in DOSSIER_ROLES:
        raise Forbidden(_l("Somente a equipe do provedor e os auditores emitem o dossiê."))
    # Auditors' dossiers mask personal data: a series of their own, never merged with staff's.
    variant = MASKED if is_masked(user) else None
    pending = request_record(RecordKind.DOSSIER, case=case, language=language_of(user),
                             requested_by=user, variant=variant)
    _audit(pending, case, actor)
    return pending


def reissue(record: Record, *, case: Case, actor: Actor) -> RecordRequest:
    """Issue a customer document of ``case`` again (staff); the new one supersedes it."""
    user = _reader_of(case, actor)
    if record.case_id != case.id:
        raise NotFound(_l("Documento não encontrado."))
    if user.role not in STAFF_ROLES:
        raise Forbidden(_l("Somente a equipe do provedor reemite documentos."))
    if record.kind not in REISSUABLE:
        raise InvalidInput(_l("Este documento não se reemite; peça um novo dossiê."))
    pending = request_record(record.kind, case=case, language=record.language,
                             requested_by=user)
    _audit(pending, case, actor, reissue_of=record.code)
    return pending


def _reader_of(case: Case, actor: Actor) -> User:
    """The acting user, if the case is within their view (else NotFound, as case_for)."""
    user = actor.user
    visible = user is not None and db.session.scalars(
        visible_cases(user).where(Case.id == case.id)).first()
    if not visible:
        raise NotFound(_l("Caso não encontrado."))
    return user


def _audit(pending: RecordRequest, case: Case, actor: Actor, reissue_of: str | None = None):
    details = {"kind": pending.kind.value, "case_id": case.id, "protocol": case.protocol}
    if reissue_of:
        details["reissue_of"] = reissue_of
    audit.record(Tag.RECORD_REQUESTED, actor, object_type="record", object_id=pending.code,
                 uf=case.uf, details=details)
