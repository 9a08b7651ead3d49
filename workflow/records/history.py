"""A customer's history statement: every request and what became of it (DESIGN §9).

The SAC rules give five days to hand a consumer the history of their demands;
ours is immediate, as a PDF the worker issues and as JSON served at once. Both
come from ``statement``: the PDF prints it and embeds ``as_data(statement)``,
the JSON download is ``as_data(statement)`` itself. It lists every document
issued about each request, and who asked for it in the customer's terms (a
regulator by name, "the provider's team", the system) — the case dossiers too,
which the customer may not download but has the right to know of (LGPD art. 18).
It also lists every time an auditor revealed the customer's personal data
(DESIGN §9): when, which regulator's scope, the reason given and until when.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from models import Case, CaseStatus, PersonalDataReveal, Record, Role, User, db, iso_utc

from .. import labels
from . import codes
from .access import visible_records
from .statistics import appeal_outcome, outcome

# The statuses whose reason code is theirs: the refusal's, or the revocation's. (An
# appealed or re-decided case keeps the old refusal's code, which no longer applies.)
WITH_REASON = frozenset({CaseStatus.REJECTED, CaseStatus.REVOKED})


@dataclass(frozen=True)
class IssuedRecord:
    kind: str
    kind_label: str
    code: str  # as displayed: 7KQ2-M9XD-…
    issued_at: datetime
    sha256: str
    requested_by: str  # customer, staff, auditor or system
    requested_by_label: str  # "Você", "Equipe do provedor", "PROCON-SP", "Anatel", "Sistema"
    downloadable: bool  # by the customer (a dossier is the staff's and the regulators')


@dataclass(frozen=True)
class Reveal:
    """An auditor saw the customer's personal data on one request (never who, by name)."""

    protocol: str
    granted_at: datetime
    expires_at: datetime
    scope: str | None  # the auditor's UF; None: national
    scope_label: str
    reason: str


@dataclass(frozen=True)
class RequestLine:
    """One request as the statement tells it (labels in the statement's language)."""

    case: Case
    category_label: str
    status_label: str
    outcome: str
    outcome_label: str
    reason: str | None
    appeal_outcome: str | None
    appeal_outcome_label: str | None
    records: list[IssuedRecord]


@dataclass(frozen=True)
class Statement:
    customer: User
    document: str
    requests: list[RequestLine]
    generated_at: datetime
    reveals: list[Reveal]

    @property
    def withheld(self) -> bool:
        """Whether a document listed is not the customer's to download (a case dossier)."""
        return any(not r.downloadable for line in self.requests for r in line.records)


def format_document(digits: str | None) -> str:
    """CPF as 123.456.789-09, CNPJ as 12.345.678/0001-90 (the customer's own, unmasked)."""
    digits = re.sub(r"\D", "", digits or "")
    if len(digits) == 11:
        return f"{digits[:3]}.{digits[3:6]}.{digits[6:9]}-{digits[9:]}"
    if len(digits) == 14:
        return f"{digits[:2]}.{digits[2:5]}.{digits[5:8]}/{digits[8:12]}-{digits[12:]}"
    return digits or "—"


def statement(customer: User, now: datetime) -> Statement:
    """Every request of ``customer``, oldest first, with the records issued for each."""
    cases = db.session.scalars(select(Case).where(Case.customer_id == customer.id)
                               .order_by(Case.submitted_at, Case.id)).all()
    issued: dict[int, list[IssuedRecord]] = {}
    for case_id, record in _issued_about(customer, [c.id for c in cases]):
        issued.setdefault(case_id, []).append(record)
    return Statement(customer, format_document(customer.cpf_cnpj),
                     [_line(case, issued.get(case.id, [])) for case in cases], now,
                     reveals(customer))


def _issued_about(customer: User, case_ids: list[int]) -> list[tuple[int, IssuedRecord]]:
    """Every record of these cases (with its case id), oldest first, whoever may read it."""
    readable = set(db.session.scalars(visible_records(customer).where(
        Record.case_id.in_(case_ids)).with_only_columns(Record.id)))
    rows = db.session.execute(
        select(Record, User.role, User.uf).outerjoin(User, User.id == Record.issued_by_id)
        .where(Record.case_id.in_(case_ids)).order_by(Record.id)).all()
    return [(record.case_id, IssuedRecord(
        record.kind.value, str(labels.RECORD_KIND_LABELS[record.kind]),
        codes.display(record.code), record.issued_at, record.sha256,
        *_requester(role, uf), record.id in readable)) for record, role, uf in rows]


