"""The customer's profile: their data, the language of their e-mails and documents, and
the download of everything held about them (LGPD). Registered on the portal blueprint
(customers only)."""

from __future__ import annotations

from flask import flash, redirect, render_template, session, url_for
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SelectField
from wtforms.fields.choices import SelectChoice

from models import db, utcnow
from web.context import current_actor
from web.forms import apply_domain_error
from workflow import accounts, personal_data
from workflow.errors import DomainError
from workflow.records.history import format_document

from .views import bp

LANGUAGE_LABELS = {"pt_BR": "Português (Brasil)", "en": "English"}  # each in its own words


class LanguageForm(FlaskForm):
    """The language of the customer's e-mails and documents (and of the portal)."""

    locale = SelectField(_l("Idioma dos e-mails e documentos"), validate_choice=False,
                         choices=[SelectChoice(code, label)
                                  for code, label in LANGUAGE_LABELS.items()])


def _page(form: LanguageForm, status: int = 200):
    return render_template("portal/profile.html", form=form, document=format_document(
        current_user.cpf_cnpj), language_labels=LANGUAGE_LABELS), status


@bp.get("/profile")
def profile():
    """What we hold about the customer, their language, and the download of it all."""
    form = LanguageForm(formdata=None, locale=current_user.locale or str(get_locale()))
    return _page(form)


@bp.post("/profile/language")
def profile_language():
    """Change the language of the customer's e-mails, documents and pages (audited)."""
    form = LanguageForm()
    if not form.validate():
        return _page(form, 422)
    try:
        accounts.update_user(current_user._get_current_object(), actor=current_actor(),
                             locale=form.locale.data)
    except DomainError as error:
        db.session.rollback()
        apply_domain_error(form, error)
        return _page(form, error.status)
    db.session.commit()
    session["locale"] = form.locale.data  # the pages follow at once
    with force_locale(form.locale.data):  # and so does this message
        flash(_("Idioma atualizado."), "success")
    return redirect(url_for("portal.profile"))


@bp.get("/profile/data.json")
def profile_data():
    """Everything held about the customer as JSON, at once; the export is audited first."""
    body = personal_data.export(actor=current_actor(), language=str(get_locale()), now=utcnow())
    db.session.commit()
    return body, 200, {
        "Content-Type": "application/json; charset=utf-8",
        "Content-Disposition": 'attachment; filename="porta25-meus-dados.json"',
        "Cache-Control": "private, no-store",
        "X-Content-Type-Options": "nosniff",
    }
