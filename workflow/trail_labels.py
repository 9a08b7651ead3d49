"""The words a regulator reads on the audit trail: what happened, who did it, to what.

The trail stores codes (``user:logged_in``, ``operator``, ``endpoint``) and its exports
keep them (DESIGN §9); these labels are for the page only, which shows each code beside
its label so that the page and an export can be read side by side. Every ``Tag`` has a
label here (a test holds it); the case's own events say what the desk says
(labels.STAFF_EVENT_LABELS). The case dossier prints its trail with these labels too.
"""

from __future__ import annotations

import unicodedata

from flask_babel import lazy_gettext as _l

from models import Role, User, db

from .audit import Tag
from .labels import STAFF_EVENT_LABELS
from .records import codes

ACTION_LABELS = {
    **STAFF_EVENT_LABELS,
    Tag.RECORD_REQUESTED: _l("Documento solicitado"),
    Tag.RECORD_ISSUED: _l("Documento emitido"),
    Tag.RECORD_DOWNLOADED: _l("Documento baixado"),
    Tag.DELIVERY_DEAD: _l("Entrega desistida"),
    Tag.DELIVERY_REPLAYED: _l("Entrega reenviada"),
    Tag.CASE_LIST_EXPORTED: _l("Lista de casos exportada"),
    Tag.ENDPOINT_CREATED: _l("Endpoint cadastrado"),
    Tag.ENDPOINT_SECRET_ROTATED: _l("Segredo do endpoint trocado"),
    Tag.ENDPOINT_ENABLED: _l("Endpoint ativado"),
    Tag.ENDPOINT_DISABLED: _l("Endpoint desativado"),
    Tag.ENDPOINT_DISABLED_BY_RECEIVER: _l("Endpoint desativado a pedido do receptor"),
    Tag.USER_CREATED: _l("Conta criada"),
    Tag.USER_REGISTERED: _l("Cliente se cadastrou"),
    Tag.USER_LOGGED_IN: _l("Entrada no sistema"),
    Tag.USER_LOGIN_FAILED: _l("Tentativa de entrada recusada"),
    Tag.USER_LOGGED_OUT: _l("Saída do sistema"),
    Tag.USER_TOTP_ENROLLED: _l("Verificação em duas etapas cadastrada"),
    Tag.USER_TOTP_FAILED: _l("Código da verificação em duas etapas recusado"),
    Tag.USER_RECOVERY_CODE_USED: _l("Código de recuperação usado"),
    Tag.USER_TOTP_RESET: _l("Verificação em duas etapas redefinida"),
    Tag.USER_CHANGED: _l("Conta alterada"),
    Tag.USER_DATA_EXPORTED: _l("Cliente baixou os próprios dados (LGPD)"),
    Tag.TOKEN_CREATED: _l("Token de API criado"),
    Tag.TOKEN_REVOKED: _l("Token de API revogado"),
    Tag.REASON_CODE_CREATED: _l("Motivo de indeferimento ou revogação criado"),
    Tag.REASON_CODE_CHANGED: _l("Motivo de indeferimento ou revogação alterado"),
    Tag.CALENDAR_CHANGED: _l("Calendário de dias úteis corrigido"),
    Tag.SETTINGS_CHANGED: _l("Configurações alteradas"),
    Tag.RETENTION_ANONYMISED: _l("Dados pessoais anonimizados (retenção)"),
    Tag.RETENTION_ERASED: _l("Dados restantes apagados (retenção)"),
    Tag.RECORD_HISTORY_EXPORTED: _l("Histórico de pedidos exportado (JSON)"),
    Tag.RECORD_REPORT_EXPORTED: _l("Relatório do período exportado (CSV)"),
    Tag.AUDIT_EXPORTED: _l("Trilha exportada pela linha de comando"),
    Tag.AUDIT_EVENTS_EXPORTED: _l("Eventos da trilha exportados"),
}

ROLE_LABELS = {
    Role.CUSTOMER: _l("Cliente"),
    Role.OPERATOR: _l("Analista"),  # what the desk calls an operator
    Role.SUPERVISOR: _l("Supervisor(a)"),
    Role.AUDITOR: _l("Auditor(a)"),
    Role.PROVIDER: _l("Provedor de e-mail"),
}
# The parts of the system that act on their own (workflow.audit.Actor.system).
SYSTEM_LABELS = {
    "worker": _l("Sistema: worker (entregas e prazos)"),
    "cli": _l("Sistema: linha de comando"),
    "records": _l("Sistema: emissão de documentos"),
    "retention": _l("Sistema: retenção de dados"),
    "demo": _l("Sistema: dados de demonstração"),
}

# What an event is about (``object_type``); its reference follows (``object_id``).
OBJECT_LABELS = {
    "case": _l("Caso"),
    "user": _l("Usuário"),
    "customer": _l("Cliente"),
    "endpoint": _l("Endpoint"),
    "delivery": _l("Entrega"),
    "record": _l("Documento"),
    "report": _l("Relatório do período"),
    "reason_code": _l("Motivo"),
    "calendar": _l("Calendário de dias úteis"),
    "settings": _l("Configurações"),
    "export": _l("Exportação"),
    "audit_export": _l("Exportação da trilha"),
}


def action_label(action: str) -> str:
    """The words for an audit tag; a code no Tag knows is shown as it is."""
    try:
        return str(ACTION_LABELS[Tag(action)])
    except (KeyError, ValueError):
        return action


def actor_label(actor_role: str) -> str:
    """Who acted, as stored in ``actor_role`` (a role, ``system:<name>``, ``anonymous``)."""
    if actor_role in ROLE_LABELS:  # a StrEnum key equals its stored value
        return str(ROLE_LABELS[Role(actor_role)])
    if actor_role.startswith("system:"):
        name = actor_role.removeprefix("system:")
        return str(SYSTEM_LABELS.get(name) or _l("Sistema: %(name)s", name=name))
    if actor_role == "anonymous":
        return str(_l("Anônimo (sem conta identificada)"))
    return actor_role


def account_label(user_id: int | None) -> str:
    """An account as regulators read it: role and number, not the person's name."""
    if user_id is None:
        return "—"
    user = db.session.get(User, user_id)
    role = str(ROLE_LABELS[user.role]) if user is not None else str(_l("Conta"))
    return str(_l("%(role)s, usuário nº %(id)s", role=role, id=user_id))


def object_label(object_type: str | None, object_id: str | None = None) -> str:
    """The object an event is about, with its reference (``Usuário nº 7``)."""
    if not object_type:
        return "—"
    kind = str(OBJECT_LABELS.get(object_type, object_type))
    if not object_id:
        return kind
    if object_id.isdigit():  # a row's number; protocols are shown as they are
        return str(_l("%(kind)s nº %(id)s", kind=kind, id=object_id))
    if object_type == "record":  # as printed on the document and typed on /verify
        return f"{kind} {codes.display(object_id)}"
    return f"{kind} {object_id}"


def action_choices() -> list[tuple[str, str]]:
    """Every tag as (code, label), sorted by label in the reader's language."""
    return sorted(((tag.value, str(label)) for tag, label in ACTION_LABELS.items()),
                  key=lambda choice: _collation_key(choice[1]))


def _collation_key(text: str) -> str:
    """Accents aside, as a reader sorts (``Código`` among the C's, not after ``Z``)."""
    return "".join(c for c in unicodedata.normalize("NFKD", text.casefold())
                   if not unicodedata.combining(c))


def zone_label(zone: str) -> str:
    """A time zone as a Brazilian reader names it (Brasília's); any other by its name."""
    return str(_l("horário de Brasília")) if zone == "America/Sao_Paulo" else zone
