"""Records for everyone: downloads for the people entitled to them, and the public check."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template
from flask_login import current_user

from models import db
from web.context import current_actor
from workflow import labels
from workflow.records import access, codes, verification

bp = Blueprint("records", __name__)


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


@bp.route("/verify/<code>")
def verify(code: str):
    """Public: is there such a record, what is it, and has it been superseded?"""
    record = verification.look_up(code)
    if record is None:
        return render_template("records/pages/verify_unknown.html", code=code), 404
    return render_template("records/pages/verify.html", record=record,
                           newest=verification.newest_of_series(record),
                           replaced_by=verification.superseded_by(record))
