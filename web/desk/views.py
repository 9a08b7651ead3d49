"""Operator desk: the work queue, the case page and the staff's decisions.

Operators and supervisors work cases. Auditors read on the regulators' portal
(/regulador, web/audit): the desk's pages they used to read redirect them there,
every other desk URL — every write above all — answers them 403. Customers and
providers never see the desk (403).
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from models import CaseStatus, Role, db
from web.context import current_actor
from web.forms import apply_domain_error
from workflow import cases, labels
from workflow.access import case_for
from workflow.availability import available_actions
from workflow.config import setting
from workflow.enforcement_status import status_for_case
from workflow.errors import DomainError, InvalidInput
from workflow.queue import queue as work_queue
from workflow.states import Action

from . import pages
from .forms import NoteForm, QueueFilterForm

bp = Blueprint("desk", __name__, url_prefix="/desk")

NOTE_KINDS = ("internal", "public")
# The desk pages auditors once read, and where they read them now.
MOVED_FOR_AUDITORS = {"desk.queue": "audit.cases", "desk.case": "audit.case",
                      "desk.reports_page": "audit.reports_page",
                      "desk.reports_csv": "audit.reports_csv"}


@bp.before_request
def _staff_only():
    """Sign-in first; then staff only. Auditors are sent to their portal, or refused."""
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()
    if current_user.role is Role.AUDITOR and request.method == "GET" and (
            request.endpoint in MOVED_FOR_AUDITORS):
        query = request.query_string.decode()
        target = url_for(MOVED_FOR_AUDITORS[request.endpoint], **(request.view_args or {}))
        return redirect(f"{target}?{query}" if query else target)
    if not current_user.is_staff:
        abort(403)
    return None


@bp.context_processor
def _helpers():
    return {"category_label": pages.category_label}


@bp.get("/")
def queue():
    """Cases within the person's view, nearest deadline first, filtered and paginated."""
    form = QueueFilterForm(formdata=request.args)
    rows, next_cursor, status = [], None, 200
    if form.validate():
        try:
            rows, next_cursor = work_queue(
                current_user, status=form.statuses(), uf=form.uf.data or None,
                category=form.category.data or None, q=form.q.data or None,
                after=request.args.get("after") or None)
        except InvalidInput as error:
            apply_domain_error(form, error)
            status = 400
    else:
        status = 400
    filters = {name: request.args[name] for name in ("status", "uf", "category", "q")
               if request.args.get(name)}
    next_url = url_for("desk.queue", **filters, after=next_cursor) if next_cursor else None
    first_url = url_for("desk.queue", **filters) if request.args.get("after") else None
    return render_template("desk/queue.html", form=form, rows=rows, next_url=next_url,
                           first_url=first_url, now=pages.now()), status


@bp.get("/cases/<protocol>")
def case(protocol: str):
    """Everything about one case, and the decisions the workflow allows now."""
    return _case_page(case_for(current_user, protocol))


@bp.post("/cases/<protocol>/actions/<action>")
def act(protocol: str, action: str):
    """Take one decision (claim, request_info, approve, reject, revoke) on the case."""
    case = case_for(current_user, protocol)
    if action not in pages.ACTION_FORMS:
        abort(404)
    verb = Action(action)
    form = pages.action_form(verb, case, formdata=request.form)
    if not form.validate():
        return _case_page(case, bound={verb: form}, status=422)
    try:
        cases.perform(case, verb, actor=current_actor(), expected_version=form.version.data,
                      **pages.action_arguments(form))
    except InvalidInput as error:
        db.session.rollback()
        if error.field in form:
            apply_domain_error(form, error)
            return _case_page(case, bound={verb: form}, status=422)
        flash(str(error.message), "error")
        return _back(protocol)
    except DomainError as error:
        db.session.rollback()
        flash(str(error.message), "error")
        if form.version.data != case.version:  # the real cause: someone acted first
            flash(_("O caso foi alterado por outra pessoa enquanto você o via; confira "
                    "abaixo a situação atual."), "error")
        return _back(protocol)
    db.session.commit()
    flash(_success(verb, case.status), "success")
    return _back(protocol)


@bp.post("/cases/<protocol>/notes")
def note(protocol: str):
    """Write an internal note (staff only) or a public message to the customer."""
    case = case_for(current_user, protocol)
    kind = request.args.get("kind", "internal")
    if kind not in NOTE_KINDS:
        abort(404)
    form = NoteForm(formdata=request.form, prefix=kind)
    if not form.validate():
        return _case_page(case, notes={kind: form}, status=422)
    try:
        cases.add_note(case, actor=current_actor(), message=form.message.data,
                       public=kind == "public")
    except DomainError as error:
        db.session.rollback()
        apply_domain_error(form, error)
        return _case_page(case, notes={kind: form}, status=error.status)
    db.session.commit()
    flash(_("Mensagem enviada ao cliente.") if kind == "public" else
          _("Nota interna registrada."), "success")
    return _back(protocol)


def _case_page(case, *, bound: dict | None = None, notes: dict | None = None, status=200):
    """Render the case page; ``bound``/``notes`` replace forms that came back with errors."""
    actions = available_actions(case, current_actor())
    forms = {a: pages.action_form(a, case) for a in actions if a.value in pages.ACTION_FORMS}
    forms.update(bound or {})
    note_forms = {k: NoteForm(formdata=None, prefix=k) for k in NOTE_KINDS}
    note_forms.update(notes or {})
    return render_template(
        "desk/case.html", case=case, forms=forms, note_forms=note_forms,
        customer=pages.customer_facts(case, masked=False),
        timeline=pages.case_timeline(case, staff=True),
        reason=labels.reason_label(case), first_approver=pages.first_approver(case),
        four_eyes=pages.four_eyes(case), max_validity=setting("MAX_VALIDITY_DAYS"),
        enforcement=status_for_case(case),
        documents=pages.documents_of(case, current_user), labels=labels,
    ), status


def _back(protocol: str):
    return redirect(url_for("desk.case", protocol=protocol))


def _success(action: Action, status: CaseStatus) -> str:
    if action is Action.APPROVE and status is CaseStatus.PENDING_SECOND_APPROVAL:
        return _("Primeira aprovação registrada: o caso aguarda a segunda aprovação, "
                 "de outro supervisor.")
    return {
        Action.CLAIM: _("Você assumiu o caso."),
        Action.REQUEST_INFO: _("Pergunta enviada ao cliente; os prazos ficam pausados até a "
                               "resposta."),
        Action.APPROVE: _("Pedido aprovado."),
        Action.REJECT: _("Pedido indeferido."),
        Action.REVOKE: _("Exceção revogada."),
    }[action]
