"""The regulators' portal (/regulador): Anatel nationally, a PROCON in its state.

Auditors read, within their scope only: the cases (searched by protocol or
target), each case with its facts, automated checks, public story, decision and
records, the audit trail, and the period reports. They change nothing in a case:
every write route of the desk, the portal and the API answers them 403. What
they may ask for is their own: a case's dossier, a period report, and — stating
a reason — to see one case's personal data for REVEAL_MINUTES (audited).

Internal notes of the staff stay out, as in the dossier: they are the analysts'
working notes, which may quote a customer's call; that a note was written, when
and by whom, is in the audit trail (``case:note_added``), its text is not.
Other roles get 403 here; a case out of scope is 404 on every page.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_login import current_user

from models import Role, db, utcnow
from web.context import current_actor
from web.desk import pages
from web.forms import apply_domain_error
from workflow import evidence, labels, oversight, privacy
from workflow.access import case_for
from workflow.config import setting
from workflow.errors import InvalidInput
from workflow.queue import queue
from workflow.records import on_demand

from .forms import CaseFilterForm, RevealForm

bp = Blueprint("audit", __name__, url_prefix="/regulador")


@bp.before_request
def _auditors_only():
    """Sign-in first; then auditor accounts only."""
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()
    if current_user.role is not Role.AUDITOR:
        abort(403)
    return None


@bp.context_processor
def _helpers():
    return {"mask_name": privacy.mask_name, "category_label": pages.category_label,
            "evidence_summary": evidence.summary, "exact": _exact,
            "hour": lambda moment: format_datetime(moment, "HH:mm"),
            "scope_label": labels.auditor_scope_label(current_user.uf)
            if current_user.is_authenticated else ""}


def _exact(moment) -> str:
    """A time to the second (the audit trail's precision), in the display time zone."""
    return format_datetime(moment, "dd/MM/yyyy HH:mm:ss") if moment else "—"


@bp.get("/")
def cases():
    """The cases of the auditor's scope, nearest deadline first, filtered and paginated."""
    form = CaseFilterForm(formdata=request.args).offer_ufs(current_user)
    rows, next_cursor, status = [], None, 200
    if form.validate():
        try:
            rows, next_cursor = queue(current_user, after=request.args.get("after") or None,
                                      **form.filters())
        except InvalidInput as error:
            apply_domain_error(form, error)
            status = 400
    else:
        status = 400
    filters = {name: request.args[name] for name in ("status", "uf", "category", "q")
               if request.args.get(name)}
    return render_template(
        "audit/cases.html", form=form, rows=rows, now=utcnow(), filters=filters,
        next_url=url_for("audit.cases", **filters, after=next_cursor) if next_cursor else None,
        first_url=url_for("audit.cases", **filters) if request.args.get("after") else None,
    ), status


@bp.get("/casos/<protocol>")
def case(protocol: str):
    """One case: facts, checks, the customer (masked unless revealed), story, records."""
    return _case_page(case_for(current_user, protocol))


@bp.post("/casos/<protocol>/revelar")
def reveal(protocol: str):
    """See the customer's personal data for REVEAL_MINUTES, for the reason stated."""
    case = case_for(current_user, protocol)
    form = RevealForm(formdata=request.form)
    try:
        granted = oversight.reveal_personal_data(case, actor=current_actor(),
                                                 reason=form.reason.data)
    except InvalidInput as error:
        db.session.rollback()
        apply_domain_error(form, error)
        return _case_page(case, reveal_form=form, status=error.status)
    db.session.commit()
    flash(_("Dados pessoais revelados até %(until)s. Este acesso, com o motivo informado, "
            "está registrado na trilha de auditoria e no histórico do cliente.",
            until=format_datetime(granted.expires_at, "HH:mm")), "success")
    return redirect(url_for("audit.case", protocol=protocol, _anchor="h-customer"))


@bp.post("/casos/<protocol>/dossie")
def ask_dossier(protocol: str):
    """Ask for the case's dossier (personal data masked); the worker prepares it."""
    case = case_for(current_user, protocol)
    on_demand.request_dossier(case, actor=current_actor())
    db.session.commit()
    flash(_("Dossiê solicitado: ele está sendo preparado e aparece em Documentos em "
            "instantes."), "success")
    return redirect(url_for("audit.case", protocol=protocol, _anchor="h-records"))


def _case_page(case, *, reveal_form: RevealForm | None = None, status: int = 200):
    granted = oversight.active_reveal(case, current_user)
    response = make_response(render_template(
        "audit/case.html", case=case, reveal=granted,
        customer=pages.customer_facts(case, masked=granted is None),
        reveal_form=reveal_form or RevealForm(formdata=None),
        timeline=pages.case_timeline(case, staff=False), reason=labels.reason_label(case),
        documents=pages.documents_of(case, current_user), labels=labels,
        reveal_minutes=setting("REVEAL_MINUTES")), status)
    # Personal data may be on it: no shared or stored copies.
    response.headers["Cache-Control"] = "private, no-store"
    return response
