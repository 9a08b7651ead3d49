"""What the desk's pages show: decision forms prepared for a case, labels, masked facts.

Reads only; every change goes through ``workflow.cases`` in the views.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from models import Case, CaseStatus, Category, ReasonCode, RecordKind, User, db, utcnow
from workflow import labels, privacy
from workflow.cases import needs_second_approval
from workflow.config import setting
from workflow.records import access as record_access
from workflow.records.on_demand import REISSUABLE
from workflow.states import Action
from workflow.timeline import Entry, timeline

from .forms import (
    ActionForm,
    ApproveForm,
    ClaimForm,
    ReasonForm,
    RejectForm,
    RequestInfoForm,
    RevokeForm,
)

ACTION_FORMS: dict[str, type[ActionForm]] = {
    Action.CLAIM.value: ClaimForm,
    Action.REQUEST_INFO.value: RequestInfoForm,
    Action.APPROVE.value: ApproveForm,
    Action.REJECT.value: RejectForm,
    Action.REVOKE.value: RevokeForm,
}



def now() -> datetime:
    """The current time (aware UTC), for highlighting missed deadlines."""
    return utcnow()


def action_form(action: Action, case: Case, formdata=None) -> ActionForm:
    """The form of ``action`` for ``case``: bound to ``formdata`` or pre-filled for display."""
    form_class = ACTION_FORMS[action.value]
    data = {"version": case.version}
    if action is Action.APPROVE:
        data["valid_days"] = case.valid_days or setting("DEFAULT_VALIDITY_DAYS")
    form = form_class(formdata=formdata, prefix=action.value, data=data)
    if isinstance(form, ApproveForm):
        form.limit_validity(setting("MAX_VALIDITY_DAYS"))
    if isinstance(form, ReasonForm):
        form.reason_code.choices = [SelectChoice("", _l("— escolha o motivo —")),
                                   *reason_choices(action)]
    return form


def action_arguments(form: ActionForm) -> dict:
    """Keyword arguments for ``workflow.cases.perform`` from a validated form."""
    arguments = {}
    for name in ("message", "reason_code", "valid_days"):
        if name in form:
            arguments[name] = form[name].data if form[name].data not in ("", None) else None
    return arguments


def reason_choices(action: Action) -> list[SelectChoice]:
    """Active reason codes of ``action``, labelled in the current language."""
    reasons = db.session.scalars(
        select(ReasonCode).where(ReasonCode.action == action.value, ReasonCode.active)
        .order_by(ReasonCode.code)
    )
    return [SelectChoice(r.code, labels.reason_text(r)) for r in reasons]


def first_approver(case: Case) -> User | None:
    """Who gave the first of two approvals, while the second is pending."""
    if case.first_approver_id is None or case.status is not CaseStatus.PENDING_SECOND_APPROVAL:
        return None
    return db.session.get(User, case.first_approver_id)


def four_eyes(case: Case) -> dict:
    """When an approval of this case needs a second approver, for the approve form."""
    default, maximum = setting("DEFAULT_VALIDITY_DAYS"), setting("MAX_VALIDITY_DAYS")
    always = needs_second_approval(case, default)
    above = not always and default < maximum and needs_second_approval(case, default + 1)
    return {"always": always, "above_default": above, "default": default}


def category_label(category: Category) -> str:
    return labels.SHORT_CATEGORY_LABELS.get(category, category.value)


@dataclass(frozen=True)
class CustomerFacts:
    name: str
    email: str
    phone: str
    document: str
    uf: str
    subscriber_id: str
    terms_accepted_from: str | None


def customer_facts(case: Case, *, masked: bool) -> CustomerFacts:
    """Who filed the case, with the contract and the address they accepted the terms
    from; masked for auditors until a reveal (DESIGN §9)."""
    customer, accepted_from = case.customer, case.terms_accepted_from
    if masked:
        return CustomerFacts(privacy.mask_name(customer.name), privacy.mask_email(customer.email),
                             privacy.mask_phone(customer.phone),
                             privacy.mask_document(customer.cpf_cnpj), customer.uf or "—",
                             privacy.mask_reference(case.subscriber_id),
                             accepted_from and privacy.mask_address(accepted_from))
    return CustomerFacts(customer.name, customer.email, customer.phone or "—",
                         _formatted_document(customer.cpf_cnpj), customer.uf or "—",
                         case.subscriber_id, accepted_from)


def _formatted_document(digits: str | None) -> str:
    if not digits:
        return "—"
    if len(digits) == 11:
        return f"{digits[:3]}.{digits[3:6]}.{digits[6:9]}-{digits[9:]}"
    if len(digits) == 14:
        return f"{digits[:2]}.{digits[2:5]}.{digits[5:8]}/{digits[8:12]}-{digits[12:]}"
    return digits


@dataclass(frozen=True)
class TimelineRow:
    entry: Entry
    label: str
    author: str


def case_timeline(case: Case, *, staff: bool) -> list[TimelineRow]:
    """The timeline with labels: staff see internal notes; auditors the public story only."""
    return [
        TimelineRow(entry, labels.STAFF_EVENT_LABELS.get(entry.action, entry.action),
                    labels.STAFF_AUTHOR_LABELS.get(entry.author, entry.author))
        for entry in timeline(case, for_staff=staff)
    ]


def documents_of(case: Case, user: User) -> dict:
    """The case page's documents: issued, being prepared, and what staff may re-issue."""
    records = record_access.records_of_case(user, case.id)
    waiting = record_access.waiting(case_id=case.id,
                                    kinds=frozenset(RecordKind) - {RecordKind.HISTORY})
    seen, reissuable = set(), []
    for record in records:  # newest first: the first of a series is the one to re-issue
        if record.kind in REISSUABLE and record.series not in seen:
            seen.add(record.series)
            reissuable.append(record)
    # The page reloads itself only for what this person asked for: a notice the worker
    # has not issued yet must not reload a page where someone is typing a decision.
    return {"records": records, "waiting": waiting,
            "asked": [w for w in waiting if w.requested_by_id == user.id],
            "reissuable": reissuable if user.is_staff else []}
