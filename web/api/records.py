"""/api/v1 records (DESIGN §6, §8): the records of a case, and the PDF of one.

The same rules as the web pages: someone else's case or record is a 404, and
every download is an audit event committed before the bytes are served.
"""

from __future__ import annotations

from flask import Response, jsonify

from models import db
from workflow import access
from workflow.records import access as record_access
from workflow.records import codes, verification

from . import auth
from .representations import record_json
from .views import bp


@bp.get("/cases/<protocol>/records")
def list_case_records(protocol: str):
    user = auth.api_user()
    case = access.case_for(user, protocol)
    records = record_access.records_of_case(user, case.id)
    links = verification.series_links(records)
    body = {"records": [record_json(record, *links[record.id]) for record in records]}
    db.session.commit()  # the token's last use
    return jsonify(body)


@bp.get("/records/<code>")
def get_record(code: str):
    record = record_access.record_for(auth.api_user(), code)
    content = record_access.download(record, auth.api_actor())
    db.session.commit()
    name = f"porta25-{record.kind.value}-{codes.display(record.code)}.pdf"
    return Response(content, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{name}"',
        "Cache-Control": "private, no-store",
    })
