"""Regulators' oversight of a case's personal data (DESIGN §2, §9).

Auditors read case facts with the customer's personal data (name, CPF/CNPJ,
e-mail, phone) masked. To see them for one case, an auditor states a reason (a
PROCON's CIP number, an Anatel office letter): the data are then shown to that
auditor, for that case, for REVEAL_MINUTES. Each reveal is a ``PersonalDataReveal``
row and a ``case:personal_data_revealed`` audit event (the reason and the expiry:
references, never the data revealed), and the customer's history statement lists
it (workflow.records.history).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from models import Case, PersonalDataReveal, Role, User, db, iso_utc, utcnow

from . import audit
from .access import visible_cases
from .audit import Actor, Tag
from .config import setting
from .errors import Forbidden, InvalidInput, NotFound
from .text import clean_text

REASON_MIN = 3
REASON_MAX = 200  # the column's length


def reveal_personal_data(case: Case, *, actor: Actor, reason: str | None,
                         now: datetime | None = None) -> PersonalDataReveal:
    """Show ``case``'s personal data to the acting auditor for REVEAL_MINUTES, audited."""
    auditor = _auditor_of(case, actor)
    stated = _reason(reason)
    now = now or utcnow()
    reveal = PersonalDataReveal(
        auditor_id=auditor.id, case_id=case.id, reason=stated, granted_at=now,
        expires_at=now + timedelta(minutes=setting("REVEAL_MINUTES")))
    db.session.add(reveal)
    db.session.flush()
    audit.record(Tag.CASE_PERSONAL_DATA_REVEALED, actor, object_type="case",
                 object_id=case.protocol, uf=case.uf,
                 details={"reveal_id": reveal.id, "reason": stated,
                          "expires_at": iso_utc(reveal.expires_at)})
    return reveal


def active_reveal(case: Case, user: User, now: datetime | None = None
                  ) -> PersonalDataReveal | None:
    """The reveal that lets ``user`` see ``case``'s personal data now (latest expiry), or None."""
    return db.session.scalars(
        select(PersonalDataReveal)
        .where(PersonalDataReveal.auditor_id == user.id, PersonalDataReveal.case_id == case.id,
               PersonalDataReveal.expires_at > (now or utcnow()))
        .order_by(PersonalDataReveal.expires_at.desc()).limit(1)).first()


def _auditor_of(case: Case, actor: Actor) -> User:
    """The acting auditor, if the case is in their scope (else NotFound, as case_for)."""
    user = actor.user
    if user is None or user.role is not Role.AUDITOR:
        raise Forbidden(_l("Somente auditores revelam dados pessoais mascarados."))
    visible = db.session.scalars(visible_cases(user).where(Case.id == case.id)).first()
    if visible is None:
        raise NotFound(_l("Caso não encontrado."))
    return user


def _reason(text: str | None) -> str:
    """The stated reason on one line; refused when missing, too short or too long."""
    reason = " ".join(clean_text(text, field="reason").split())
    if not reason:
        raise InvalidInput(_l("Informe o motivo do acesso, por exemplo o número da CIP do "
                              "PROCON ou do ofício."), field="reason")
    if len(reason) < REASON_MIN:
        raise InvalidInput(_l("O motivo deve ter pelo menos %(n)d caracteres.", n=REASON_MIN),
                           field="reason")
    if len(reason) > REASON_MAX:
        raise InvalidInput(_l("O motivo pode ter no máximo %(n)d caracteres.", n=REASON_MAX),
                           field="reason")
    return reason
