"""Helpers shared by the blueprints' forms."""

from __future__ import annotations

from flask import flash
from flask_wtf import FlaskForm

from workflow.errors import DomainError


def apply_domain_error(form: FlaskForm, error: DomainError) -> None:
    """Show a refusal next to the field it concerns, or as a message at the top."""
    field = getattr(form, error.field, None) if error.field else None
    if field is not None and hasattr(field, "errors"):
        field.errors = [*field.errors, str(error.message)]
    else:
        flash(str(error.message), "error")
