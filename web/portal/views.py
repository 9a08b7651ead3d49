"""Customer portal: the guide, the request form, the customer's cases and what they may do."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import format_number
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup, escape

from models import Case, CaseStatus, Category, Role, db, utcnow
from web.context import current_actor
from web.forms import apply_domain_error
from workflow import access, availability, cases, deadlines, labels, timeline
from workflow.cases import JUSTIFICATION_MAX, JUSTIFICATION_MIN
from workflow.errors import DomainError
from workflow.records import access as record_access
from workflow.states import Action

from .forms import ActionForm, RequestForm

bp = Blueprint("portal", __name__, url_prefix="/portal")

# What a customer may ask for on their case page, in the order the page shows them.
CUSTOMER_ACTIONS = (Action.REPLY, Action.APPEAL, Action.CANCEL, Action.REVOKE)


def _success_messages() -> dict[Action, str]:
    return {
        Action.REPLY: _("Resposta enviada. A análise continua e os prazos voltaram a correr."),
        Action.APPEAL: _("Recurso registrado. Outro analista vai examinar o seu pedido."),
        Action.CANCEL: _("Pedido cancelado."),
        Action.REVOKE: _("Exceção devolvida. A porta 25 voltará a ser bloqueada para este "
                         "endereço."),
    }


@bp.before_request
def _customers_only():
    """Every portal page is for a signed-in customer; staff work in the desk."""
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()
    if current_user.role is not Role.CUSTOMER:
        abort(403)
    return None


@bp.context_processor
def _labels():
    return {"labels": labels, "CaseStatus": CaseStatus, "format_number": format_number}


@bp.route("/guide")
def guide():
    """Ask what the customer is trying to do before offering the form."""
    return render_template("portal/guide.html", need=request.args.get("need"))


@bp.route("/cases/new", methods=["GET", "POST"])
def new_case():
    """The request form; a valid request gets its protocol number at once."""
    form = RequestForm()
    if request.method == "GET":
        _prefill(form)
    elif form.validate_on_submit():
        try:
            case = cases.submit(form.to_request(), customer=current_user._get_current_object(),
                                actor=current_actor())
        except DomainError as error:
            db.session.rollback()
            error.field = RequestForm.FIELD_OF_ERROR.get(error.field, error.field)
            apply_domain_error(form, error)
        else:
            db.session.commit()
            flash(_protocol_message(case.protocol), "success")
            return redirect(url_for("portal.case", protocol=case.protocol))
    # The page always shows the terms in force, and the form carries the version shown.
    terms_version = form.terms_version.data = current_app.config["TERMS_VERSION"]
    status = 422 if request.method == "POST" else 200
    return render_template("portal/new_case.html", form=form, terms_version=terms_version,
                           justification_min=JUSTIFICATION_MIN,
                           justification_max=JUSTIFICATION_MAX,
                           answer_days=current_app.config["ANSWER_DEADLINE_DAYS"],
                           execution_days=current_app.config["EXECUTION_DEADLINE_BUSINESS_DAYS"]
                           ), status


def _prefill(form: RequestForm) -> None:
    form.subscriber_id.data = current_user.subscriber_id
    if request.args.get("category") in {c.value for c in Category}:
        form.category.data = request.args["category"]


def _protocol_message(protocol: str) -> Markup:
    text = escape(_("Pedido registrado. Protocolo nº %(protocol)s. Guarde este número."))
    return Markup(text.replace("%(protocol)s", "{}")).format(
        Markup('<strong class="protocol">{}</strong>').format(protocol))


@bp.route("/", endpoint="cases")
def case_list():
    """The customer's own cases, newest first."""
    query = access.visible_cases(current_user).order_by(Case.submitted_at.desc(),
                                                         Case.id.desc())
    return render_template("portal/cases.html", cases=db.session.scalars(query).all(),
                           appeal_deadline=deadlines.appeal_deadline, now=utcnow())


@bp.route("/cases/<protocol>", endpoint="case")
def case_page(protocol: str):
    """One case: what was sent, the deadlines, the story so far and what may be done now."""
    return _render_case(access.case_for(current_user, protocol))


@bp.route("/cases/<protocol>/<action>", methods=["POST"])
def act(protocol: str, action: str):
    """Reply, appeal, cancel or give back; a refusal re-shows the page with the reason."""
    case = access.case_for(current_user, protocol)
    chosen = next((a for a in CUSTOMER_ACTIONS if a.value == action), None)
    if chosen is None:
        abort(404)
    form = ActionForm.for_action(chosen)
    if not form.validate_on_submit():
        flash(_("O formulário chegou incompleto. Recarregue a página e tente de novo."), "error")
        return _render_case(case, failed=(chosen, form)), 400
    try:
        cases.perform(case, chosen, actor=current_actor(), message=form.message.data,
                      expected_version=form.version.data)
    except DomainError as error:
        db.session.rollback()
        apply_domain_error(form, error)
        return _render_case(case, failed=(chosen, form)), error.status
    db.session.commit()
    flash(_success_messages()[chosen], "success")
    return redirect(url_for("portal.case", protocol=case.protocol))


def _render_case(case: Case, failed: tuple[Action, ActionForm] | None = None):
    """The case page; ``failed`` is an action form sent back with its errors and text."""
    offered = [a for a in availability.available_actions(case, current_actor())
               if a in CUSTOMER_ACTIONS]
    forms = {a.value: ActionForm.for_action(a, formdata=None, version=case.version)
             for a in CUSTOMER_ACTIONS if a in offered}
    if failed is not None and failed[0].value in forms:
        action, form = failed
        # The page now shows the case as it is, so the form now carries that version.
        form.version.data, form.version.raw_data = case.version, None
        forms[action.value] = form
    entries = timeline.timeline(case, for_staff=False)
    question = next((e.body for e in reversed(entries)
                     if e.action == "case:info_requested" and e.body), None)
    return render_template(
        "portal/case.html", case=case, entries=entries, forms=forms, question=question,
        records=record_access.records_of_case(current_user, case.id),
        waiting=record_access.waiting(case_id=case.id, kinds=record_access.CUSTOMER_KINDS),
        reason=(labels.reason_label(case)
                if case.status in (CaseStatus.REJECTED, CaseStatus.REVOKED) else None),
        appeal_deadline=deadlines.appeal_deadline(case),
    )

