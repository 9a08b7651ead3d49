"""Who may read which record (DESIGN §2, §8); anything else is NotFound, never Forbidden.

Customers read their own cases' customer documents and their own history
statements; staff read every record; auditors, in their scope (a national auditor:
all), the reports and the dossiers auditors asked for (masked), and a case's
customer documents (receipt, notices: they name the customer) only while they have
personal data revealed on that case — never a customer's statement nor a dossier
staff asked for (both show personal data unmasked).
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, and_, false, or_, select

from models import PersonalDataReveal, Record, RecordKind, RecordRequest, Role, User, db, utcnow

from .. import audit
from ..audit import Actor, Tag
from ..errors import NotFound
from . import codes

CASE_DOCUMENTS = frozenset({RecordKind.RECEIPT, RecordKind.APPROVAL, RecordKind.REJECTION,
                            RecordKind.REVOCATION, RecordKind.EXPIRY})
CUSTOMER_KINDS = CASE_DOCUMENTS | {RecordKind.HISTORY}


def visible_records(user: User) -> Select[tuple[Record]]:
    """A query of the records ``user`` may read."""
    query = select(Record)
    if user.role is Role.CUSTOMER:
        return query.where(Record.customer_id == user.id, Record.kind.in_(CUSTOMER_KINDS))
    if user.role in (Role.OPERATOR, Role.SUPERVISOR):
        return query
    if user.role is Role.AUDITOR:
        # Personal data stay masked until revealed (DESIGN §9): an auditor's dossier is
        # masked; a staff dossier and the customer's own documents are not.
        auditors = select(User.id).where(User.role == Role.AUDITOR)
        revealed = select(PersonalDataReveal.case_id).where(
            PersonalDataReveal.auditor_id == user.id, PersonalDataReveal.expires_at > utcnow())
        query = query.where(or_(
            Record.kind == RecordKind.REPORT,
            and_(Record.kind == RecordKind.DOSSIER, Record.issued_by_id.in_(auditors)),
            and_(Record.kind.in_(CASE_DOCUMENTS), Record.case_id.in_(revealed))))
        return query.where(Record.uf == user.uf) if user.uf else query
    return query.where(false())


def record_for(user: User, code_text: str) -> Record:
    """The record with this code if ``user`` may read it, else NotFound."""
    code = codes.normalise(code_text or "")
    record = code and db.session.scalars(
        visible_records(user).where(Record.code == code)).first()
    if not record:
        raise NotFound(_l("Documento não encontrado."))
    return record


def download(record: Record, actor: Actor) -> bytes:
    """The record's bytes; every download is an audit event (commit before serving)."""
    if record.content is None:
        raise NotFound(_l("Este documento foi apagado pela política de retenção de dados; "
                          "o código e o hash continuam verificáveis."))
    audit.record(Tag.RECORD_DOWNLOADED, actor, object_type="record", object_id=record.code,
                 uf=record.uf, details={"kind": record.kind.value, "case_id": record.case_id})
    return record.content


def records_of_case(user: User, case_id: int) -> list[Record]:
    """The records of a case that ``user`` may read, newest first."""
    return list(db.session.scalars(visible_records(user).where(Record.case_id == case_id)
                                   .order_by(Record.id.desc())))


def waiting(*, case_id: int | None = None, customer_id: int | None = None,
            kinds: frozenset[RecordKind] | None = None) -> list[RecordRequest]:
    """Requests not issued yet (being prepared, or given up: ``next_attempt_at`` is NULL)."""
    query = select(RecordRequest).where(RecordRequest.done_at.is_(None))
    if case_id is not None:
        query = query.where(RecordRequest.case_id == case_id)
    if customer_id is not None:
        query = query.where(RecordRequest.customer_id == customer_id)
    if kinds is not None:
        query = query.where(RecordRequest.kind.in_(kinds))
    return list(db.session.scalars(query.order_by(RecordRequest.id)))
