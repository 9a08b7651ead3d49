"""The OpenAPI 3.1 document of /api/v1 (DESIGN §6).

It is the single description of what the API accepts: ``schemas.py`` validates
every request body and query string against the JSON Schemas in it, so the
document and the behaviour cannot drift apart. Limits that are settings
(``MAX_VALIDITY_DAYS``) are read when the document is built, once per app.
Descriptions are Portuguese, like the rest of the product; the document is one
contract and is not translated per request.

Each area (``cases``, ``records``, ``enforcement``, ``audit``) gives its schemas
and its paths; ``common`` holds what they share. This module only assembles them.
"""

from __future__ import annotations

from flask import Flask

from . import audit, cases, enforcement, records
from .common import parameters, problem_responses, problem_schema

API_VERSION = "1.0.0"

_SELF = {"/api/v1/openapi.json": {"get": {
    "operationId": "getOpenapi", "summary": "This document.", "security": [],
    "responses": {"200": {"description": "The OpenAPI document.", "content": {
        "application/json": {"schema": {"type": "object"}}}}}}}}


def build_document(app: Flask) -> dict:
    """The whole OpenAPI 3.1 document for ``app``'s settings."""
    return {
        "openapi": "3.1.0",
        "info": {"title": "porta25 — port 25 exception API", "version": API_VERSION,
                 "description": ("Errors are application/problem+json (RFC 9457); "
                                 "details in pt-BR, or English with Accept-Language: en.")},
        "security": [{"bearer": []}],
        "paths": {**_SELF, **cases.paths(), **records.paths(), **enforcement.paths(),
                  **audit.paths()},
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                           "description": "flask tokens create"}},
            "schemas": {"Problem": problem_schema(), **cases.schemas(app),
                        **records.schemas(), **enforcement.schemas(), **audit.schemas()},
            "parameters": parameters(),
            "responses": problem_responses(),
        },
    }


def document(app: Flask) -> dict:
    """The document, built once per app."""
    cache = app.extensions.setdefault("porta25_api", {})
    if "document" not in cache:
        cache["document"] = build_document(app)
    return cache["document"]