def _requester(role: Role | None, uf: str | None) -> tuple[str, str]:
    """Who asked for a record, as the customer reads it: never a staff member's name."""
    if role is None:
        return "system", str(labels.AUTHOR_LABELS["system"])
    if role is Role.AUDITOR:
        return "auditor", labels.auditor_scope_label(uf)
    if role is Role.CUSTOMER:
        return "customer", str(labels.AUTHOR_LABELS["customer"])
    return "staff", str(labels.AUTHOR_LABELS["staff"])


def reveals(customer: User) -> list[Reveal]:
    """Every reveal of the customer's personal data to an auditor, oldest first."""
    rows = db.session.execute(
        select(PersonalDataReveal, Case.protocol, User.uf)
        .join(Case, Case.id == PersonalDataReveal.case_id)
        .join(User, User.id == PersonalDataReveal.auditor_id)
        .where(Case.customer_id == customer.id)
        .order_by(PersonalDataReveal.granted_at, PersonalDataReveal.id)).all()
    return [Reveal(protocol, reveal.granted_at, reveal.expires_at, uf,
                   labels.auditor_scope_label(uf), reveal.reason)
            for reveal, protocol, uf in rows]


def _line(case: Case, records: list[IssuedRecord]) -> RequestLine:
    from ..engine import STATUS_LABELS  # here: the engine imports records (it asks for notices)

    result = outcome(case.status.value)
    appeal = appeal_outcome(case.status.value, case.appealed_at is not None)
    return RequestLine(
        case=case, category_label=str(labels.CATEGORY_LABELS[case.category]),
        status_label=str(STATUS_LABELS[case.status]), outcome=result,
        outcome_label=str(labels.OUTCOME_LABELS[result]),
        reason=labels.reason_label(case) if case.status in WITH_REASON else None,
        appeal_outcome=appeal,
        appeal_outcome_label=str(labels.APPEAL_OUTCOME_LABELS[appeal]) if appeal else None,
        records=records)


def as_data(st: Statement) -> dict:
    """The statement as JSON values: what the PDF embeds and the JSON download holds."""
    person = st.customer
    return {
        "customer": {"name": person.name, "cpf_cnpj": st.document, "email": person.email,
                     "subscriber_id": person.subscriber_id, "uf": person.uf},
        "generated_at": iso_utc(st.generated_at),
        "requests": [_request_data(line) for line in st.requests],
        "personal_data_reveals": [
            {"protocol": r.protocol, "granted_at": iso_utc(r.granted_at),
             "expires_at": iso_utc(r.expires_at), "scope": r.scope or "BR",
             "scope_label": r.scope_label, "reason": r.reason} for r in st.reveals],
    }


def _request_data(line: RequestLine) -> dict:
    case = line.case
    return {
        "protocol": case.protocol, "submitted_at": iso_utc(case.submitted_at),
        "target": case.target, "category": case.category.value,
        "category_label": line.category_label, "status": case.status.value,
        "status_label": line.status_label, "decided_at": iso_utc(case.decided_at),
        "outcome": line.outcome, "outcome_label": line.outcome_label,
        "reason_code": case.reason_code if line.reason else None, "reason": line.reason,
        "valid_from": iso_utc(case.valid_from), "valid_until": iso_utc(case.valid_until),
        "appealed_at": iso_utc(case.appealed_at), "appeal_outcome": line.appeal_outcome,
        "appeal_outcome_label": line.appeal_outcome_label,
        "records": [{"kind": r.kind, "kind_label": r.kind_label, "code": r.code,
                     "issued_at": iso_utc(r.issued_at), "sha256": r.sha256,
                     "requested_by": r.requested_by, "requested_by_label": r.requested_by_label,
                     "downloadable": r.downloadable}
                    for r in line.records],
    }
