"""Period reports on the desk (DESIGN §8): ask for the PDF, download the CSV, list them.

Registered on the desk blueprint (operators, supervisors) and on the regulators'
portal (web/audit/reports.py: auditors), whose sign-in and role checks run first;
links and redirects stay on the blueprint the page was reached through. Every
rule about the period and the scope is the workflow's (``workflow.records.reports``):
the form only carries the text, so the PDF request and the CSV link refuse the
same things alike.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice

from models import db, utcnow
from web.context import current_actor
from web.forms import apply_domain_error
from workflow import labels
from workflow.errors import InvalidInput
from workflow.records import reports
from workflow.records.report_data import NATIONAL

from .views import bp


class ReportForm(FlaskForm):
    """Period and scope; the same fields go by POST (the PDF) and by GET (the CSV).

    The app-wide CSRFProtect checks every POST; the GET that downloads the CSV
    carries no token, so the form itself asks for none.
    """

    class Meta:
        csrf = False

    start = StringField(_l("Data inicial"), render_kw={"type": "date", "required": True})
    end = StringField(_l("Data final"), render_kw={"type": "date", "required": True})
    scope = SelectField(_l("Abrangência"), validate_choice=False)

    def offer_scopes(self, scopes: tuple[str, ...]) -> None:
        """The scopes the person may choose (a PROCON auditor: their UF only)."""
        self.scope.choices = [SelectChoice(s, _("Nacional") if s == NATIONAL else s)
                              for s in scopes]
        if not self.scope.data:
            self.scope.data = scopes[0]

    def values(self) -> dict:
        return {"start": self.start.data, "end": self.end.data, "scope": self.scope.data}


def _page(form: ReportForm, status: int = 200):
    return render_template(
        "desk/reports.html", form=form, reports=reports.issued_reports(current_user),
        waiting=reports.waiting_reports(current_user), labels=labels), status


def _form(formdata) -> ReportForm:
    form = ReportForm(formdata=formdata)
    form.offer_scopes(reports.scopes_for(current_user))
    return form


@bp.get("/reports/")
def reports_page():
    """The form and the reports the person may read."""
    return _page(_form(None))


@bp.post("/reports/")
def reports_request():
    """Ask for a report's PDF; a refused period shows the reason and stores nothing."""
    form = _form(request.form)
    try:
        reports.request_report(actor=current_actor(), language=str(get_locale()), now=utcnow(),
                               **form.values())
    except InvalidInput as error:
        db.session.rollback()
        apply_domain_error(form, error)
        return _page(form, error.status)
    db.session.commit()
    flash(_("Relatório pedido. O PDF fica pronto em instantes nesta página."), "success")
    return redirect(url_for(f"{request.blueprint}.reports_page"))


@bp.get("/reports/report.csv")
def reports_csv():
    """The same figures as CSV, computed now; the export is audited before it is served."""
    form = _form(request.args)
    try:
        period, body = reports.export_csv(actor=current_actor(), now=utcnow(), **form.values())
    except InvalidInput as error:
        db.session.rollback()
        apply_domain_error(form, error)
        return _page(form, error.status)
    db.session.commit()
    name = f"porta25-relatorio-{period.scope}-{period.start}-{period.end}.csv"
    return body, 200, {
        "Content-Type": "text/csv; charset=utf-8",
        "Content-Disposition": f'attachment; filename="{name}"',
        "Cache-Control": "private, no-store",
        "X-Content-Type-Options": "nosniff",
    }
