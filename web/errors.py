"""Error pages for people and problem+json for the API, from one set of handlers."""

from __future__ import annotations

from flask import Flask, make_response, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from models import db
from web.api.problems import problem
from workflow.errors import DomainError


def _wants_problem() -> bool:
    return request.path.startswith("/api/")


def _messages() -> dict[int, str]:
    return {
        400: _("Pedido inválido."),
        401: _("É preciso se identificar."),
        403: _("Você não tem permissão para isso."),
        404: _("Página não encontrada."),
        405: _("Método não permitido."),
        409: _("Conflito com o estado atual."),
        413: _("O conteúdo enviado é grande demais."),
        429: _("Muitas tentativas. Aguarde um pouco e tente de novo."),
        500: _("Erro interno. Nada foi alterado; tente de novo mais tarde."),
    }


def render_error(status: int, detail: str | None = None):
    detail = detail or _messages().get(status, _("Erro."))
    if _wants_problem():
        return problem(status, detail)
    return render_template("errors/error.html", status=status, detail=detail), status


def init_app(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def _http(error: HTTPException):
        if isinstance(error, CSRFError):
            return render_error(400, _("O formulário expirou. Recarregue a página e envie "
                                       "de novo."))
        status = error.code or 500
        response = make_response(render_error(status, _messages().get(status)
                                               or error.description))
        # Keep what the status needs, such as the Allow header of a 405 (RFC 9110).
        response.headers.extend((name, value) for name, value in error.get_headers()
                                if name.lower() != "content-type")
        return response

    @app.errorhandler(DomainError)
    def _domain(error: DomainError):
        db.session.rollback()
        if _wants_problem():
            return problem(error.status, str(error.message), field=error.field)
        return render_error(error.status, str(error.message))

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        db.session.rollback()
        app.logger.exception("unhandled error")
        return render_error(500)
