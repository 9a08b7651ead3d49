"""Forms of the regulators' portal: the case list's and the trail's filters, the reveal."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional

from models import User
from workflow.deadlines import UFS
from workflow.engine import STATUS_LABELS
from workflow.labels import SHORT_CATEGORY_LABELS
from workflow.oversight import REASON_MAX
from workflow.trail_labels import action_choices


def _ufs(user: User) -> list[SelectChoice]:
    """A PROCON's own state only; Anatel any."""
    return [SelectChoice("", _l("Todas")), *(SelectChoice(uf) for uf in
                                             ((user.uf,) if user.uf else UFS))]


class CaseFilterForm(FlaskForm):
    """GET filters of the case list (no CSRF: reading). Every status by default."""

    class Meta:
        csrf = False

    status = SelectField(_l("Status"), default="",
                         choices=[SelectChoice("", _l("Todos"))]
                         + [SelectChoice(s.value, label) for s, label in STATUS_LABELS.items()])
    uf = SelectField(_l("UF"), default="", choices=[], validate_choice=False)
    category = SelectField(_l("Finalidade"), default="",
                           choices=[SelectChoice("", _l("Todas"))]
                           + [SelectChoice(c.value, label)
                              for c, label in SHORT_CATEGORY_LABELS.items()])
    # Personal data are masked: a name or an e-mail matches nothing (workflow.queue).
    q = StringField(_l("Buscar (protocolo ou alvo)"), validators=[Optional(), Length(max=200)])

    def offer_ufs(self, user: User) -> CaseFilterForm:
        self.uf.choices = _ufs(user)
        return self

    def filters(self) -> dict:
        """Keyword arguments for workflow.queue.queue and the cases export."""
        return {"status": self.status.data or None, "uf": self.uf.data or None,
                "category": self.category.data or None, "q": self.q.data or None}


class TrailFilterForm(FlaskForm):
    """GET filters of the audit trail; workflow.trail.parse_filter checks them."""

    class Meta:
        csrf = False

    start = StringField(_l("De"), render_kw={"type": "date"})
    end = StringField(_l("Até"), render_kw={"type": "date"})
    actor = StringField(_l("Quem (perfil ou nº do usuário)"),
                        render_kw={"placeholder": "operator, 42…", "maxlength": 40})
    action = SelectField(_l("Ação"), default="", validate_choice=False, choices=[])
    protocol = StringField(_l("Protocolo"), render_kw={"inputmode": "numeric",
                                                       "maxlength": 13})
    uf = SelectField(_l("UF"), default="", choices=[], validate_choice=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Labels sorted in the reader's language, so chosen per request; the value is the code.
        self.action.choices = [SelectChoice("", _l("Todas")),
                               *(SelectChoice(code, label) for code, label in action_choices())]

    def offer_ufs(self, user: User) -> TrailFilterForm:
        self.uf.choices = _ufs(user)
        return self

    def values(self) -> dict:
        return {name: self[name].data for name in
                ("start", "end", "actor", "action", "protocol", "uf")}


class RevealForm(FlaskForm):
    """The reason for seeing a case's personal data (its rules: workflow.oversight)."""

    reason = StringField(_l("Motivo do acesso"),
                         render_kw={"maxlength": REASON_MAX, "autocomplete": "off"})
