"""The words people read for the values of a case: categories, sending kinds, reasons,
and the events of its timeline — for the customer and, more tersely, for the staff.

One module, so that the portal, the desk and the API say the same thing.
"""

from __future__ import annotations

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from models import Case, CaseStatus, Category, ReasonCode, RecordKind, SendingKind, db

from .audit import Tag
from .config import setting

CATEGORY_LABELS = {
    Category.OWN_MAIL_SERVER: _l("Servidor de e-mail próprio em um endereço IP fixo"),
    Category.SMTP_APPLICATION: _l("Aplicação ou equipamento que precisa enviar por SMTP "
                                  "(porta 25) a um servidor de terceiros"),
    Category.OTHER: _l("Outra necessidade"),
}

# The desk's queue and filters: the same categories in a few words.
SHORT_CATEGORY_LABELS = {
    Category.OWN_MAIL_SERVER: _l("Servidor de e-mail próprio"),
    Category.SMTP_APPLICATION: _l("Aplicação ou equipamento que envia por SMTP"),
    Category.OTHER: _l("Outra finalidade"),
}

SENDING_KIND_LABELS = {
    SendingKind.TRANSACTIONAL: _l("Transacional (avisos, confirmações, alertas)"),
    SendingKind.BULK: _l("Em massa (boletins, campanhas)"),
}

# What each event of the audit trail means to the customer who reads the timeline.
EVENT_LABELS = {
    Tag.CASE_SUBMITTED: _l("Pedido registrado"),
    Tag.CASE_CLAIMED: _l("Pedido em análise pela equipe"),
    Tag.CASE_INFO_REQUESTED: _l("A equipe pediu mais informações"),
    Tag.CASE_REPLIED: _l("Resposta enviada"),
    Tag.CASE_APPROVAL_PROPOSED: _l("Aprovação enviada para confirmação de um supervisor"),
    Tag.CASE_APPROVED: _l("Exceção aprovada"),
    Tag.CASE_REJECTED: _l("Pedido indeferido"),
    Tag.CASE_APPEALED: _l("Recurso apresentado"),
    Tag.CASE_CANCELLED: _l("Pedido cancelado"),
    Tag.CASE_REVOKED: _l("Exceção revogada"),
    Tag.CASE_ACTIVATED: _l("Exceção aplicada na rede"),
    Tag.CASE_EXPIRED: _l("Exceção expirada"),
    Tag.CASE_ABANDONED: _l("Pedido encerrado por falta de resposta"),
    Tag.CASE_NOTE_ADDED: _l("Mensagem da equipe"),
    Tag.CASE_EXPIRY_REMINDED: _l("Lembrete: a exceção vence em breve"),
}

# timeline.Entry.author, as the customer sees it (staff names are never shown).
AUTHOR_LABELS = {
    "customer": _l("Você"),
    "staff": _l("Equipe do provedor"),
    "system": _l("Sistema"),
}


def event_label(action: str) -> str:
    """The customer's wording for an audit tag; unknown tags are shown as they are."""
    try:
        return str(EVENT_LABELS[Tag(action)])
    except (KeyError, ValueError):
        return action


