"""Automated evidence about a case's target (DESIGN §4): PTR, forward-confirmed reverse
DNS, SPF and MX, looked up by the worker and kept with the case.

An ``EvidenceRun`` is one round of checks: it is due while ``finished_at`` is NULL
(a staff member asked again) and the worker writes one ``EvidenceCheck`` per kind
when it finishes. Checks are insert-only (database triggers): what the operator
relied on is never rewritten; a new run is new rows. The one update the triggers
allow is LGPD retention's: once the case is anonymised, ``facts`` (DNS names, the
mail host's domain, SPF text) may be set to ``ERASED_FACTS``, every other column
unchanged — the outcome and the detail's key stay.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import db, str_enum, utcnow
from .user import User


class EvidenceKind(enum.StrEnum):
    PTR = "ptr"  # the address has a reverse name
    FCRDNS = "fcrdns"  # that name resolves back to the address
    SPF = "spf"  # the mail host's domain authorises the address (RFC 7208 check_host)
    MX = "mx"  # the domain receives mail, and whether at the mail host (informational)


class EvidenceOutcome(enum.StrEnum):
    PASS = "pass"
    FAIL = "fail"
    ERROR = "error"  # no conclusion: timeout, SERVFAIL, time budget spent
    NOT_APPLICABLE = "not_applicable"


class AddressSource(enum.StrEnum):
    TARGET = "target"  # the target is one address
    MAIL_HOST = "mail_host"  # a prefix: the mail host's address inside it
    FIRST_USABLE = "first_usable"  # a prefix the mail host does not resolve into


ERASED_FACTS = "{}"  # the facts of a check of an anonymised case, once erased (retention)

# At most one run waits per case: a second request while one waits is the same request.
_PENDING_SQL = "finished_at IS NULL"


class EvidenceRun(db.Model):
    """One round of checks of a case, asked for at submission or by the staff."""

    __tablename__ = "evidence_run"
    __table_args__ = (
        Index("uq_evidence_run_pending", "case_id", unique=True,
              sqlite_where=db.text(_PENDING_SQL), postgresql_where=db.text(_PENDING_SQL)),
        Index("ix_evidence_run_due", "finished_at", "claimed_until"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    requested_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id"), comment="NULL: the first check after submission")
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_until: Mapped[datetime | None] = mapped_column(
        comment="a worker's lease; another may take the run over after it")
    attempts: Mapped[int] = mapped_column(default=0)
    finished_at: Mapped[datetime | None]
    resolver: Mapped[str | None] = mapped_column(String(200), comment="servers asked")
    address: Mapped[str | None] = mapped_column(String(39), comment="the address checked")
    address_source: Mapped[AddressSource | None] = mapped_column(str_enum(AddressSource))

    requested_by: Mapped[User | None] = relationship()
    checks: Mapped[list[EvidenceCheck]] = relationship(
        back_populates="run", order_by="EvidenceCheck.id")


class EvidenceCheck(db.Model):
    """The outcome of one kind of check in one run, never changed once written."""

    __tablename__ = "evidence_check"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("evidence_run.id"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    kind: Mapped[EvidenceKind] = mapped_column(str_enum(EvidenceKind))
    outcome: Mapped[EvidenceOutcome] = mapped_column(str_enum(EvidenceOutcome))
    detail: Mapped[str] = mapped_column(
        String(40), comment="key of the worded detail (workflow.evidence), e.g. spf.pass")
    facts: Mapped[str] = mapped_column(Text, comment="JSON: the detail's values, as seen")
    checked_at: Mapped[datetime] = mapped_column(default=utcnow)

    run: Mapped[EvidenceRun] = relationship(back_populates="checks")
