"""Forms of the operator desk: the queue's filters, the decisions and the notes."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import HiddenInput

from models import CaseStatus
from workflow.cases import MESSAGE_MAX
from workflow.deadlines import UFS
from workflow.engine import STATUS_LABELS
from workflow.labels import SHORT_CATEGORY_LABELS

# The queue's default: cases waiting for someone on the staff to move them.
OPEN_FOR_STAFF = (
    CaseStatus.SUBMITTED,
    CaseStatus.IN_REVIEW,
    CaseStatus.AWAITING_CUSTOMER,
    CaseStatus.PENDING_SECOND_APPROVAL,
    CaseStatus.APPEALED,
)
ALL = "all"


class QueueFilterForm(FlaskForm):
    """GET filters of the queue: reading needs no CSRF token."""

    class Meta:
        csrf = False

    status = SelectField(
        _l("Status"),
        choices=[SelectChoice("", _l("Abertos (aguardando a equipe)")),
                 SelectChoice(ALL, _l("Todos"))]
        + [SelectChoice(s.value, label) for s, label in STATUS_LABELS.items()],
        default="",
    )
    uf = SelectField(_l("UF"), default="",
                     choices=[SelectChoice("", _l("Todas"))] + [SelectChoice(uf) for uf in UFS])
    category = SelectField(_l("Finalidade"), default="",
                           choices=[SelectChoice("", _l("Todas"))]
                           + [SelectChoice(c.value, label)
                              for c, label in SHORT_CATEGORY_LABELS.items()])
    q = StringField(_l("Buscar (protocolo, alvo, nome ou e-mail do cliente)"),
                    validators=[Optional(), Length(max=200)])

    def statuses(self) -> tuple[CaseStatus, ...] | str | None:
        """What to pass to ``workflow.queue.queue`` as ``status``."""
        if self.status.data == ALL:
            return None
        return self.status.data or OPEN_FOR_STAFF


class _PrefixedForm(FlaskForm):
    """A form that shares its page with others, so its fields carry a prefix.

    The app-wide CSRFProtect checks the page's ``csrf_token`` on every POST
    before the view runs; a prefixed form would look for ``prefix-csrf_token``
    instead, so the per-form check is left to that global one.
    """

    class Meta:
        csrf = False


class ActionForm(_PrefixedForm):
    """Every decision carries the version the person saw, so a stale page conflicts."""

    version = IntegerField(widget=HiddenInput(), validators=[InputRequired()])


def _message(label, *, required: bool) -> TextAreaField:
    first = DataRequired(_l("Escreva a mensagem.")) if required else Optional()
    return TextAreaField(label, validators=[first, Length(max=MESSAGE_MAX)])


class ClaimForm(ActionForm):
    pass


class RequestInfoForm(ActionForm):
    message = _message(_l("Pergunta ao cliente"), required=True)


class ApproveForm(ActionForm):
    valid_days = IntegerField(_l("Validade (dias)"), validators=[Optional()])
    message = _message(_l("Mensagem ao cliente (opcional)"), required=False)

    def limit_validity(self, maximum: int) -> None:
        """Bound ``valid_days`` by the MAX_VALIDITY_DAYS setting."""
        self.valid_days.validators = [
            Optional(),
            NumberRange(1, maximum, _l("A validade deve ser de 1 a %(max)d dias.", max=maximum)),
        ]


class ReasonForm(ActionForm):
    """Reject and revoke: a reason from the catalogue (choices set by the view)."""

    reason_code = SelectField(_l("Motivo"), choices=[], validate_choice=False,
                              validators=[DataRequired(_l("Escolha o motivo."))])
    message = _message(_l("Mensagem ao cliente (opcional)"), required=False)


class RejectForm(ReasonForm):
    pass


class RevokeForm(ReasonForm):
    pass


class NoteForm(_PrefixedForm):
    message = _message(_l("Texto"), required=True)