# The staff's wording of the same events, and of their authors (names are shown apart).
STAFF_EVENT_LABELS = {
    Tag.CASE_SUBMITTED: _l("Pedido recebido"),
    Tag.CASE_CLAIMED: _l("Caso assumido para análise"),
    Tag.CASE_INFO_REQUESTED: _l("Informações pedidas ao cliente"),
    Tag.CASE_REPLIED: _l("Resposta do cliente"),
    Tag.CASE_APPROVAL_PROPOSED: _l("Primeira aprovação (aguarda segunda aprovação)"),
    Tag.CASE_APPROVED: _l("Pedido aprovado"),
    Tag.CASE_REJECTED: _l("Pedido indeferido"),
    Tag.CASE_APPEALED: _l("Recurso do cliente"),
    Tag.CASE_CANCELLED: _l("Pedido cancelado"),
    Tag.CASE_REVOKED: _l("Exceção revogada"),
    Tag.CASE_ACTIVATED: _l("Exceção aplicada na rede"),
    Tag.CASE_EXPIRED: _l("Exceção expirada"),
    Tag.CASE_ABANDONED: _l("Encerrado por falta de resposta"),
    Tag.CASE_NOTE_ADDED: _l("Mensagem"),
    Tag.CASE_EXPIRY_REMINDED: _l("Lembrete de vencimento enviado ao cliente"),
    Tag.CASE_EVIDENCE_REQUESTED: _l("Verificações automáticas pedidas novamente"),
    Tag.CASE_PERSONAL_DATA_REVEALED: _l("Dados pessoais revelados a um auditor"),
}
STAFF_AUTHOR_LABELS = {"customer": _l("Cliente"), "staff": _l("Equipe do provedor"),
                       "system": _l("Sistema")}


def reason_text(reason: ReasonCode) -> str:
    """A catalogue reason in the reader's language."""
    return reason.label_en if str(get_locale()) == "en" else reason.label_pt


def reason_label(case: Case) -> str | None:
    """The plain words for the case's reason code (its refusal's, or its revocation's)."""
    if not case.reason_code:
        return None
    action = "revoke" if case.status is CaseStatus.REVOKED else "reject"
    reason = db.session.get(ReasonCode, (action, case.reason_code))
    return reason_text(reason) if reason else case.reason_code


RECORD_KIND_LABELS = {
    RecordKind.RECEIPT: _l("Comprovante de protocolo"),
    RecordKind.APPROVAL: _l("Aviso de aprovação"),
    RecordKind.REJECTION: _l("Aviso de indeferimento"),
    RecordKind.REVOCATION: _l("Aviso de revogação"),
    RecordKind.EXPIRY: _l("Aviso de expiração"),
    RecordKind.DOSSIER: _l("Dossiê do caso"),
    RecordKind.HISTORY: _l("Histórico de pedidos do cliente"),
    RecordKind.REPORT: _l("Relatório do período"),
}

# What became of a request (workflow.records.statistics.outcome), in the history and reports.
OUTCOME_LABELS = {
    "granted": _l("Aprovado"),
    "refused": _l("Indeferido"),
    "withdrawn": _l("Encerrado sem decisão"),
    "pending": _l("Em andamento"),
}
APPEAL_OUTCOME_LABELS = {
    "granted": _l("Recurso aceito: pedido aprovado"),
    "upheld": _l("Recurso negado: indeferimento mantido"),
    "pending": _l("Recurso em análise"),
    "withdrawn": _l("Pedido encerrado durante o recurso"),
}
DEADLINE_STATE_LABELS = {
    "met": _l("Cumprido"),
    "missed": _l("Descumprido"),
    "open": _l("Em curso ou pausado"),
    "not_applicable": _l("Não se aplica"),
}
# The same states on the case page (workflow.deadlines.clocks), where "open" is told
# apart as running or paused.
def deadline_name(name: str) -> str:
    """A clock's name with its length from the settings: "Resposta (7 dias corridos)"."""
    if name == "answer":
        return str(_l("Resposta (%(days)s dias corridos)", days=setting("ANSWER_DEADLINE_DAYS")))
    return str(_l("Execução (%(days)s dias úteis)",
                  days=setting("EXECUTION_DEADLINE_BUSINESS_DAYS")))


CLOCK_STATE_LABELS = {
    "running": _l("correndo"),
    "paused": _l("pausado (aguardando o cliente)"),
    "met": _l("cumprido"),
    "missed": _l("vencido"),
    "not_applicable": _l("não se aplica"),
}


def auditor_scope_label(uf: str | None) -> str:
    """Which regulator an auditor's scope stands for: Anatel nationally, a state's PROCON
    (the scope itself is said by whoever shows it: the regulators' pages, the history)."""
    return str(_l("PROCON-%(uf)s", uf=uf) if uf else _l("Anatel"))
