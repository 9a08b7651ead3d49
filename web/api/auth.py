"""Bearer tokens: every /api/v1 request except the OpenAPI document acts as the
owner of the token it carries, with that owner's role and scope."""

from __future__ import annotations

from flask import g, request
from flask_babel import gettext as _

from models import TokenScope, User
from web.context import source_ip
from workflow import accounts
from workflow.audit import Actor

from .problems import ProblemError

PUBLIC_ENDPOINTS = frozenset({"api.openapi"})
ENFORCEMENT_PREFIX = "/api/v1/enforcement/"
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
    found = accounts.token_for(token)  # also stamps last_used_at, saved by the commit
    if found is None:
        raise ProblemError(401, _("Token inválido ou revogado."),
                           headers={"WWW-Authenticate": f'{CHALLENGE}, error="invalid_token"'})
    if found.scope is TokenScope.ENFORCEMENT and not request.path.startswith(ENFORCEMENT_PREFIX):
        raise ProblemError(403, _("Este token só lê a lista de liberação e as mudanças."))
    g.api_user = found.user


def api_user() -> User:
    """The owner of this request's token."""
    return g.api_user


def api_actor() -> Actor:
    """The token's owner acting from this request's address."""
    return Actor(g.api_user, source_ip=source_ip())
