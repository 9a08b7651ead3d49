"""Pieces several documents share: the case's audit events, its link, the contacts."""

from __future__ import annotations

from sqlalchemy import select

from models import AuditEvent, Case, db

from ...config import setting
from ...links import public_url


def case_event(case: Case, action: str) -> AuditEvent | None:
    """The latest audit event ``action`` of ``case`` (what a notice attests)."""
    return db.session.scalars(
        select(AuditEvent).where(AuditEvent.object_type == "case",
                                 AuditEvent.object_id == case.protocol,
                                 AuditEvent.action == action)
        .order_by(AuditEvent.seq.desc()).limit(1)).first()


def case_link(case: Case) -> str:
    """Where the customer follows the case in the portal."""
    return public_url("portal.case", protocol=case.protocol)


def contacts() -> dict:
    """The ISP's service channel; the regulators' are in templates/records/_contacts.html."""
    return {"isp": setting("ISP_NAME"), "support": setting("ISP_SUPPORT")}
