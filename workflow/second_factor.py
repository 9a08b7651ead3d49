"""The second factor of staff and auditors: TOTP (RFC 6238) and one-time recovery codes.

A secret is drawn at the first sign-in and kept unconfirmed until the person types a
first valid code from their authenticator app; only then does it count, and ten
recovery codes are issued (only their SHA-256 is stored). A code is accepted for the
current 30-second step or one step either side (a phone clock a little off), and only
for a step later than the last one accepted, so a code seen over a shoulder cannot be
replayed. Customers and providers sign in with their password alone.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time

import pyotp
import pyotp.utils
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, or_, select, update

from models import RecoveryCode, Role, User, db, utcnow

from . import audit
from .audit import Actor, Tag
from .config import setting
from .errors import Conflict, Forbidden, NotFound

SECOND_FACTOR_ROLES = frozenset({Role.OPERATOR, Role.SUPERVISOR, Role.AUDITOR})
RECOVERY_CODE_COUNT = 10
# Lower-case letters and digits that cannot be misread for each other (no 0/o, 1/l/i).
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
WINDOW = 1  # steps accepted either side of now


def required_for(user: User) -> bool:
    """Whether ``user`` must give a second factor after their password."""
    return user.role in SECOND_FACTOR_ROLES


def is_enrolled(user: User) -> bool:
    """Whether ``user`` has a confirmed TOTP secret."""
    return user.totp_secret is not None and user.totp_confirmed_at is not None


def enrolment_secret(user: User) -> str:
    """The secret being enrolled, drawn once and kept until confirmed (a reload shows it again)."""
    if is_enrolled(user):
        raise Conflict(_l("A verificação em duas etapas já está ativa nesta conta."))
    if user.totp_secret is None:
        user.totp_secret = pyotp.random_base32()
    return user.totp_secret


def provisioning_uri(user: User) -> str:
    """The otpauth:// URI an authenticator app reads from the QR code."""
    return pyotp.TOTP(user.totp_secret).provisioning_uri(
        name=user.email, issuer_name=setting("ISP_NAME"))


def confirm_enrolment(user: User, *, code: str, actor: Actor) -> list[str] | None:
    """Confirm the secret with a first valid code: the new recovery codes (shown once),
    or None when the code is wrong (audited; the caller commits either way)."""
    if is_enrolled(user) or user.totp_secret is None:
        raise Conflict(_l("Não há cadastro de verificação em duas etapas em andamento."))
    if not _accept_totp(user, code):
        _record_failure(user, actor, stage="enrolment")
        return None
    user.totp_confirmed_at = utcnow()
    codes = _new_recovery_codes(user)
    audit.record(Tag.USER_TOTP_ENROLLED, actor, object_type="user", object_id=str(user.id))
    audit.record(Tag.USER_LOGGED_IN, actor, object_type="user", object_id=str(user.id),
                 details={"factor": "totp"})
    return codes


def verify(user: User, *, code: str, actor: Actor) -> str | None:
    """Check a sign-in's second factor: "totp" or "recovery_code" when accepted (the
    sign-in is audited), None when refused (audited too); the caller commits either way."""
    if not is_enrolled(user):
        raise Conflict(_l("A verificação em duas etapas ainda não foi cadastrada."))
    entered = _normalise(code)
    if re.fullmatch(r"\d{6}", entered):
        factor = "totp" if _accept_totp(user, entered) else None
    else:
        factor = "recovery_code" if _use_recovery_code(user, entered, actor) else None
    if factor is None:
        _record_failure(user, actor, stage="sign_in")
        return None
    audit.record(Tag.USER_LOGGED_IN, actor, object_type="user", object_id=str(user.id),
                 details={"factor": factor})
    return factor


def reset(user: User, *, actor: Actor) -> None:
    """Forget a staff or auditor account's second factor, so that they enrol again at
    their next sign-in; a supervisor (or the CLI), never for their own account."""
    if not required_for(user):
        raise NotFound(_l("Conta não encontrada."))
    if actor.user is not None and actor.user.role is not Role.SUPERVISOR:
        raise Forbidden(_l("Só um supervisor redefine a verificação em duas etapas."))
    if actor.user is not None and actor.user.id == user.id:
        raise Forbidden(_l("Você não pode redefinir a sua própria verificação em duas etapas: "
                           "peça a outro supervisor."))
    was_enrolled = is_enrolled(user)
    user.totp_secret = user.totp_confirmed_at = user.totp_last_step = None
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    audit.record(Tag.USER_TOTP_RESET, actor, object_type="user", object_id=str(user.id),
                 details={"role": user.role.value, "was_enrolled": was_enrolled})


def accounts_with_second_factor() -> list[User]:
    """Every staff and auditor account, by role then name."""
    return list(db.session.scalars(
        select(User).where(User.role.in_(SECOND_FACTOR_ROLES)).order_by(User.role, User.name)))


def unused_recovery_codes(user: User) -> int:
    """How many of ``user``'s recovery codes are still unused."""
    return len(db.session.scalars(select(RecoveryCode.id).where(
        RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))).all())


def _normalise(code: str) -> str:
    """What the person typed, without spaces and hyphens (codes are shown grouped)."""
    return re.sub(r"[\s-]", "", code or "").lower()[:64]


def _accept_totp(user: User, code: str) -> bool:
    """Whether ``code`` is valid now (±WINDOW steps) for a step never accepted before.

    The step is claimed with a conditional UPDATE, so two requests racing with one
    code cannot both pass: the second finds the step taken once the first commits.
    """
    totp = pyotp.TOTP(user.totp_secret)
    now = int(time.time()) // totp.interval
    code = _normalise(code)
    matched = [step for step in range(now - WINDOW, now + WINDOW + 1)
               if pyotp.utils.strings_equal(totp.generate_otp(step), code)]
    if not matched:
        return False
    step = matched[-1]
    claimed = db.session.execute(
        update(User).where(User.id == user.id, or_(User.totp_last_step.is_(None),
                                                    User.totp_last_step < step))
        .values(totp_last_step=step).execution_options(synchronize_session=False))
    db.session.expire(user, ["totp_last_step"])
    return claimed.rowcount == 1


def _use_recovery_code(user: User, code: str, actor: Actor) -> bool:
    """Spend one unused recovery code (a conditional UPDATE: each works once)."""
    used = db.session.execute(
        update(RecoveryCode).where(RecoveryCode.user_id == user.id,
                                   RecoveryCode.code_hash == _hash(code),
                                   RecoveryCode.used_at.is_(None))
        .values(used_at=utcnow()).execution_options(synchronize_session=False))
    if used.rowcount != 1:
        return False
    audit.record(Tag.USER_RECOVERY_CODE_USED, actor, object_type="user",
                 object_id=str(user.id), details={"remaining": unused_recovery_codes(user)})
    return True


def _new_recovery_codes(user: User) -> list[str]:
    """Replace ``user``'s recovery codes with ten fresh ones, returned grouped for reading."""
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(10))
        db.session.add(RecoveryCode(user_id=user.id, code_hash=_hash(raw)))
        codes.append(f"{raw[:5]}-{raw[5:]}")
    db.session.flush()
    return codes


def _hash(code: str) -> str:
    return hashlib.sha256(_normalise(code).encode()).hexdigest()


def _record_failure(user: User, actor: Actor, *, stage: str) -> None:
    # Like a wrong password, a wrong code is nobody's act yet: the account is the object.
    audit.record(Tag.USER_TOTP_FAILED, Actor(None, source_ip=actor.source_ip),
                 object_type="user", object_id=str(user.id), details={"stage": stage})
