"""Public, for regulators and anyone holding a record: the key that signs the audit
trail's checkpoints, and the checkpoints themselves, as plain text (DESIGN §9).

GET /audit/public-key             the C2SP verifier key(s), the current one first
GET /audit/checkpoints/latest     the newest signed note, verbatim
GET /audit/checkpoints/<seq>      the signed note of the checkpoint at event <seq>
"""

from __future__ import annotations

from flask import Blueprint, Response
from flask_babel import gettext as _

from workflow import checkpoints

bp = Blueprint("transparency", __name__, url_prefix="/audit")


def _text(body: str, status: int = 200, cache: str = "no-cache") -> Response:
    return Response(body, status=status, mimetype="text/plain",
                    headers={"Cache-Control": cache, "Access-Control-Allow-Origin": "*"})


@bp.get("/public-key")
def public_key():
    """One C2SP verifier key a line, after a comment naming the key (``#`` lines)."""
    keys = checkpoints.public_keys()
    if not keys:
        return _text(_("As assinaturas da trilha de auditoria estão desativadas.") + "\n", 404)
    name = keys[0].split("+", 1)[0]
    lines = ["# " + _("Chave pública (Ed25519, C2SP signed-note) dos checkpoints da trilha de "
                      "auditoria: %(name)s", name=name), keys[0]]
    for older in keys[1:]:
        lines += ["# " + _("Chave anterior, para checkpoints assinados antes da troca:"), older]
    return _text("\n".join(lines) + "\n")


@bp.get("/checkpoints/latest")
def latest():
    """The newest checkpoint's signed note."""
    return _note(checkpoints.latest(), "no-cache")


@bp.get("/checkpoints/<int:seq>")
def at(seq: int):
    """The checkpoint of event ``seq``: never changes once signed."""
    return _note(checkpoints.at(seq), "public, max-age=86400, immutable")


def _note(checkpoint, cache: str) -> Response:
    if checkpoint is None:
        return _text(_("Nenhum checkpoint assinado aqui.") + "\n", 404)
    return _text(checkpoint.note, cache=cache)
