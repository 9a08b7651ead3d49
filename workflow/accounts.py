"""Accounts: registration, password checks (argon2), staff creation and API tokens."""

from __future__ import annotations

import hashlib
import re
import secrets
from functools import lru_cache

import argon2.profiles
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from stdnum.br import cnpj, cpf

from models import ApiToken, Role, TokenScope, User, db, utcnow

from . import audit, second_factor
from .audit import Actor, Tag
from .config import setting
from .deadlines import UFS
from .errors import Conflict, InvalidInput
from .text import clean_text


@lru_cache(maxsize=4)
def _hasher_for(profile: str) -> tuple[PasswordHasher, str]:
    """The argon2id hasher of an argon2-cffi profile, and a dummy hash made with it
    (verified against when the e-mail is unknown, so both paths cost the same)."""
    hasher = PasswordHasher.from_parameters(getattr(argon2.profiles, profile))
    return hasher, hasher.hash(secrets.token_hex(16))


def _hasher() -> PasswordHasher:
    return _hasher_for(setting("PASSWORD_HASH_PROFILE"))[0]
PASSWORD_MIN = 10
TOKEN_PREFIX = "p25_"


def hash_password(password: str) -> str:
    """An argon2id hash of ``password``."""
    return _hasher().hash(password)


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def user_by_email(email: str) -> User | None:
    """The account with this e-mail (compared case-insensitively), if any."""
    return db.session.scalars(select(User).where(User.email == normalise_email(email))).first()


def check_password_rules(password: str) -> None:
    if len(password or "") < PASSWORD_MIN:
        raise InvalidInput(_l("A senha deve ter pelo menos %(n)d caracteres.", n=PASSWORD_MIN),
                           field="password")


def check_document(document: str) -> str:
    """Digits of a valid CPF or CNPJ, or InvalidInput naming the problem."""
    digits = re.sub(r"[.\-/\s]", "", document or "").upper()
    if len(digits) == 11 and cpf.is_valid(digits):
        return digits
    if len(digits) == 14 and cnpj.is_valid(digits):
        return digits
    raise InvalidInput(_l("CPF ou CNPJ inválido: confira os dígitos verificadores."),
                       field="cpf_cnpj")


def check_uf(uf: str | None, *, required: bool) -> str | None:
    uf = (uf or "").strip().upper() or None
    if uf is None and not required:
        return None
    if uf not in UFS:
        raise InvalidInput(_l("Escolha um estado (UF) válido."), field="uf")
    return uf


def create_user(*, email: str, password: str, role: Role, name: str, actor: Actor,
                uf: str | None = None, cpf_cnpj: str | None = None, phone: str | None = None,
                subscriber_id: str | None = None) -> User:
    """Create an account of any role; a customer must give a valid CPF/CNPJ and UF."""
    email = normalise_email(email)
    if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
        raise InvalidInput(_l("Informe um e-mail válido."), field="email")
    check_password_rules(password)
    name = clean_text(name, field="name")
    if not name:
        raise InvalidInput(_l("Informe o nome."), field="name")
    if role is Role.CUSTOMER:
        cpf_cnpj = check_document(cpf_cnpj or "")
    uf = check_uf(uf, required=role is Role.CUSTOMER)
    if db.session.scalar(select(func.count()).where(User.email == email)):
        raise Conflict(_l("Já existe uma conta com este e-mail."), field="email")
    user = User(email=email, password_hash=hash_password(password), role=role, name=name[:200],
                uf=uf, cpf_cnpj=cpf_cnpj, phone=clean_text(phone, field="phone") or None,
                subscriber_id=(subscriber_id or "").strip() or None)
    db.session.add(user)
    db.session.flush()
    # Registered: the person signed themselves up (anonymous); created: by staff or the CLI.
    anonymous = actor.user is None and actor.system_name is None
    tag = Tag.USER_REGISTERED if anonymous and role is Role.CUSTOMER else Tag.USER_CREATED
    audit.record(tag, actor, object_type="user", object_id=str(user.id), uf=uf,
                 details={"role": role.value})
    return user


LANGUAGES = ("pt_BR", "en")  # what e-mails and records can be written in
_PERSONAL = frozenset({"name"})  # their values stay out of the audit trail


