"""Supervisors' pages of the enforcement stream (DESIGN §5): endpoints, deliveries, replays.

Registered on the desk blueprint, so sign-in and the desk roles are checked first;
every page here is then for supervisors only (operators and auditors get 403).
A new or rotated ``whsec_`` secret is rendered once, in the POST's own response,
never flashed, kept in the session or redirected with.
"""

from __future__ import annotations

from functools import wraps

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from models import Delivery, DeliveryStatus, EventType, Role, WebhookEndpoint, db
from web.context import current_actor
from web.forms import apply_domain_error
from workflow import endpoints, enforcement_status
from workflow.errors import DomainError

from .views import bp

EVENT_TYPE_LABELS = {
    EventType.ACTIVATED: _l("Ativação (liberar o alvo)"),
    EventType.REVOKED: _l("Revogação (bloquear de novo)"),
    EventType.EXPIRED: _l("Expiração (bloquear de novo)"),
}
STATE_LABELS = {
    DeliveryStatus.DELIVERED.value: _l("entregue"),
    DeliveryStatus.PENDING.value: _l("em tentativa"),
    DeliveryStatus.DEAD.value: _l("morta"),
    enforcement_status.QUEUED: _l("na fila"),
    enforcement_status.NOT_SUBSCRIBED: _l("não assinado"),
    enforcement_status.SKIPPED: _l("não enviado (anterior ao endpoint)"),
}
DISABLED_LABELS = {
    endpoints.DISABLED_MANUALLY: _l("por um supervisor"),
    endpoints.DISABLED_GONE: _l("o receptor respondeu 410 (não existe mais)"),
}


def disabled_label(reason: str | None) -> str:
    """Why an endpoint is off, in words (unknown reasons shown as stored)."""
    return str(DISABLED_LABELS.get(reason, reason or ""))


class EndpointForm(FlaskForm):
    """A new endpoint; the URL and its network are checked by the workflow."""

    url = StringField(_l("URL do endpoint"), validators=[DataRequired(_l("Informe a URL.")),
                                                          Length(max=2000)])
    event_types = SelectMultipleField(
        _l("Eventos que recebe"),
        choices=[SelectChoice(t.value, label) for t, label in EVENT_TYPE_LABELS.items()],
        default=[t.value for t in EventType],
        widget=ListWidget(prefix_label=False), option_widget=CheckboxInput())
    description = StringField(_l("Descrição"), validators=[Optional(), Length(max=200)])


def supervisors_only(view):
    """Endpoint management is the supervisors' (operators and auditors: 403)."""
    @wraps(view)
    def wrapper(*args, **kwargs):
        if current_user.role is not Role.SUPERVISOR:
            abort(403)
        return view(*args, **kwargs)
    return wrapper


@bp.context_processor
def _enforcement_labels():
    return {"event_type_labels": EVENT_TYPE_LABELS, "delivery_state_labels": STATE_LABELS,
            "disabled_label": disabled_label}


@bp.get("/enforcement/")
@supervisors_only
def enforcement():
    """Endpoints with their health, the dead deliveries, and whether anything enforces."""
    return render_template(
        "desk/enforcement/index.html", health=enforcement_status.endpoints_health(),
        dead=enforcement_status.dead_deliveries(),
        unenforced=enforcement_status.nothing_enforces_activations(),
        head=enforcement_status.stream_head())


@bp.get("/enforcement/events/<int:sequence>")
@supervisors_only
def enforcement_event(sequence: int):
    """One event's body and, per endpoint, its delivery with every attempt."""
    log = enforcement_status.event_log(sequence)
    if log is None:
        abort(404)
    return render_template("desk/enforcement/event.html", log=log)


def _endpoint(endpoint_id: int) -> WebhookEndpoint:
    return db.session.get(WebhookEndpoint, endpoint_id) or abort(404)


def _delivery(delivery_id: int) -> Delivery:
    return db.session.get(Delivery, delivery_id) or abort(404)


def _back():
    return redirect(url_for("desk.enforcement"))


def _secret_page(endpoint: WebhookEndpoint, secret: str, *, rotated: bool, status: int = 200):
    """The only page that ever shows a secret; never cached, never repeated."""
    page = render_template("desk/enforcement/secret.html", endpoint=endpoint, secret=secret,
                           rotated=rotated)
    return page, status, {"Cache-Control": "no-store"}


@bp.route("/enforcement/endpoints/new", methods=["GET", "POST"])
@supervisors_only
def enforcement_new():
    """Register an endpoint; its secret is shown in this very response, once."""
    form = EndpointForm()
    if not form.validate_on_submit():
        status = 422 if form.is_submitted() else 200
        return render_template("desk/enforcement/new.html", form=form), status
    try:
        endpoint, secret = endpoints.create_endpoint(
            url=form.url.data.strip(), event_types=form.event_types.data,
            description=form.description.data or "", actor=current_actor())
    except DomainError as error:
        db.session.rollback()
        apply_domain_error(form, error)
        return render_template("desk/enforcement/new.html", form=form), error.status
    db.session.commit()
    return _secret_page(endpoint, secret, rotated=False, status=201)


@bp.post("/enforcement/endpoints/<int:endpoint_id>/rotate")
@supervisors_only
def enforcement_rotate(endpoint_id: int):
    """Give the endpoint a new secret; the old one keeps signing for the overlap."""
    endpoint = _endpoint(endpoint_id)
    try:
        secret = endpoints.rotate_secret(endpoint, actor=current_actor())
    except DomainError as error:
        db.session.rollback()
        flash(str(error.message), "error")
        return _back()
    db.session.commit()
    return _secret_page(endpoint, secret, rotated=True)


@bp.post("/enforcement/endpoints/<int:endpoint_id>/<any(enable, disable):change>")
@supervisors_only
def enforcement_active(endpoint_id: int, change: str):
    """Stop or resume deliveries to one endpoint."""
    endpoint = _endpoint(endpoint_id)
    try:
        endpoints.set_active(endpoint, change == "enable", actor=current_actor())
    except DomainError as error:
        db.session.rollback()
        flash(str(error.message), "error")
        return _back()
    db.session.commit()
    flash(_("Endpoint reativado: as entregas recomeçam de onde pararam.")
          if change == "enable" else _("Endpoint desativado: nada mais é enviado a ele."),
          "success")
    return _back()


@bp.post("/enforcement/deliveries/<int:delivery_id>/replay")
@supervisors_only
def enforcement_replay(delivery_id: int):
    """Send a dead delivery's event again (same id and body)."""
    delivery = _delivery(delivery_id)
    try:
        endpoints.replay(delivery, actor=current_actor())
    except DomainError as error:
        db.session.rollback()
        flash(str(error.message), "error")
        return _back()
    db.session.commit()
    flash(_("Evento %(sequence)s reenfileirado para %(url)s.", sequence=delivery.sequence,
            url=delivery.endpoint.url), "success")
    return _back()
