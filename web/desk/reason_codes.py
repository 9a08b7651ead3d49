"""Supervisors' pages of the reason-code catalogue: labels in both languages, on/off, new codes.

Registered on the desk blueprint (sign-in and the desk roles first); supervisors
only (operators and auditors: 403). The rules are ``workflow.reason_codes``'s.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField
from wtforms.fields.choices import SelectChoice

from models import db
from web.context import current_actor
from web.forms import apply_domain_error
from workflow import reason_codes
from workflow.errors import DomainError

from .enforcement import supervisors_only
from .views import bp

ACTION_LABELS = {"reject": _l("Indeferimento"), "revoke": _l("Revogação")}


class ReasonForm(FlaskForm):
    """A code's labels and whether analysts may choose it (the workflow checks the text)."""

    label_pt = StringField(_l("Texto em português"))
    label_en = StringField(_l("Texto em inglês"))
    active = BooleanField(_l("Ativo (aparece na lista dos analistas)"))


class NewReasonForm(FlaskForm):
    """A new code of one action."""

    action = SelectField(_l("Ação"), default="", validate_choice=False, choices=[
        SelectChoice("", _l("— escolha —")),
        *(SelectChoice(value, label) for value, label in ACTION_LABELS.items())])
    code = StringField(_l("Código"))
    label_pt = StringField(_l("Texto em português"))
    label_en = StringField(_l("Texto em inglês"))


def _list(form: NewReasonForm, status: int = 200):
    return render_template("desk/reason_codes.html", form=form, catalogue=reason_codes.catalogue(),
                           action_labels=ACTION_LABELS), status


@bp.get("/reason-codes/")
@supervisors_only
def reason_codes_page():
    """Both catalogues, and the form for a new code."""
    return _list(NewReasonForm(formdata=None))


@bp.post("/reason-codes/")
@supervisors_only
def reason_code_add():
    """Add a code; analysts can choose it at once."""
    form = NewReasonForm()
    if not form.validate():
        return _list(form, 422)
    try:
        reason = reason_codes.create_reason(
            action=form.action.data, code=form.code.data, label_pt=form.label_pt.data,
            label_en=form.label_en.data, actor=current_actor())
    except DomainError as error:
        db.session.rollback()
        apply_domain_error(form, error)
        return _list(form, error.status)
    db.session.commit()
    flash(_("Motivo %(code)s incluído.", code=reason.code), "success")
    return redirect(url_for("desk.reason_codes_page"))


def _edit_page(reason, form: ReasonForm, status: int = 200):
    return render_template("desk/reason_code.html", reason=reason, form=form,
                           action_labels=ACTION_LABELS), status


@bp.route("/reason-codes/<any(reject, revoke):action>/<code>", methods=["GET", "POST"])
@supervisors_only
def reason_code_edit(action: str, code: str):
    """Change a code's labels, or switch it on or off (a code is never deleted)."""
    reason = reason_codes.reason_for(action, code)
    form = ReasonForm(obj=reason)
    if not form.validate_on_submit():
        return _edit_page(reason, form, 422 if form.is_submitted() else 200)
    try:
        changed = reason_codes.update_reason(
            reason, label_pt=form.label_pt.data, label_en=form.label_en.data,
            active=form.active.data, actor=current_actor())
    except DomainError as error:
        db.session.rollback()
        apply_domain_error(form, error)
        return _edit_page(reason_codes.reason_for(action, code), form, error.status)
    db.session.commit()
    flash(_("Motivo %(code)s alterado.", code=reason.code) if changed
          else _("Nada foi alterado."), "success" if changed else "info")
    return redirect(url_for("desk.reason_codes_page"))