def update_user(user: User, *, actor: Actor, role: Role | None = None, uf: str | None = None,
                name: str | None = None, active: bool | None = None,
                locale: str | None = None) -> dict:
    """Change what is given (None: keep; ``uf=""``: none, a national auditor); audited as
    ``user:changed`` with the diff (a name only as changed). Returns the diff, {} if none."""
    if user.anonymised_at is not None:
        raise Conflict(_l("Esta conta foi anonimizada e não pode ser alterada."))
    if role is not None and role is not user.role and Role.CUSTOMER in (role, user.role):
        raise InvalidInput(_l("Uma conta de cliente não muda de papel, nem outra vira de "
                              "cliente: crie uma conta nova."), field="role")
    if locale is not None and locale not in LANGUAGES:
        raise InvalidInput(_l("Escolha português ou inglês."), field="locale")
    before = _account_values(user)
    role = role or user.role
    if name is not None:
        name = clean_text(name, field="name")
        if not name:
            raise InvalidInput(_l("Informe o nome."), field="name")
        user.name = name[:200]
    if uf is not None or role is not user.role:
        user.uf = check_uf(user.uf if uf is None else uf, required=role is Role.CUSTOMER)
    user.role = role
    user.is_active = user.is_active if active is None else active
    user.locale = user.locale if locale is None else locale
    changes = audit.diff(before, _account_values(user), withheld=_PERSONAL)
    if changes:
        db.session.flush()
        audit.record(Tag.USER_CHANGED, actor, object_type="user", object_id=str(user.id),
                     uf=user.uf, details={"changes": changes})
    return changes


def _account_values(user: User) -> dict:
    return {"role": user.role.value, "uf": user.uf, "name": user.name,
            "active": user.is_active, "locale": user.locale}


def authenticate(email: str, password: str, *, source_ip: str | None) -> User | None:
    """The active user with these credentials, or None. A failure is audited; so is a
    success when the password is the only factor (staff and auditors: at the second)."""
    user = user_by_email(email)
    try:
        hasher, dummy = _hasher_for(setting("PASSWORD_HASH_PROFILE"))
        hasher.verify(user.password_hash if user else dummy, password or "")
        ok = user is not None and user.is_active
    except (VerificationError, InvalidHashError):
        ok = False
    if ok and _hasher().check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    if not ok:
        audit.record(Tag.USER_LOGIN_FAILED, Actor(None, source_ip=source_ip),
                     object_type="user", object_id=str(user.id) if user else None)
        return None
    if not second_factor.required_for(user):
        audit.record(Tag.USER_LOGGED_IN, Actor(user, source_ip=source_ip), object_type="user",
                     object_id=str(user.id), details={"factor": "password"})
    return user


def create_token(user: User, name: str, *, actor: Actor,
                 scope: TokenScope = TokenScope.FULL) -> str:
    """Issue a bearer token for ``user``; the token itself is returned once, never stored.

    An ``enforcement`` token only reads the allow-list and the change feed, so an
    enforcement host never holds a credential that can decide cases.
    """
    if scope is TokenScope.ENFORCEMENT and not user.is_staff:
        raise InvalidInput(_l("Tokens de aplicação na rede pertencem a um analista ou "
                              "supervisor."), field="scope")
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    db.session.add(ApiToken(user=user, name=(name or "token")[:100], prefix=raw[:12],
                            token_hash=_token_hash(raw), scope=scope))
    db.session.flush()
    audit.record(Tag.TOKEN_CREATED, actor, object_type="user", object_id=str(user.id),
                 details={"prefix": raw[:12], "scope": scope.value})
    return raw


def tokens_matching(*, token_id: int | None = None, prefix: str | None = None) -> list[ApiToken]:
    """Tokens with this id, or whose shown prefix starts with ``prefix`` (newest first)."""
    query = select(ApiToken).order_by(ApiToken.id.desc())
    if token_id is not None:
        query = query.where(ApiToken.id == token_id)
    if prefix:
        query = query.where(ApiToken.prefix.startswith(prefix.strip(), autoescape=True))
    return list(db.session.scalars(query))


def revoke_token(token: ApiToken, *, actor: Actor) -> None:
    """End a token at once: the API refuses it from the next request."""
    if token.revoked_at is not None:
        raise Conflict(_l("Este token já foi revogado."))
    token.revoked_at = utcnow()
    db.session.flush()
    audit.record(Tag.TOKEN_REVOKED, actor, object_type="user", object_id=str(token.user_id),
                 details={"token_id": token.id, "prefix": token.prefix,
                          "scope": token.scope.value})


def token_for(raw: str) -> ApiToken | None:
    """The valid, unrevoked token ``raw`` of an active user; stamps its last use."""
    token = db.session.scalars(
        select(ApiToken).where(ApiToken.token_hash == _token_hash(raw or ""),
                               ApiToken.revoked_at.is_(None))
    ).first()
    if token is None or not token.user.is_active:
        return None
    token.last_used_at = utcnow()
    return token


def user_for_token(raw: str) -> User | None:
    """The active owner of a valid, unrevoked token."""
    token = token_for(raw)
    return token.user if token else None


def _token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()
