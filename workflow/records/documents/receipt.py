"""The protocol receipt (comprovante de protocolo), issued at submission."""

from __future__ import annotations

from flask_babel import gettext as _

from models import Case, db

from ... import labels, privacy
from .base import Document, Pending
from .common import case_event, case_link, contacts


def build(pending: Pending) -> Document:
    """What was asked, when, under which terms, the deadlines, and whom to ask."""
    case = db.session.get(Case, pending.case_id)
    customer = case.customer
    return Document(
        template="records/receipt.html",
        title=_("Comprovante de protocolo %(protocol)s", protocol=case.protocol),
        description=_("Pedido de exceção ao bloqueio da porta 25"),
        protocol=case.protocol, keywords=(case.protocol, case.target),
        anchor=case_event(case, "case:submitted"),
        context={
            "case": case, "customer_name": customer.name,
            "customer_document": privacy.mask_document(customer.cpf_cnpj),
            "category": labels.CATEGORY_LABELS[case.category],
            "sending_kind": labels.SENDING_KIND_LABELS.get(case.sending_kind),
            "case_url": case_link(case), "contacts": contacts(),
        },
    )
