"""Operator desk (stub)."""

from flask import Blueprint

bp = Blueprint("desk", __name__, url_prefix="/desk")


@bp.route("/")
def queue():
    return "desk"
