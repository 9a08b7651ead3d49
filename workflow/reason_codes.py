"""The reason-code catalogue for reject and revoke (DESIGN §3), edited by supervisors.

A code, once used, is kept forever (cases and notices name it): it is switched
off, never deleted or renamed. ``customer_request`` is what a customer giving an
exception back records, so it stays active; so does at least one code per action.
Each addition and change is an audit event with the diff of its fields.
"""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from models import ReasonCode, db

from . import audit
from .audit import Actor, Tag
from .errors import Conflict, InvalidInput, NotFound
from .states import Action
from .text import clean_text

ACTIONS = (Action.REJECT, Action.REVOKE)
ALWAYS_ACTIVE = frozenset({(Action.REVOKE.value, "customer_request")})
LABEL_MAX = 200
_CODE = re.compile(r"[a-z][a-z0-9_]{1,63}")


def catalogue() -> dict[str, list[ReasonCode]]:
    """Every code of each action, active ones first, then by code."""
    rows = db.session.scalars(select(ReasonCode).order_by(
        ReasonCode.action, ReasonCode.active.desc(), ReasonCode.code)).all()
    return {a.value: [r for r in rows if r.action == a.value] for a in ACTIONS}


def reason_for(action: str, code: str) -> ReasonCode:
    """The catalogue entry, or NotFound."""
    reason = db.session.get(ReasonCode, (action, code))
    if reason is None:
        raise NotFound(_l("Motivo não encontrado."))
    return reason


def create_reason(*, action: str, code: str | None, label_pt: str | None,
                  label_en: str | None, actor: Actor) -> ReasonCode:
    """Add a code to the catalogue of ``action`` (reject or revoke), active."""
    if action not in {a.value for a in ACTIONS}:
        raise InvalidInput(_l("Escolha a ação: indeferir ou revogar."), field="action")
    code = (code or "").strip().lower()
    if not _CODE.fullmatch(code):
        raise InvalidInput(_l("O código deve ter de 2 a 64 caracteres: letras minúsculas sem "
                              "acento, dígitos e _, começando por uma letra."), field="code")
    labels = _labels(label_pt, label_en)
    if db.session.get(ReasonCode, (action, code)) is not None:
        raise Conflict(_l("O código %(code)s já existe para esta ação.", code=code),
                       field="code")
    reason = ReasonCode(action=action, code=code, active=True, **labels)
    db.session.add(reason)
    db.session.flush()
    _audit(Tag.REASON_CODE_CREATED, reason, actor, {})
    return reason


def update_reason(reason: ReasonCode, *, label_pt: str | None, label_en: str | None,
                  active: bool, actor: Actor) -> bool:
    """Change the labels or switch the code on or off; False when nothing changed."""
    labels = _labels(label_pt, label_en)
    if not active and reason.active:
        _check_may_switch_off(reason)
    before = _values(reason)
    reason.label_pt, reason.label_en, reason.active = labels["label_pt"], labels["label_en"], active
    if _values(reason) == before:
        return False
    db.session.flush()
    _audit(Tag.REASON_CODE_CHANGED, reason, actor, before)
    return True


def _labels(label_pt: str | None, label_en: str | None) -> dict[str, str]:
    labels = {"label_pt": clean_text(label_pt, field="label_pt"),
              "label_en": clean_text(label_en, field="label_en")}
    for field, text in labels.items():
        if not text:
            raise InvalidInput(_l("Informe o texto em português.") if field == "label_pt"
                               else _l("Informe o texto em inglês."), field=field)
        if len(text) > LABEL_MAX:
            raise InvalidInput(_l("O texto deve ter até %(max)d caracteres.", max=LABEL_MAX),
                               field=field)
    return labels


def _check_may_switch_off(reason: ReasonCode) -> None:
    if (reason.action, reason.code) in ALWAYS_ACTIVE:
        raise Conflict(_l("O motivo %(code)s é o que o cliente registra ao devolver a "
                          "exceção; ele não pode ser desativado.", code=reason.code),
                       field="active")
    others = db.session.scalar(select(func.count()).where(
        ReasonCode.action == reason.action, ReasonCode.active.is_(True),
        ReasonCode.code != reason.code))
    if not others:
        raise Conflict(_l("É preciso manter pelo menos um motivo ativo para esta ação."),
                       field="active")


def _values(reason: ReasonCode) -> dict:
    return {"label_pt": reason.label_pt, "label_en": reason.label_en, "active": reason.active}


def _audit(tag: Tag, reason: ReasonCode, actor: Actor, before: dict) -> None:
    audit.record(tag, actor, object_type="reason_code",
                 object_id=f"{reason.action}/{reason.code}",
                 details={"changes": audit.diff(before, _values(reason))})
