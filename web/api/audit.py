"""/api/v1/audit/events (DESIGN §6, §9): the audit trail after a sequence number.

An auditor reads within their scope (a PROCON: its state's events; Anatel: all),
a supervisor every event; operators, customers and providers get 403
(workflow.trail). Each event carries the fields its hash covers and its hashes.
Reading is not itself audited: it shows references, never personal data.
"""

from __future__ import annotations

from flask import jsonify

from models import db
from workflow import trail

from . import auth, schemas
from .views import bp


@bp.get("/audit/events")
def audit_events():
    args = schemas.query_args("/api/v1/audit/events")
    feed = trail.events_after(auth.api_user(), after=args.get("after", 0),
                              limit=args.get("limit", 100))
    body = {"events": [trail.event_data(event) for event in feed.events],
            "next_after": feed.next_after, "head": feed.head}
    db.session.commit()  # the token's last use
    return jsonify(body)
