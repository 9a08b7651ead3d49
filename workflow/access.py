"""Object-level authorisation: which cases a user may see at all (DESIGN §2).

A case outside the actor's view is NotFound, never Forbidden: its existence is
not disclosed.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, false, select

from models import Case, Role, User, db

from .errors import NotFound
from .protocol import is_valid


def visible_cases(user: User) -> Select[tuple[Case]]:
    """A query of the cases ``user`` may read."""
    query = select(Case)
    if user.role is Role.CUSTOMER:
        return query.where(Case.customer_id == user.id)
    if user.role in (Role.OPERATOR, Role.SUPERVISOR):
        return query
    if user.role is Role.AUDITOR:
        return query.where(Case.uf == user.uf) if user.uf else query
    return query.where(false())  # providers see no cases


def case_for(user: User, protocol: str, *, for_update: bool = False) -> Case:
    """The case with ``protocol`` if ``user`` may see it, else NotFound."""
    if not is_valid(protocol or ""):
        raise NotFound(_l("Protocolo inválido: confira os 13 dígitos."))
    query = visible_cases(user).where(Case.protocol == protocol)
    case = db.session.scalars(query).first()
    if case is None:
        raise NotFound(_l("Caso não encontrado."))
    return case
