"""Customer portal (stub: filled in by the portal work)."""

from flask import Blueprint

bp = Blueprint("portal", __name__, url_prefix="/portal")


@bp.route("/")
def cases():
    return "portal"


@bp.route("/guide")
def guide():
    return "guide"
