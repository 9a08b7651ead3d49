"""One step of a long-running command in a transaction of its own: the worker and the
retention job commit each step, so a failure loses only the step it happened in."""

from __future__ import annotations

from models import db


def committed(step, *args):
    """Run one step and commit it; roll back and re-raise on any error."""
    try:
        value = step(*args)
        db.session.commit()
        return value
    except BaseException:
        db.session.rollback()
        raise
