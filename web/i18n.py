"""Language choice: the user's explicit choice, then pt-BR (the product's language)."""

from __future__ import annotations

from flask import current_app, has_request_context, request, session
from flask_login import current_user

LOCALES = ("pt_BR", "en")


def select_locale() -> str:
    """Session choice, then the account's, then the API client's header, then pt-BR."""
    if not has_request_context():  # CLI, worker: the product's language
        return current_app.config["DEFAULT_LOCALE"]
    chosen = session.get("locale")
    if chosen in LOCALES:
        return chosen
    if current_user and current_user.is_authenticated and current_user.locale in LOCALES:
        return current_user.locale
    if request.path.startswith("/api/"):
        return request.accept_languages.best_match(LOCALES) or "pt_BR"
    return current_app.config["DEFAULT_LOCALE"]
