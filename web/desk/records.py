"""The case page's documents: ask for the dossier or re-issue a customer document (staff).

Registered on the desk blueprint, so sign-in and the staff roles are checked first
and the POSTs carry the CSRF token (CSRFProtect). The workflow decides who may
ask: a case out of the person's view is 404 here too. Auditors ask for their
(masked) dossiers on the regulators' portal (web/audit/views.py).
"""

from __future__ import annotations

from flask import flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user

from models import db
from web.context import current_actor
from workflow import labels
from workflow.access import case_for
from workflow.records import access, on_demand

from .views import bp


@bp.post("/cases/<protocol>/records/dossier")
def ask_dossier(protocol: str):
    """Ask for the case's dossier; the worker prepares it in a few seconds."""
    case = case_for(current_user, protocol)
    on_demand.request_dossier(case, actor=current_actor())
    db.session.commit()
    flash(_("Dossiê solicitado: ele está sendo preparado e aparece em Documentos em "
            "instantes."), "success")
    return redirect(url_for("desk.case", protocol=protocol, _anchor="h-records"))


@bp.post("/cases/<protocol>/records/<code>/reissue")
def reissue(protocol: str, code: str):
    """Issue a customer document again; the new one supersedes it (staff only)."""
    case = case_for(current_user, protocol)
    record = access.record_for(current_user, code)
    on_demand.reissue(record, case=case, actor=current_actor())
    db.session.commit()
    flash(_("%(kind)s reemitido: o novo documento está sendo preparado e substitui o "
            "anterior.", kind=labels.RECORD_KIND_LABELS[record.kind]), "success")
    return redirect(url_for("desk.case", protocol=protocol, _anchor="h-records"))
