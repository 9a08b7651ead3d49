"""Jinja filters and globals: Brazilian dates, status labels, the two clocks."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from flask_babel import format_date, format_datetime, get_locale

from models import CaseStatus, utcnow
from workflow import deadlines
from workflow.engine import STATUS_LABELS
from workflow.labels import CLOCK_STATE_LABELS, deadline_name
from workflow.links import public_url
from workflow.records import codes
from workflow.trail_labels import account_label


def init_app(app: Flask) -> None:
    app.jinja_env.filters["datetime"] = lambda value: (
        format_datetime(value, "dd/MM/yyyy HH:mm") if value else "—")
    app.jinja_env.filters["date"] = lambda value: format_date(value, "dd/MM/yyyy") if value else "—"
    app.jinja_env.filters["status_label"] = lambda status: STATUS_LABELS[CaseStatus(status)]
    app.jinja_env.globals["get_locale"] = get_locale
    app.jinja_env.globals["display_code"] = codes.display
    app.jinja_env.globals["fresh_since"] = lambda seconds: utcnow() - timedelta(seconds=seconds)
    app.jinja_env.globals["clocks"] = lambda case: deadlines.clocks(case, utcnow())
    app.jinja_env.filters["clock_state_label"] = lambda state: CLOCK_STATE_LABELS[state]
    app.jinja_env.filters["deadline_name"] = deadline_name
    app.jinja_env.globals["account_label"] = account_label
    app.jinja_env.globals["public_url"] = public_url
