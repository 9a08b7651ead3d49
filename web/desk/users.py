"""Supervisors' page of the staff and auditor accounts: each one's second factor, and the
reset that makes a person enrol a new authenticator at their next sign-in (a lost phone).

Registered on the desk blueprint (sign-in and the desk roles are checked first); the
page and the reset are then for supervisors only, and a supervisor's own reset is
another supervisor's (the workflow refuses it).
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from models import Role, User, db
from web.auth.forms import EmptyForm
from web.context import current_actor
from workflow import second_factor

from .enforcement import supervisors_only
from .views import bp

ROLE_LABELS = {
    Role.OPERATOR: _l("Analista"),
    Role.SUPERVISOR: _l("Supervisor(a)"),
    Role.AUDITOR: _l("Auditor(a)"),
}


def second_factor_state(user: User) -> str:
    """A key of the account's second factor: active, started (not confirmed) or none."""
    if second_factor.is_enrolled(user):
        return "active"
    return "started" if user.totp_secret else "none"


@bp.get("/users/")
@supervisors_only
def users():
    """Staff and auditor accounts with their second factor."""
    return render_template("desk/users.html", accounts=second_factor.accounts_with_second_factor(),
                           role_labels=ROLE_LABELS, state_of=second_factor_state)


@bp.post("/users/<int:user_id>/reset-totp")
@supervisors_only
def reset_totp(user_id: int):
    """Forget the account's authenticator; they enrol a new one at their next sign-in."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    user = db.session.get(User, user_id) or abort(404)
    second_factor.reset(user, actor=current_actor())
    db.session.commit()
    flash(_("Verificação em duas etapas de %(name)s redefinida: no próximo acesso, a pessoa "
            "cadastra o aplicativo de novo.", name=user.name), "success")
    return redirect(url_for("desk.users"))
