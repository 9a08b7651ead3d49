"""Bearer tokens: every /api/v1 request except the OpenAPI document acts as the
owner of the token it carries, with that owner's role and scope."""

from __future__ import annotations

from flask import g, request
from flask_babel import gettext as _

from models import User
from web.context import source_ip
from workflow import accounts
from workflow.audit import Actor

from .problems import ProblemError

PUBLIC_ENDPOINTS = frozenset({"api.openapi"})
CHALLENGE = 'Bearer realm="porta25"'


def authenticate() -> None:
    """``before_request``: identify the token's owner or answer 401 with a challenge."""
    if request.endpoint in PUBLIC_ENDPOINTS:
        return
    scheme, _sep, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise ProblemError(401, _("Envie o token no cabeçalho Authorization: Bearer <token>."),
                           headers={"WWW-Authenticate": CHALLENGE})
    user = accounts.user_for_token(token)  # also stamps last_used_at, saved by the commit
    if user is None:
        raise ProblemError(401, _("Token inválido ou revogado."),
                           headers={"WWW-Authenticate": f'{CHALLENGE}, error="invalid_token"'})
    g.api_user = user


def api_user() -> User:
    """The owner of this request's token."""
    return g.api_user


def api_actor() -> Actor:
    """The token's owner acting from this request's address."""
    return Actor(g.api_user, source_ip=source_ip())
