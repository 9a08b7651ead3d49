"""Reading API requests: bodies and query strings, checked against the JSON Schemas
of the OpenAPI document itself (the ``openapi`` package), so the two cannot drift.

A body that is not JSON at all is a 400; JSON that breaks the schema is a 422
whose ``field`` names the first offending member (``sending_profile.kind`` for
a nested one). Domain rules the schema cannot express (the ISP's address space,
host-name syntax, …) are checked by the workflow and come back as 422 too.
"""

from __future__ import annotations

import json
import re

import jsonschema_rs
from flask import current_app, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from workflow.errors import InvalidInput

from .openapi import document
from .problems import ProblemError

_INTEGER = re.compile(r"^[+-]?[0-9]{1,18}$")
_TYPE_NAMES = {"string": _l("texto"), "integer": _l("número inteiro"), "number": _l("número"),
               "object": _l("objeto"), "array": _l("lista"),
               "boolean": _l("verdadeiro ou falso"), "null": "null"}


def _validators() -> dict:
    return current_app.extensions.setdefault("porta25_api", {}).setdefault("validators", {})


def _validator(key: str, schema: dict) -> jsonschema_rs.Validator:
    """A compiled validator for ``schema``; refs resolve inside the whole document."""
    cache = _validators()
    if key not in cache:
        root = {**schema, "components": document(current_app)["components"]}
        cache[key] = jsonschema_rs.Draft202012Validator(root)
    return cache[key]


def json_body(schema_name: str, *, optional: bool = False) -> dict:
    """The request's JSON object, valid against components.schemas[``schema_name``]."""
    raw = _read_body()
    if not raw.strip() and optional:
        return {}
    if not request.mimetype or not (request.mimetype == "application/json"
                                    or request.mimetype.endswith("+json")):
        raise ProblemError(400, _("Envie o corpo como JSON (Content-Type: application/json)."))
    body = _parse(raw)
    validator = _validator(f"body:{schema_name}",
                           {"$ref": f"#/components/schemas/{schema_name}"})
    _raise_first_error(validator, body)
    return body


def _read_body() -> bytes:
    """At most API_MAX_BODY_BYTES of the body; more is a 413, whatever the headers said."""
    limit = current_app.config["API_MAX_BODY_BYTES"]
    too_large = ProblemError(413, _("O corpo pode ter até %(n)d bytes.", n=limit))
    if request.content_length is not None and request.content_length > limit:
        raise too_large
    data = request.stream.read(limit + 1)
    if len(data) > limit:
        raise too_large
    return data


def _refuse_constant(name: str):
    raise ValueError(name)


def _parse(raw: bytes) -> dict:
    try:
        body = json.loads(raw.decode("utf-8"), parse_constant=_refuse_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):
        # ValueError covers JSONDecodeError, NaN/Infinity and integers too long to convert.
        raise ProblemError(400, _("O corpo não é um JSON válido.")) from None
    if not isinstance(body, dict):
        raise ProblemError(400, _("O corpo deve ser um objeto JSON."))
    try:
        # "\ud800" parses, but a lone surrogate is no character and cannot be stored.
        json.dumps(body, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise ProblemError(400, _("O corpo não é um JSON válido.")) from None
    return body


def query_args(operation_path: str, method: str = "get") -> dict:
    """The declared query parameters present in the request, typed and validated."""
    operation = document(current_app)["paths"][operation_path][method]
    params = [p for p in operation.get("parameters", []) if p.get("in") == "query"]
    values = {}
    for param in params:
        name, schema = param["name"], param["schema"]
        if name not in request.args:
            continue
        if schema["type"] == "array":
            values[name] = [_typed(v, schema["items"]) for v in request.args.getlist(name)]
        else:
            values[name] = _typed(request.args[name], schema)
    schema = {"type": "object", "properties": {p["name"]: p["schema"] for p in params}}
    # A query parameter is named whole: ``status``, not ``status.0``.
    _raise_first_error(_validator(f"query:{method}:{operation_path}", schema), values,
                       whole_names=True)
    return values


def _typed(text: str, schema: dict):
    """Query strings are text; an integer parameter gets an int when the text is one."""
    if schema.get("type") == "integer" and _INTEGER.match(text):
        return int(text)
    return text


def _raise_first_error(validator: jsonschema_rs.Validator, instance, *,
                       whole_names: bool = False) -> None:
    error = next(validator.iter_errors(instance), None)
    if error is not None:
        field, message = describe(error)
        if whole_names:
            field = field.split(".")[0]
        raise InvalidInput(message, field=field or None)


def describe(error: jsonschema_rs.ValidationError) -> tuple[str, str]:
    """(field path, Portuguese message) for a schema violation."""
    kind = error.kind
    path = [str(part) for part in error.instance_path]
    if isinstance(kind, jsonschema_rs.ValidationErrorKind.Required):
        return ".".join([*path, kind.property]), _("Campo obrigatório.")
    if isinstance(kind, jsonschema_rs.ValidationErrorKind.AdditionalProperties):
        return ".".join([*path, kind.unexpected[0]]), _("Campo desconhecido.")
    return ".".join(path), _message(kind)


def _message(kind) -> str:
    kinds = jsonschema_rs.ValidationErrorKind
    if isinstance(kind, kinds.Type):
        types = kind.types if isinstance(kind.types, list) else [kind.types]
        names = ", ".join(str(_TYPE_NAMES.get(str(t), t)) for t in types)
        return _("Tipo errado: esperado %(types)s.", types=names)
    if isinstance(kind, kinds.Enum):
        options = ", ".join(str(o) for o in kind.options)
        return _("Valor não aceito; use um destes: %(options)s.", options=options)
    if isinstance(kind, kinds.MinLength):
        return _("Deve ter pelo menos %(n)d caracteres.", n=kind.limit)
    if isinstance(kind, kinds.MaxLength):
        return _("Pode ter no máximo %(n)d caracteres.", n=kind.limit)
    if isinstance(kind, kinds.Minimum):
        return _("Deve ser no mínimo %(n)s.", n=kind.limit)
    if isinstance(kind, kinds.Maximum):
        return _("Deve ser no máximo %(n)s.", n=kind.limit)
    if isinstance(kind, kinds.MaxItems):
        return _("Valores demais.")
    if isinstance(kind, kinds.Pattern):  # the only pattern of a request: no NUL
        return _("Contém um caractere não permitido (NUL).")
    return _("Valor inválido.")
