"""The case page's automated checks (PTR, FCrDNS, SPF, MX): shown to staff and auditors,
asked for again by staff ("Verificar novamente"). The worker does the DNS queries;
a request never waits on a resolver.

Registered on the desk blueprint, so sign-in and the desk roles are checked first.
"""

from __future__ import annotations

from flask import abort, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user

from models import db
from web.context import current_actor
from workflow import evidence
from workflow.access import case_for
from workflow.errors import DomainError

from .views import bp


@bp.context_processor
def _evidence_helpers():
    return {"evidence_summary": evidence.summary}


@bp.post("/cases/<protocol>/evidence")
def recheck(protocol: str):
    """Queue a new round of checks of the case (its CSRF token is checked by CSRFProtect)."""
    case = case_for(current_user, protocol)
    if not current_user.is_staff:
        abort(403)
    try:
        evidence.request_checks(case, actor=current_actor())
    except DomainError as error:
        db.session.rollback()
        flash(str(error.message), "error")
        return _back(protocol)
    db.session.commit()
    flash(_("Verificação pedida: os resultados aparecem nesta página em instantes."), "success")
    return _back(protocol)


def _back(protocol: str):
    return redirect(url_for("desk.case", protocol=protocol, _anchor="h-evidence"))
