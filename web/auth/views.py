"""Sign-in, sign-out, customer sign-up and the language switch."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from extensions import limiter
from models import Role, db
from web.context import current_actor, source_ip
from web.forms import apply_domain_error
from web.i18n import LOCALES
from workflow import accounts, audit, second_factor
from workflow.errors import DomainError

from .forms import EmptyForm, LanguageForm, LoginForm, RegisterForm
from .session import PENDING_KEY, begin_second_factor, fresh_session

bp = Blueprint("auth", __name__)


def home_for(user) -> str | None:
    """Where each role starts; None: the front page itself (providers, for now)."""
    if user.role is Role.CUSTOMER:
        return url_for("portal.cases")
    if user.role in (Role.OPERATOR, Role.SUPERVISOR):
        return url_for("desk.queue")
    if user.role is Role.AUDITOR:
        return url_for("audit.cases")
    return None


def safe_next(target: str | None) -> str | None:
    """Only same-site paths: a login must never bounce to another host."""
    if not target:
        return None
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc and target.startswith("/") else None


@bp.route("/")
def index():
    home = home_for(current_user) if current_user.is_authenticated else None
    return redirect(home) if home else render_template("auth/index.html")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        session.pop(PENDING_KEY, None)  # any new password attempt restarts the second step
        user = accounts.authenticate(form.email.data, form.password.data, source_ip=source_ip())
        db.session.commit()  # the attempt is audited either way
        next_url = safe_next(request.args.get("next"))
        if user is not None and second_factor.required_for(user):
            begin_second_factor(user, next_url)
            step = "auth.code" if second_factor.is_enrolled(user) else "auth.enrol"
            return redirect(url_for(step))
        if user is not None:
            fresh_session()
            login_user(user)
            return redirect(next_url or home_for(user) or url_for("auth.index"))
        flash(_("E-mail ou senha incorretos."), "error")
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    if EmptyForm().validate_on_submit():
        audit.record(audit.Tag.USER_LOGGED_OUT, current_actor(), object_type="user",
                     object_id=str(current_user.id))
        db.session.commit()
        logout_user()
        fresh_session()
        flash(_("Você saiu."), "info")
    return redirect(url_for("auth.index"))


@bp.route("/register", methods=["GET", "POST"])
def register():
    form = RegisterForm()
    if form.validate_on_submit():
        try:
            user = accounts.create_user(
                email=form.email.data, password=form.password.data, role=Role.CUSTOMER,
                name=form.name.data, uf=form.uf.data, cpf_cnpj=form.cpf_cnpj.data,
                phone=form.phone.data, subscriber_id=form.subscriber_id.data,
                actor=current_actor())
        except DomainError as error:
            db.session.rollback()
            apply_domain_error(form, error)
        else:
            db.session.commit()
            login_user(user)
            flash(_("Conta criada. Bem-vindo(a)!"), "success")
            return redirect(url_for("portal.guide"))
    return render_template("auth/register.html", form=form)


@bp.route("/language", methods=["POST"])
def language():
    form = LanguageForm()
    if form.validate_on_submit() and form.locale.data in LOCALES:
        session["locale"] = form.locale.data
    return redirect(safe_next(form.next.data) or url_for("auth.index"))
