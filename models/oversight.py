"""What regulators' work leaves behind: reveals of personal data, and the business calendar.

A ``PersonalDataReveal`` lets one auditor see one case's personal data until
``expires_at``, for a stated reason (a PROCON's CIP number); granting it is an
audit event, and the customer's history statement lists it (DESIGN §9).
``CalendarDay`` corrects the holiday library for one state (or nationally: ``uf``
'BR'): a local holiday it lacks, or a holiday that was worked; deadlines read it,
supervisors edit it, every change audited with its diff.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import db, utcnow


class PersonalDataReveal(db.Model):
    __tablename__ = "personal_data_reveal"
    __table_args__ = (Index("ix_reveal_auditor_case", "auditor_id", "case_id", "expires_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    auditor_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    reason: Mapped[str] = mapped_column(String(200), comment="e.g. the PROCON's CIP number")
    granted_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]


class CalendarDay(db.Model):
    __tablename__ = "calendar_day"

    uf: Mapped[str] = mapped_column(String(2), primary_key=True, comment="a state, or BR")
    day: Mapped[date] = mapped_column(primary_key=True)
    business_day: Mapped[bool] = mapped_column(comment="false: closed (a holiday the library "
                                                       "lacks); true: worked despite one")
    note: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
