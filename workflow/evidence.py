"""A case's automated evidence (DESIGN §4): when checks are due, storing what the worker
found, and reading it back in words for the operator, the auditor and the dossier.

Due are (1) open cases never checked — right after submission, and any case
already open when this arrived — found by a query rather than marked in the
submission, so that every way a case opens is covered; and (2) rounds a staff
member asked for ("Verificar novamente"), rows of ``evidence_run``. The worker
claims one (a transaction), asks DNS with no transaction open
(``workflow.evidence_checks``), then stores the findings (another transaction).
No audit event is written by the worker: the audit head is one lock for the whole
system and a check is not a decision; the staff's request is audited.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError

from models import (
    ERASED_FACTS,
    OPEN_STATUSES,
    AddressSource,
    Case,
    EvidenceCheck,
    EvidenceKind,
    EvidenceOutcome,
    EvidenceRun,
    db,
    iso_utc,
    utcnow,
)

from . import audit
from .audit import Actor, Tag
from .config import setting
from .errors import Conflict, Forbidden
from .evidence_checks import Finding, Round, Subject

MAX_ATTEMPTS = 3  # claims of one round (a worker died each time) before it is given up
KIND_ORDER = (EvidenceKind.PTR, EvidenceKind.FCRDNS, EvidenceKind.SPF, EvidenceKind.MX)

KIND_LABELS = {
    EvidenceKind.PTR: _l("DNS reverso (PTR)"),
    EvidenceKind.FCRDNS: _l("DNS reverso confirmado (FCrDNS)"),
    EvidenceKind.SPF: _l("SPF do domínio"),
    EvidenceKind.MX: _l("MX do domínio (informativo)"),
}
OUTCOME_LABELS = {
    EvidenceOutcome.PASS: _l("aprovada"),
    EvidenceOutcome.FAIL: _l("reprovada"),
    EvidenceOutcome.ERROR: _l("erro"),
    EvidenceOutcome.NOT_APPLICABLE: _l("não se aplica"),
}
SOURCE_LABELS = {
    AddressSource.TARGET: _l("o próprio alvo"),
    AddressSource.MAIL_HOST: _l("o endereço do servidor de e-mail dentro do prefixo"),
    AddressSource.FIRST_USABLE: _l("o primeiro endereço utilizável do prefixo (o servidor de "
                                   "e-mail não aponta para dentro dele)"),
}
# The worded details, by the key the worker stores; the values come from EvidenceCheck.facts.
DETAILS = {
    "ptr.is_host": _l("%(address)s aponta para %(names)s, o servidor de e-mail informado."),
    "ptr.other_name": _l("%(address)s aponta para %(names)s, não para %(host)s."),
    "ptr.nxdomain": _l("%(address)s não tem nome reverso (NXDOMAIN)."),
    "ptr.nodata": _l("%(address)s não tem registro PTR."),
    "fcrdns.confirmed": _l("%(name)s resolve de volta para %(address)s."),
    "fcrdns.not_confirmed": _l("Nenhum nome reverso (%(names)s) resolve para %(address)s; "
                               "eles resolvem para %(seen)s."),
    "fcrdns.no_ptr": _l("Sem nome reverso, não há o que confirmar."),
    "fcrdns.ptr_error": _l("Não verificado: a consulta do PTR falhou."),
    "spf.pass": _l("O SPF de %(domain)s autoriza %(address)s (%(path)s)."),
    "spf.not_authorised": _l("O SPF de %(domain)s não autoriza %(address)s: resultado "
                             "%(result)s em %(path)s."),
    "spf.no_match": _l("O SPF de %(domain)s não menciona %(address)s (resultado neutral)."),
    "spf.none": _l("Nenhum registro SPF em %(domains)s."),
    "spf.multiple": _l("%(domain)s publica mais de um registro SPF (permerror)."),
    "spf.syntax": _l("O SPF de %(domain)s tem um termo inválido: %(term)s (permerror)."),
    "spf.too_many_lookups": _l("O SPF de %(domain)s exige mais de %(limit)s consultas DNS, "
                               "o limite da RFC 7208 (permerror)."),
    "spf.void_lookups": _l("O SPF de %(domain)s faz mais de %(limit)s consultas sem resposta "
                           "(permerror)."),
    "spf.mx_limit": _l("%(domain)s tem mais de %(limit)s MX para o mecanismo mx (permerror)."),
    "spf.include_none": _l("O SPF de %(domain)s inclui %(target)s, que não tem SPF "
                           "(permerror)."),
    "spf.redirect_none": _l("O SPF de %(domain)s redireciona para %(target)s, que não tem SPF "
                            "(permerror)."),
    "mx.is_host": _l("%(domain)s recebe e-mail em %(hosts)s; %(host)s é um deles."),
    "mx.other_hosts": _l("%(domain)s recebe e-mail em %(hosts)s; %(host)s não é um deles."),
    "mx.null": _l("%(domain)s declara que não recebe e-mail (MX nulo)."),
    "mx.none": _l("Nenhum MX em %(domains)s."),
    "dns.timeout": _l("Sem resposta do DNS em %(seconds)s s para %(name)s (%(type)s)."),
    "dns.servfail": _l("O DNS respondeu com falha (SERVFAIL) para %(name)s (%(type)s)."),
    "dns.failure": _l("Falha do DNS para %(name)s (%(type)s): %(error)s."),
    "dns.budget": _l("Tempo total das verificações esgotado antes de consultar %(name)s "
                     "(%(type)s)."),
    "dns.no_resolver": _l("Nenhum resolvedor DNS configurado."),
    "internal": _l("A verificação não pôde ser feita; peça de novo."),
}
ERASED_DETAIL = _l("Detalhes apagados com os dados pessoais do pedido (LGPD); o resultado "
                   "permanece.")


def request_checks(case: Case, *, actor: Actor) -> EvidenceRun:
    """Queue a new round of checks of ``case`` (staff, open cases); one waits at a time."""
    if actor.user is None or not actor.user.is_staff:
        raise Forbidden(_l("Só a equipe pode pedir novas verificações."))
    if not case.is_open:
        raise Conflict(_l("O caso está encerrado: as verificações ficam como estavam."))
    waiting = pending_run(case)
    if waiting is not None:
        return waiting
    run = EvidenceRun(case_id=case.id, requested_by_id=actor.user.id, requested_at=utcnow())
    try:
        with db.session.begin_nested():
            db.session.add(run)
    except IntegrityError:  # someone asked at the same moment: theirs is ours
        return pending_run(case)
    audit.record(Tag.CASE_EVIDENCE_REQUESTED, actor, object_type="case",
                 object_id=case.protocol, uf=case.uf, details={"run_id": run.id})
    return run


def claim_next(now: datetime) -> Subject | None:
    """Take the next due round, under a lease; None when nothing is due."""
    lease = timedelta(seconds=setting("WORKER_LEASE_SECONDS"))
    while True:
        run = _asked_for(now) or _never_checked(now)
        if run is None:
            return None
        run.attempts += 1
        if run.attempts > MAX_ATTEMPTS:  # the process died with it each time: give up
            _finish(run, Round(None, None, "", ()), now, give_up=True)
            continue
        run.claimed_until = now + lease
        case = db.session.get(Case, run.case_id)
        return Subject(run.id, case.id, case.target, case.mail_hostname)


def _asked_for(now: datetime) -> EvidenceRun | None:
    query = (select(EvidenceRun)
             .where(EvidenceRun.finished_at.is_(None),
                    (EvidenceRun.claimed_until.is_(None)) | (EvidenceRun.claimed_until <= now))
             .order_by(EvidenceRun.requested_at, EvidenceRun.id).limit(1))
    if db.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return db.session.scalars(query).first()


def _never_checked(now: datetime) -> EvidenceRun | None:
    """An open case without any round yet gets its first one (its row is made here)."""
    case_id = db.session.scalars(
        select(Case.id).where(Case.status.in_(OPEN_STATUSES),
                              ~exists().where(EvidenceRun.case_id == Case.id))
        .order_by(Case.id).limit(1)).first()
    if case_id is None:
        return None
    run = EvidenceRun(case_id=case_id, requested_at=now, attempts=0)
    try:
        with db.session.begin_nested():
            db.session.add(run)
    except IntegrityError:  # another worker made it first and holds it
        return None
    return run


def store(subject: Subject, found: Round, now: datetime) -> bool:
    """Write the findings of a claimed round; False when another worker finished it first."""
    query = select(EvidenceRun).where(EvidenceRun.id == subject.run_id)
    run = db.session.scalars(query.with_for_update()).first()
    if run is None or run.finished_at is not None:
        return False
    _finish(run, found, now)
    return True


def _finish(run: EvidenceRun, found: Round, now: datetime, *, give_up: bool = False) -> None:
    findings = found.findings or tuple(
        Finding(kind, EvidenceOutcome.ERROR, "internal", {}) for kind in KIND_ORDER)
    for finding in findings:
        db.session.add(EvidenceCheck(
            run_id=run.id, case_id=run.case_id, kind=finding.kind, outcome=finding.outcome,
            detail=finding.detail, facts=json.dumps(finding.facts, ensure_ascii=False,
                                                    sort_keys=True, default=str),
            checked_at=now))
    run.finished_at, run.claimed_until = now, None
    run.resolver = found.resolver[:200] or None
    run.address, run.address_source = found.address, found.address_source
    if give_up:
        run.resolver = None


def pending_run(case: Case) -> EvidenceRun | None:
    """The round of ``case`` waiting for the worker, if any."""
    return db.session.scalars(select(EvidenceRun).where(
        EvidenceRun.case_id == case.id, EvidenceRun.finished_at.is_(None))).first()


def latest_run(case: Case) -> EvidenceRun | None:
    """The last finished round of ``case``."""
    return db.session.scalars(
        select(EvidenceRun).where(EvidenceRun.case_id == case.id,
                                  EvidenceRun.finished_at.is_not(None))
        .order_by(EvidenceRun.finished_at.desc(), EvidenceRun.id.desc()).limit(1)).first()


def checks_for(case: Case) -> list[EvidenceCheck]:
    """The checks of the latest finished round, PTR, FCrDNS, SPF, MX in that order."""
    run = latest_run(case)
    if run is None:
        return []
    return sorted(run.checks, key=lambda c: KIND_ORDER.index(c.kind))


class _Facts(dict):
    def __missing__(self, key: str) -> str:
        return "—"


def describe(check: EvidenceCheck) -> str:
    """The check's detail in the reader's language."""
    wording = DETAILS.get(check.detail)
    if wording is None:
        return check.detail
    if is_erased(check):
        return str(ERASED_DETAIL)
    return str(wording) % _Facts(json.loads(check.facts))


def is_erased(check: EvidenceCheck) -> bool:
    """Whether retention erased the values the check's detail names (its case was
    anonymised); a detail that names none, such as an internal error, reads as it was."""
    wording = DETAILS.get(check.detail)
    return check.facts == ERASED_FACTS and wording is not None and "%(" in str(wording)


@dataclass(frozen=True)
class Shown:
    """One check as a page or a document shows it."""

    kind: str
    label: str
    outcome: str
    outcome_label: str
    detail: str
    checked_at: datetime
    erased: bool  # the detail's values went with the case's personal data (LGPD)


@dataclass(frozen=True)
class Summary:
    run: EvidenceRun | None
    rows: list[Shown]
    pending: EvidenceRun | None
    address_note: str | None


def summary(case: Case) -> Summary:
    """What the desk shows: the latest round in words, and whether another is waiting."""
    run = latest_run(case)
    rows = [shown(check) for check in checks_for(case)]
    note = None
    if run is not None and run.address:
        note = _("Endereço verificado: %(address)s, %(source)s.", address=run.address,
                 source=SOURCE_LABELS[run.address_source])
    return Summary(run, rows, pending_run(case), note)


def shown(check: EvidenceCheck) -> Shown:
    """A check in words."""
    return Shown(check.kind.value, str(KIND_LABELS[check.kind]), check.outcome.value,
                 str(OUTCOME_LABELS[check.outcome]), describe(check), check.checked_at,
                 is_erased(check))


def as_data(case: Case) -> list[dict]:
    """The latest round as plain data (a dossier's embedded JSON)."""
    run = latest_run(case)
    return [{"kind": c.kind.value, "outcome": c.outcome.value, "detail": describe(c),
             "facts": json.loads(c.facts), "facts_erased": is_erased(c),
             "checked_at": iso_utc(c.checked_at),
             "address": run.address, "resolver": run.resolver}
            for c in checks_for(case)]
