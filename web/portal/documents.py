"""The customer's documents: the history statement (PDF on request, JSON at once) and
the records of every case. Registered on the portal blueprint (customers only)."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from models import db, utcnow
from web.context import current_actor
from workflow.records import statements

from .views import bp


@bp.get("/documents")
def documents():
    """History statements issued and in preparation, and each case's records."""
    issued, waiting = statements.history_records(current_user)
    cases = statements.case_records(current_user)
    return render_template("portal/documents.html", history=issued, history_waiting=waiting,
                           cases=cases, preparing=waiting + [w for *_, ws in cases for w in ws])


@bp.post("/documents/history")
def issue_history():
    """Ask for the history statement as a PDF, in the language the page is read in."""
    statements.request_statement(actor=current_actor(), language=str(get_locale()))
    db.session.commit()
    flash(_("Histórico pedido. O PDF fica pronto em instantes nesta página."), "success")
    return redirect(url_for("portal.documents"))


@bp.get("/documents/history.json")
def history_json():
    """The history statement as JSON, served at once; the export is audited first."""
    body = statements.export_statement(actor=current_actor(), language=str(get_locale()),
                                       now=utcnow())
    db.session.commit()
    return body, 200, {
        "Content-Type": "application/json; charset=utf-8",
        "Content-Disposition": 'attachment; filename="porta25-historico.json"',
        "Cache-Control": "private, no-store",
        "X-Content-Type-Options": "nosniff",
    }
