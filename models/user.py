"""People who use porta25 and the API tokens they own."""

from __future__ import annotations

import enum
import hashlib
import hmac
from datetime import datetime

from flask import current_app
from flask_login import UserMixin
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import db, str_enum, utcnow


class Role(enum.StrEnum):
    CUSTOMER = "customer"
    OPERATOR = "operator"
    SUPERVISOR = "supervisor"
    AUDITOR = "auditor"
    PROVIDER = "provider"


STAFF_ROLES = frozenset({Role.OPERATOR, Role.SUPERVISOR})


class TokenScope(enum.StrEnum):
    FULL = "full"  # everything the owner's role may do
    ENFORCEMENT = "enforcement"  # only read the allow-list and the change feed


class User(UserMixin, db.Model):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(str_enum(Role))
    uf: Mapped[str | None] = mapped_column(
        String(2), comment="customer: their state; auditor: scope (NULL = national)"
    )
    cpf_cnpj: Mapped[str | None] = mapped_column(String(14), comment="digits only")
    phone: Mapped[str | None] = mapped_column(String(20))
    subscriber_id: Mapped[str | None] = mapped_column(String(64))
    locale: Mapped[str | None] = mapped_column(String(8))
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Second factor (staff and auditors): the TOTP secret (base32), set at enrolment and
    # confirmed by a first valid code; the last accepted time step refuses a replay.
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_confirmed_at: Mapped[datetime | None]
    totp_last_step: Mapped[int | None]
    anonymised_at: Mapped[datetime | None] = mapped_column(
        comment="personal data erased under the retention rules (LGPD)")

    tokens: Mapped[list[ApiToken]] = relationship(back_populates="user")

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    def get_id(self) -> str:
        """What Flask-Login keeps in the session: the id and ``session_fingerprint``."""
        return f"{self.id}:{self.session_fingerprint()}"

    def session_fingerprint(self) -> str:
        """An HMAC of what a session rests on (Django's session auth hash): a new
        password, a reset second factor, a new role or scope changes it, and every
        session opened before ends at its next request."""
        rests_on = "\x1f".join((self.password_hash, self.totp_secret or "", self.role.value,
                                self.uf or "")).encode()
        key = hashlib.sha256(b"porta25-session/v1" + current_app.secret_key.encode()).digest()
        return hmac.new(key, rests_on, hashlib.sha256).hexdigest()[:32]

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role}>"


class RecoveryCode(db.Model):
    """A one-time code that stands in for the TOTP; only its SHA-256 is stored."""

    __tablename__ = "recovery_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    used_at: Mapped[datetime | None]


class ApiToken(db.Model):
    """A bearer token; only its SHA-256 is stored, the token is shown once."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12), comment="first characters, to recognise it")
    scope: Mapped[TokenScope] = mapped_column(str_enum(TokenScope),
                                              server_default=TokenScope.FULL.value)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(back_populates="tokens")
