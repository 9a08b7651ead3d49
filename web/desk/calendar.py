"""Supervisors' page of the business calendar: corrections of the holiday library per state.

Registered on the desk blueprint (sign-in and the desk roles first); supervisors
only (operators and auditors: 403). The rules are ``workflow.calendar_days``'s.
"""

from __future__ import annotations

from datetime import date

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField, StringField, ValidationError
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length

from models import db
from web.auth.forms import EmptyForm
from web.context import current_actor
from web.forms import apply_domain_error
from workflow import calendar_days
from workflow.deadlines import NATIONAL, UFS
from workflow.errors import DomainError, InvalidInput
from workflow.text import typed_date

from .enforcement import supervisors_only
from .views import bp

CLOSED, WORKED = "closed", "worked"


class CorrectionForm(FlaskForm):
    """One correction: where, which day, closed or worked, and why."""

    uf = SelectField(_l("Estado"), default="",
                     choices=[SelectChoice("", _l("— escolha —")),
                              SelectChoice(NATIONAL, _l("BR (todos os estados)"))]
                     + [SelectChoice(uf) for uf in UFS], validate_choice=False)
    day = StringField(_l("Data"), render_kw={"type": "date"})
    kind = RadioField(_l("Correção"), default=CLOSED, choices=[
        SelectChoice(CLOSED, _l("Fechado: feriado local que a biblioteca não conhece")),
        SelectChoice(WORKED, _l("Trabalhado: feriado em que houve expediente"))])
    note = StringField(_l("Motivo"), validators=[Length(
        max=calendar_days.NOTE_MAX, message=_l("O motivo deve ter até %(max)d caracteres.",
                                               max=calendar_days.NOTE_MAX))])

    def validate_day(self, field) -> None:
        try:
            self.parsed_day = typed_date(field.data, field="day")
        except InvalidInput as refused:
            raise ValidationError(refused.message) from None


def _page(form: CorrectionForm, status: int = 200):
    return render_template("desk/calendar.html", form=form, remove_form=EmptyForm(),
                           rows=calendar_days.corrections(), national=NATIONAL), status


@bp.get("/calendar/")
@supervisors_only
def calendar():
    """The corrections in force, and the form to add one."""
    return _page(CorrectionForm(formdata=None))


@bp.post("/calendar/")
@supervisors_only
def calendar_add():
    """Add a correction; deadlines counted from now on follow it."""
    form = CorrectionForm()
    if not form.validate():
        return _page(form, 422)
    try:
        row = calendar_days.add_correction(
            uf=form.uf.data, day=form.parsed_day, business_day=form.kind.data == WORKED,
            note=form.note.data, actor=current_actor())
    except DomainError as error:
        db.session.rollback()
        apply_domain_error(form, error)
        return _page(form, error.status)
    db.session.commit()
    flash(_("Correção registrada: %(day)s em %(uf)s. Os prazos contados a partir de agora "
            "a seguem.", day=row.day.strftime("%d/%m/%Y"), uf=row.uf), "success")
    return redirect(url_for("desk.calendar"))


@bp.post("/calendar/<uf>/<day>/remove")
@supervisors_only
def calendar_remove(uf: str, day: str):
    """Remove a correction: the library's calendar applies to that day again."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        when = date.fromisoformat(day)
    except ValueError:
        abort(404)
    calendar_days.remove_correction(uf=uf, day=when, actor=current_actor())
    db.session.commit()
    flash(_("Correção removida: %(day)s em %(uf)s.", day=when.strftime("%d/%m/%Y"),
            uf=uf.upper()), "success")
    return redirect(url_for("desk.calendar"))
