"""The regulators' audit trail page and their exports (cases, events), on the portal.

The trail: newest events first, filtered by period, actor, action, protocol and
state, paginated by ``seq``. Exports: the case list's or the trail's filters, as
CSV or JSON Lines, streamed from one snapshot; each is an audit event committed
before the first byte (workflow.regulator_exports).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime

from flask import Response, render_template, request, url_for
from flask_babel import format_datetime, get_timezone, ngettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from models import db, utcnow
from web.context import current_actor
from web.forms import apply_domain_error
from workflow import checkpoints, regulator_exports, trail, trail_labels
from workflow.engine import STATUS_LABELS
from workflow.errors import InvalidInput, NotFound

from .forms import CaseFilterForm, TrailFilterForm
from .views import bp

TRAIL_FILTERS = ("start", "end", "actor", "action", "protocol", "uf")
SUMMARY_MAX = 100  # characters of a details' one-line summary
VALUE_MAX = 40  # characters of one value in it
# Details store moments in UTC (ISO 8601); the summary shows them in the page's zone.
UTC_MOMENT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})")
STATUS_KEYS = frozenset({"from", "to", "status"})
MEDIA_TYPES = {"csv": "text/csv; charset=utf-8", "jsonl": "application/jsonl; charset=utf-8"}


@bp.get("/trilha/")
def trail_page():
    """The audit trail in the auditor's scope (a PROCON: its state's events)."""
    form = TrailFilterForm(formdata=request.args).offer_ufs(current_user)
    rows, next_before, status = [], None, 200
    try:
        filters = trail.parse_filter(**form.values())
        rows, next_before = trail.page(current_user, filters, before=_before())
    except (InvalidInput, NotFound) as error:
        apply_domain_error(form, error)
        status = 400 if isinstance(error, InvalidInput) else 404
    given = {name: request.args[name] for name in TRAIL_FILTERS if request.args.get(name)}
    return render_template(
        "audit/trail.html", form=form, rows=rows, filters=given,
        action_label=trail_labels.action_label, actor_label=trail_labels.actor_label,
        object_label=trail_labels.object_label, shown_details=shown_details,
        zone=trail_labels.zone_label(str(get_timezone())),
        checkpoint=checkpoints.latest(),
        next_url=url_for("audit.trail_page", **given, before=next_before) if next_before
        else None,
        first_url=url_for("audit.trail_page", **given) if request.args.get("before") else None,
    ), status


@dataclass(frozen=True)
class ShownDetails:
    """An event's details on the page: one line, and the whole of them on demand."""

    summary: str
    pretty: str


def shown_details(text: str) -> ShownDetails:
    """The stored details (canonical JSON) as a summary of their first fields and as
    indented JSON; a settings change holds dozens of lines."""
    details = json.loads(text)
    if not isinstance(details, dict):
        return ShownDetails(_short(details), json.dumps(details, indent=2, ensure_ascii=False))
    summary = " · ".join(f"{key}: {_short(_readable(key, value))}"
                         for key, value in details.items())
    if len(summary) > SUMMARY_MAX:
        summary = summary[:SUMMARY_MAX - 1].rstrip(" …") + "…"
    return ShownDetails(summary, json.dumps(details, indent=2, ensure_ascii=False))


def _readable(key: str, value: object) -> object:
    """A status in words and a UTC moment in the page's zone; anything else as stored."""
    if not isinstance(value, str):
        return value
    if key in STATUS_KEYS and value in STATUS_LABELS:
        return str(STATUS_LABELS[value])
    if UTC_MOMENT.fullmatch(value):
        return format_datetime(datetime.fromisoformat(value), "dd/MM/yyyy HH:mm:ss")
    return value


def _short(value: object) -> str:
    """A value in a few words: a few keys of an object, a count of a longer one or a list."""
    if isinstance(value, dict):
        if 0 < len(value) <= 3:
            return ", ".join(value)
        return ngettext("%(num)d campo", "%(num)d campos", len(value))
    if isinstance(value, list):
        return ngettext("%(num)d item", "%(num)d itens", len(value))
    text = value if isinstance(value, str) else json.dumps(value)
    return text if len(text) <= VALUE_MAX else text[:VALUE_MAX - 1] + "…"


def _before() -> int | None:
    text = request.args.get("before") or ""
    if not text:
        return None
    if not text.isdigit() or len(text) > 18:
        raise InvalidInput(_l("Página inválida."), field="before")
    return int(text)


@bp.get("/exportar/casos.<any(csv, jsonl):fmt>")
def export_cases(fmt: str):
    """The case list's rows (every page) with its filters; audited, then streamed."""
    form = CaseFilterForm(formdata=request.args).offer_ufs(current_user)
    if not form.validate():
        raise InvalidInput(" ".join(e for errors in form.errors.values() for e in errors))
    export = regulator_exports.export_cases(actor=current_actor(), fmt=fmt, **form.filters())
    db.session.commit()
    return _stream(export, f"porta25-casos-{_scope()}-{_stamp()}.{fmt}")


@bp.get("/exportar/trilha.<any(csv, jsonl):fmt>")
def export_events(fmt: str):
    """The trail's events (every page) with its filters; audited, then streamed."""
    filters = trail.parse_filter(**TrailFilterForm(formdata=request.args).values())
    export = regulator_exports.export_events(actor=current_actor(), fmt=fmt, filters=filters)
    db.session.commit()
    return _stream(export, f"porta25-trilha-{_scope()}-{_stamp()}.{fmt}")


def _stream(export: regulator_exports.Export, name: str) -> Response:
    """The file as it is read; the snapshot closes with the response, even if cut short."""
    response = Response(export.chunks(), mimetype=MEDIA_TYPES[export.fmt].split(";")[0])
    response.headers.update({
        "Content-Type": MEDIA_TYPES[export.fmt],
        "Content-Disposition": f'attachment; filename="{name}"',
        "Cache-Control": "private, no-store",
        "X-Content-Type-Options": "nosniff",
        "X-Export-Rows": str(export.rows),
    })
    response.call_on_close(export.close)
    return response


def _scope() -> str:
    return (current_user.uf or "BR").lower()


def _stamp() -> str:
    return utcnow().strftime("%Y%m%dT%H%M%SZ")
