"""Forms of the customer portal: the request (DESIGN §4) and the actions on a case.

The forms only parse what the browser sent; every rule about the values (a
valid target, the justification's length, the current terms version, …) is
the workflow's, so the portal, the API and the CLI refuse the same things with
the same words.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Optional
from wtforms.widgets import HiddenInput

from models import Category, SendingKind
from workflow.cases import JUSTIFICATION_MAX, JUSTIFICATION_MIN, MESSAGE_MAX, Request
from workflow.labels import CATEGORY_LABELS, SENDING_KIND_LABELS
from workflow.states import Action


class CountField(IntegerField):
    """An optional whole number that also accepts Brazilian thousands ("1.500")."""

    def process_formdata(self, valuelist):
        if not valuelist or not valuelist[0].strip():
            self.data = None
            return
        text = valuelist[0].strip().replace(".", "").replace(" ", "")
        if not text.isdigit():
            self.data = None
            raise ValueError(_l("Informe um número inteiro, como 500 ou 1.500."))
        self.data = int(text)


class RequestForm(FlaskForm):
    """The exception request; field names match the workflow's error fields."""

    target = StringField(_l("Endereço IP ou prefixo"), render_kw={
        "required": True, "placeholder": "203.0.113.7", "autocomplete": "off",
        "autocapitalize": "off", "spellcheck": "false"})
    subscriber_id = StringField(_l("Código do contrato/assinante"),
                                render_kw={"required": True, "autocomplete": "off"})
    category = RadioField(
        _l("Para que você precisa da porta 25?"),
        choices=[SelectChoice(c.value, CATEGORY_LABELS[c]) for c in Category],
        validate_choice=False,  # the workflow names the problem in its own words
    )
    justification = TextAreaField(_l("Justificativa"), render_kw={
        "required": True, "rows": 6, "minlength": JUSTIFICATION_MIN,
        "maxlength": JUSTIFICATION_MAX,
        # static/js/portal.js shows the count live; the template is translated here.
        "data-counter": _l("{count} de 4.000 caracteres")})
    mail_hostname = StringField(_l("Nome do servidor de e-mail (FQDN)"), render_kw={
        "required": True, "placeholder": "mail.exemplo.com.br", "autocapitalize": "off",
        "spellcheck": "false"})
    messages_per_day = CountField(_l("Mensagens por dia (estimativa)"), validators=[Optional()],
                                  render_kw={"inputmode": "numeric"})
    sending_kind = SelectField(
        _l("Tipo de envio"),
        choices=[SelectChoice("", _l("Prefiro não informar"))]
        + [SelectChoice(k.value, SENDING_KIND_LABELS[k]) for k in SendingKind],
        validate_choice=False,
    )
    terms_version = HiddenField()
    accept_terms = BooleanField(_l("Li e aceito os termos de uso acima."),
                                render_kw={"required": True})

    # Workflow error fields whose input has another name on this form.
    FIELD_OF_ERROR = {"accepted_terms_version": "accept_terms",
                      "sending_profile": "messages_per_day"}

    def to_request(self) -> Request:
        """The request as the workflow takes it; unchecked terms mean none accepted."""
        return Request(
            target=self.target.data or "",
            subscriber_id=self.subscriber_id.data or "",
            category=self.category.data or "",
            justification=self.justification.data or "",
            mail_hostname=self.mail_hostname.data or "",
            terms_version=(self.terms_version.data or "") if self.accept_terms.data else "",
            messages_per_day=self.messages_per_day.data,
            sending_kind=self.sending_kind.data or None,
        )


MESSAGE_LABELS = {
    Action.REPLY: _l("Sua resposta"),
    Action.APPEAL: _l("Por que a decisão deve ser revista?"),
    Action.CANCEL: _l("Motivo do cancelamento (opcional)"),
    Action.REVOKE: _l("Motivo da devolução (opcional)"),
}
MESSAGE_REQUIRED = frozenset({Action.REPLY, Action.APPEAL})


class ActionForm(FlaskForm):
    """Reply, cancel, appeal or give back: a message and the version of the case seen.

    Each action's form gets its own prefix (``reply-message``), so that several
    can share the case page without clashing ids.
    """

    version = IntegerField(widget=HiddenInput(), validators=[InputRequired()])
    message = TextAreaField(_l("Mensagem"))

    @classmethod
    def for_action(cls, action: Action, **kwargs) -> ActionForm:
        """The form of ``action``, worded for it."""
        form = cls(prefix=action.value, **kwargs)
        form.message.label.text = MESSAGE_LABELS[action]
        form.message.render_kw = {"rows": 4, "maxlength": MESSAGE_MAX,
                                  "required": action in MESSAGE_REQUIRED}
        return form

