"""Records for everyone: downloads for the people entitled to them, and the public check.

The check compares a file someone sends with what we issued. The answer is the
response to that POST itself (no redirect): nothing of the file is kept, so there
is nothing to redirect to.
"""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from extensions import limiter
from models import db
from web.context import current_actor
from web.forms import apply_domain_error
from workflow import labels
from workflow.errors import DomainError
from workflow.records import access, codes, verification

from .forms import CodeForm, UploadForm

bp = Blueprint("records", __name__)

# One budget for both upload forms, per client address (VERIFY_RATE_LIMIT).
upload_limit = limiter.shared_limit(lambda: current_app.config["VERIFY_RATE_LIMIT"],
                                    scope="verify-upload", methods=["POST"])


@bp.context_processor
def _labels():
    return {"labels": labels}


@bp.route("/records/<code>")
def download(code: str):
    """The PDF, to a signed-in user entitled to it; the download is audited first."""
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()
    record = access.record_for(current_user, code)
    content = access.download(record, current_actor())
    db.session.commit()
    name = f"porta25-{record.kind.value}-{codes.display(record.code)}.pdf"
    return content, 200, {
        "Content-Type": "application/pdf",
        "Content-Disposition": f'attachment; filename="{name}"',
        "Cache-Control": "private, no-store",
        "X-Content-Type-Options": "nosniff",
    }


@bp.get("/verify")
def verify_home():
    """Public: type a code (forgiving format), or send a file to find what it is."""
    form = CodeForm(formdata=request.args if "code" in request.args else None)
    if "code" in request.args and form.validate():
        try:
            return redirect(url_for("records.verify", code=verification.code_from(form.code.data)))
        except DomainError as error:
            apply_domain_error(form, error)
    status = 422 if form.errors else 200
    return _home(code_form=form, status=status)


@bp.post("/verify")
@upload_limit
def identify():
    """Public: which record is this file? Found by its SHA-256, or not one of ours."""
    form = UploadForm()
    if form.validate_on_submit():
        try:
            comparison = verification.identify(form.file.data.read())
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            if comparison.identical:
                return _page(comparison.record, UploadForm(formdata=None), comparison=comparison)
            return _home(unknown=comparison.upload)
    return _home(upload_form=form, status=422)


@bp.route("/verify/<code>", methods=["GET", "POST"])
@upload_limit
def verify(code: str):
    """Public: is there such a record, what is it, and is this file byte for byte it?"""
    record = verification.look_up(code)
    if record is None:
        return render_template("records/pages/verify_unknown.html", code=code), 404
    form = UploadForm()
    if not form.is_submitted():
        return _page(record, form)
    if form.validate_on_submit():
        try:
            comparison = verification.compare(record, form.file.data.read())
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            return _page(record, UploadForm(formdata=None), comparison=comparison)
    return _page(record, form, status=422)


@bp.errorhandler(413)
def _too_large(error):
    """A file over MAX_CONTENT_LENGTH: say so on the page the form was on."""
    form = UploadForm(formdata=None)
    limit = current_app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024)
    form.file.errors = [_("O arquivo é grande demais: envie um PDF de até %(mb)s MB.", mb=limit)]
    record = verification.look_up((request.view_args or {}).get("code", ""))
    if record is not None:
        return _page(record, form, status=413)
    return _home(upload_form=form, status=413)


def _page(record, form: UploadForm, *, comparison=None, status: int = 200):
    """The record's page; ``comparison``: what a file sent to be compared turned out to be."""
    return render_template("records/pages/verify.html", facts=verification.facts(record),
                           record=record, file_form=form, comparison=comparison), status


def _home(*, code_form: CodeForm | None = None, upload_form: UploadForm | None = None,
          unknown=None, status: int = 200):
    return render_template("records/pages/verify_home.html",
                           code_form=code_form or CodeForm(formdata=None),
                           file_form=upload_form or UploadForm(formdata=None),
                           unknown=unknown), status
