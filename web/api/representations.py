"""What the API says about a case: its facts and links, never its messages or notes."""

from __future__ import annotations

from flask import url_for

from models import Case, Record, iso_utc
from workflow.audit import Actor
from workflow.availability import available_actions
from workflow.records import codes
from workflow.records.issue import verify_url


def _sending_profile(case: Case) -> dict | None:
    if case.messages_per_day is None and case.sending_kind is None:
        return None
    kind = case.sending_kind.value if case.sending_kind else None
    return {"messages_per_day": case.messages_per_day, "kind": kind}


def case_json(case: Case, actor: Actor) -> dict:
    """The case as components.schemas.Case; ``links.actions`` lists what ``actor`` may do now."""
    actions = {
        action.value: url_for("api.perform_action", protocol=case.protocol, action=action.value)
        for action in available_actions(case, actor)
    }
    return {
        "protocol": case.protocol,
        "status": case.status.value,
        "target": case.target,
        "category": case.category.value,
        "subscriber_id": case.subscriber_id,
        "uf": case.uf,
        "justification": case.justification,
        "mail_hostname": case.mail_hostname,
        "sending_profile": _sending_profile(case),
        "terms_version": case.terms_version,
        "submitted_at": iso_utc(case.submitted_at),
        "answer_due_at": iso_utc(case.answer_due_at),
        "execution_due_at": iso_utc(case.execution_due_at),
        "sla_due_at": iso_utc(case.sla_due_at),
        "valid_from": iso_utc(case.valid_from),
        "valid_until": iso_utc(case.valid_until),
        "reason_code": case.reason_code,
        "version": case.version,
        "assignee": case.assignee_id,
        "links": {"self": url_for("api.get_case", protocol=case.protocol), "actions": actions},
    }


def _code(code: str | None) -> str | None:
    return codes.display(code) if code else None


def record_json(record: Record, supersedes: str | None, superseded_by: str | None) -> dict:
    """The record as components.schemas.Record: what it is and where to get and check it."""
    code = codes.display(record.code)
    return {
        "code": code,
        "kind": record.kind.value,
        "issued_at": iso_utc(record.issued_at),
        "sha256": record.sha256,
        "size": record.size,
        "language": record.language.replace("_", "-"),
        "signer": record.signer,
        "supersedes": _code(supersedes),
        "superseded_by": _code(superseded_by),
        "verify_url": verify_url(code),
        "url": url_for("api.get_record", code=code),
    }
