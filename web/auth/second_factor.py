"""The second sign-in step of staff and auditors: enrol an authenticator app, or give its
code (or a recovery code). Until it succeeds the session is signed out: these two pages
are all that a half-way sign-in reaches, and only for a few minutes."""

from __future__ import annotations

import segno
from flask import current_app, flash, redirect, render_template, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup

from extensions import limiter
from models import db
from web.context import source_ip
from workflow import second_factor
from workflow.audit import Actor

from .forms import EnrolForm, SecondFactorForm
from .session import PENDING_KEY, finish_sign_in, is_pending_expired, pending_user
from .views import bp, home_for


def _attempt_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _pending_account() -> str:
    """Rate-limit key: the account half-way in, so that changing address does not help."""
    return f"second-factor:{(session.get(PENDING_KEY) or {}).get('user')}"


# Per address (like the password) and per account: POSTs only, every attempt counts.
_per_address = limiter.limit(_attempt_limit, methods=["POST"])
_per_account = limiter.limit(_attempt_limit, methods=["POST"], key_func=_pending_account)


def _start_again():
    """No (or an expired) half-way sign-in: back to the password."""
    if current_user.is_authenticated:
        return redirect(home_for(current_user) or url_for("auth.index"))
    if is_pending_expired():
        session.pop(PENDING_KEY, None)
        flash(_("A verificação expirou. Entre de novo."), "info")
    return redirect(url_for("auth.login"))


def _wrong_code(form) -> None:
    form.code.errors = [_("Código incorreto ou já usado. Confira o relógio do celular e "
                          "use o próximo código do aplicativo.")]


@bp.route("/login/code", methods=["GET", "POST"])
@_per_address
@_per_account
def code():
    """The code step of an enrolled account: TOTP or a recovery code."""
    user = pending_user()
    if user is None:
        return _start_again()
    if not second_factor.is_enrolled(user):
        return redirect(url_for("auth.enrol"))
    form = SecondFactorForm()
    if not form.validate_on_submit():
        return render_template("auth/code.html", form=form), 422 if form.errors else 200
    factor = second_factor.verify(user, code=form.code.data,
                                  actor=Actor(user, source_ip=source_ip()))
    db.session.commit()  # audited either way
    if factor is None:
        _wrong_code(form)
        return render_template("auth/code.html", form=form), 422
    next_url = finish_sign_in(user)  # a new session: flash only after it
    if factor == "recovery_code":
        flash(_("Código de recuperação aceito; cada um vale uma vez. Restam %(n)d.",
                n=second_factor.unused_recovery_codes(user)), "info")
    return redirect(next_url or home_for(user) or url_for("auth.index"))


@bp.route("/login/enrol", methods=["GET", "POST"])
@_per_address
@_per_account
def enrol():
    """First sign-in (or after a reset): the secret as text and QR code, confirmed by a code."""
    user = pending_user()
    if user is None:
        return _start_again()
    if second_factor.is_enrolled(user):
        return redirect(url_for("auth.code"))
    form = EnrolForm()
    if not form.validate_on_submit():
        second_factor.enrolment_secret(user)
        db.session.commit()  # drawn once: a reload or a new sign-in shows the same QR code
        return _enrol_page(user, form, 422 if form.errors else 200)
    codes = second_factor.confirm_enrolment(user, code=form.code.data,
                                            actor=Actor(user, source_ip=source_ip()))
    db.session.commit()  # audited either way
    if codes is None:
        _wrong_code(form)
        return _enrol_page(user, form, 422)
    next_url = finish_sign_in(user)
    page = render_template("auth/recovery_codes.html", codes=codes,
                           next_url=next_url or home_for(user) or url_for("auth.index"))
    return page, 200, {"Cache-Control": "no-store"}  # shown once, never kept


def _enrol_page(user, form, status: int):
    secret = user.totp_secret
    grouped = " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))
    qr = segno.make(second_factor.provisioning_uri(user), error="m")
    # segno's SVG is paths and presentation attributes only: no style, no script (CSP).
    svg = Markup(qr.svg_inline(scale=4, border=4, dark="#000", light="#fff", svgclass="qr"))
    page = render_template("auth/enrol.html", form=form, secret=grouped, qr=svg)
    return page, status, {"Cache-Control": "no-store"}
