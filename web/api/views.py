"""/api/v1 (DESIGN §6): cases and their actions for bearer-token clients.

Each view reads its input through ``schemas`` (validated against the OpenAPI
document), calls one workflow function, commits once and answers JSON. Domain
refusals become problem+json through web/errors.py; the API's own refusals
(400, 401, 404 for an unknown action, 413) through ``ProblemError``.
"""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, url_for
from flask_babel import gettext as _

from models import Role, User, db
from workflow import access, accounts, cases
from workflow.errors import InvalidInput
from workflow.queue import queue
from workflow.states import USER_ACTIONS, Action

from . import auth, schemas
from .openapi import document
from .problems import ProblemError
from .representations import case_json

bp = Blueprint("api", __name__, url_prefix="/api/v1")
bp.before_request(auth.authenticate)


@bp.errorhandler(ProblemError)
def _problem(error: ProblemError):
    db.session.rollback()
    return error.response()


@bp.get("/openapi.json")
def openapi():
    return jsonify(document(current_app))


@bp.post("/cases")
def create_case():
    user = auth.api_user()
    if user.role not in (Role.CUSTOMER, Role.OPERATOR, Role.SUPERVISOR):
        raise ProblemError(403, _("Seu perfil não permite registrar pedidos."))
    body = schemas.json_body("CaseCreate")
    customer = _filing_for(user, body.get("customer_email"))
    case = cases.submit(_request(body), customer=customer, actor=auth.api_actor())
    db.session.commit()
    response = jsonify(case_json(case, auth.api_actor()))
    response.status_code = 201
    response.headers["Location"] = url_for("api.get_case", protocol=case.protocol)
    return response


def _filing_for(user: User, email: str | None) -> User:
    """Customers file for themselves; staff name the customer they file for."""
    if user.role is Role.CUSTOMER:
        if email is not None and accounts.normalise_email(email) != user.email:
            raise InvalidInput(_("Clientes fazem pedidos apenas em nome próprio."),
                               field="customer_email")
        return user
    if email is None:
        raise InvalidInput(_("Informe o e-mail do cliente em nome de quem o pedido é feito."),
                           field="customer_email")
    customer = accounts.user_by_email(email)
    if customer is None or customer.role is not Role.CUSTOMER or not customer.is_active:
        raise InvalidInput(_("Nenhum cliente com este e-mail."), field="customer_email")
    return customer


def _request(body: dict) -> cases.Request:
    profile = body.get("sending_profile") or {}
    volume = profile.get("messages_per_day")
    return cases.Request(
        target=body["target"], subscriber_id=body["subscriber_id"], category=body["category"],
        justification=body["justification"], mail_hostname=body["mail_hostname"],
        # Absent: the token's owner accepts the current terms through the API.
        terms_version=body.get("accepted_terms_version", current_app.config["TERMS_VERSION"]),
        messages_per_day=None if volume is None else int(volume),
        sending_kind=profile.get("kind"),
    )


@bp.get("/cases")
def list_cases():
    args = schemas.query_args("/api/v1/cases")
    try:
        rows, next_cursor = queue(auth.api_user(), status=args.get("status"), uf=args.get("uf"),
                                  q=args.get("q"), after=args.get("cursor"),
                                  limit=args.get("limit"))
    except InvalidInput as error:
        if error.field == "after":  # the queue's name for what the API calls ``cursor``
            error.field = "cursor"
        raise
    actor = auth.api_actor()
    body = {"cases": [case_json(case, actor) for case in rows], "next_cursor": next_cursor}
    db.session.commit()  # the token's last use
    return jsonify(body)


@bp.get("/cases/<protocol>")
def get_case(protocol: str):
    case = access.case_for(auth.api_user(), protocol)
    body = case_json(case, auth.api_actor())
    db.session.commit()  # the token's last use
    return jsonify(body)


@bp.post("/cases/<protocol>/actions/<action>")
def perform_action(protocol: str, action: str):
    if action not in {a.value for a in USER_ACTIONS}:
        raise ProblemError(404, _("Ação desconhecida: %(action)s.", action=action[:40]))
    body = schemas.json_body("ActionRequest", optional=True)
    case = access.case_for(auth.api_user(), protocol)
    cases.perform(case, Action(action), actor=auth.api_actor(), message=body.get("message"),
                  reason_code=body.get("reason_code"), valid_days=_int(body.get("valid_days")),
                  expected_version=_int(body.get("version")))
    db.session.commit()
    return jsonify(case_json(case, auth.api_actor()))


def _int(value) -> int | None:
    """JSON Schema counts 3.0 as an integer; the workflow wants an int."""
    return None if value is None else int(value)
