"""Every setting of porta25, read from an environment variable of the same name.

Defaults make `make run` work on a fresh clone (SQLite file, documentation
prefixes); production overrides them through the environment.
"""

from __future__ import annotations

import base64
import ipaddress
import os
import re
import secrets
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


_NFT_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")
_NFT_FAMILIES = ("inet", "ip", "ip6", "bridge", "netdev")


def _nft_name(value: str) -> str:
    """A plain nftables identifier: it is written into scripts that run as root."""
    if not _NFT_NAME.fullmatch(value.strip()):
        raise ValueError(f"not an nftables name: {value!r}")
    return value.strip()


def _nft_table(value: str) -> str:
    """``FAMILY NAME`` of an nftables table, e.g. ``inet porta25``."""
    words = value.split()
    if len(words) != 2 or words[0] not in _NFT_FAMILIES:
        raise ValueError(f"not an nftables table (family name): {value!r}")
    return f"{words[0]} {_nft_name(words[1])}"


def _prefixes(value: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(p.strip()) for p in value.split(",") if p.strip())


def _resolvers(value: str) -> tuple[tuple[str, int], ...]:
    """``IP``, ``IP:port`` or ``[IPv6]:port``, comma-separated; empty: /etc/resolv.conf."""
    servers = []
    for item in (part.strip() for part in value.split(",")):
        if not item:
            continue
        host, port = item, 53
        if item.startswith("["):
            host, _, rest = item[1:].partition("]")
            port = int(rest[1:]) if rest.startswith(":") else 53
        elif item.count(":") == 1:
            host, port_text = item.split(":")
            port = int(port_text)
        servers.append((str(ipaddress.ip_address(host)), port))
        if not 0 < port < 65536:
            raise ValueError(f"not a port: {port}")
    return tuple(servers)


def _ed25519_seed(value: str) -> str:
    """Base64 of a 32-byte Ed25519 seed, or empty; the error never repeats the secret."""
    value = value.strip()
    if value:
        try:
            seed = base64.b64decode(value, validate=True)
        except ValueError:
            seed = b""
        if len(seed) != 32:
            raise ValueError("AUDIT_SIGNING_KEY is not base64 of a 32-byte Ed25519 seed")
    return value


_KEY_NAME = re.compile(r"[^\s+]+")  # a C2SP signed-note key name
_VERIFIER_KEY = re.compile(r"[^\s+]+\+[0-9a-f]{8}\+[A-Za-z0-9+/]{43}=?")


def _key_name(value: str) -> str:
    if not _KEY_NAME.fullmatch(value.strip()):
        raise ValueError(f"not a C2SP key name (no spaces, no '+'): {value!r}")
    return value.strip()


def _verifier_keys(value: str) -> tuple[str, ...]:
    """C2SP verifier key strings (``name+keyid+base64``), comma-separated."""
    keys = tuple(part.strip() for part in value.split(",") if part.strip())
    for key in keys:
        if not _VERIFIER_KEY.fullmatch(key):
            raise ValueError(f"not a C2SP Ed25519 verifier key: {key!r}")
    return keys


MIN_RETENTION_YEARS = 2  # records kept at least 2 years after a case ends (SAC rules, §9)


def _retention_years(value: str) -> int:
    years = int(value)
    if years < MIN_RETENTION_YEARS:
        raise ValueError(f"RETENTION_YEARS must be at least {MIN_RETENTION_YEARS} (the SAC "
                         f"rules keep a request's records that long after it ends), not {years}")
    return years


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise ValueError(f"must be at least 1: {value!r}")
    return number


# name -> (default, parser). The parser turns the environment's text into a value.
SETTINGS: dict[str, tuple[str, object]] = {
    "DATABASE_URL": (f"sqlite:///{HERE / 'instance' / 'porta25.db'}", str),
    "SECRET_KEY": ("", str),
    "ISP_PREFIXES": ("203.0.113.0/24,198.51.100.0/24,2001:db8::/32", _prefixes),
    "WEBHOOK_ALLOWED_NETWORKS": ("127.0.0.0/8,::1/128", _prefixes),
    "SESSION_COOKIE_SECURE": ("true", _bool),
    "RATELIMIT_STORAGE_URI": ("memory://", str),
    "RATELIMIT_ENABLED": ("true", _bool),
    "LOGIN_RATE_LIMIT": ("10 per minute", str),
    # argon2-cffi profile (argon2.profiles): RFC 9106's low-memory argon2id by default.
    "PASSWORD_HASH_PROFILE": ("RFC_9106_LOW_MEMORY", str),
    "API_MAX_BODY_BYTES": ("65536", int),
    "TERMS_VERSION": ("2026-11", str),
    "ANSWER_DEADLINE_DAYS": ("7", int),
    "EXECUTION_DEADLINE_BUSINESS_DAYS": ("10", int),
    "APPEAL_WINDOW_DAYS": ("30", int),
    "DEFAULT_VALIDITY_DAYS": ("365", int),
    "MAX_VALIDITY_DAYS": ("730", int),
    "DISPLAY_TIMEZONE": ("America/Sao_Paulo", str),
    "DEFAULT_LOCALE": ("pt_BR", str),
    "PAGE_SIZE": ("25", int),
    # The enforcement stream's events are kept this long for GET /enforcement/changes.
    "STREAM_RETENTION_DAYS": ("30", int),
    # Names in the allow-list's nftables script (?format=nft): table and its two sets.
    "ENFORCEMENT_NFT_TABLE": ("inet filter", _nft_table),
    "ENFORCEMENT_NFT_SET4": ("porta25_allow4", _nft_name),
    "ENFORCEMENT_NFT_SET6": ("porta25_allow6", _nft_name),
    # The worker closes a case left awaiting the customer this many days (DESIGN §3).
    "ABANDON_AFTER_DAYS": ("30", int),
    # The customer is reminded once, this many days before the exception's validity ends.
    "EXPIRY_REMINDER_DAYS": ("30", int),
    # A worker holds an endpoint this long without renewing; then another may take it over.
    # Keep it well above a webhook POST's 15 s deadline (workflow/sender.py): a lease that
    # lapses mid-POST lets a second worker send the same event again (receivers dedupe by
    # webhook-id, but should rarely need to).
    "WORKER_LEASE_SECONDS": ("60", int),
    # The SMTP relay the worker hands customer e-mails to. Port 25: a local MTA (Postfix)
    # relays onwards; use 587 with SMTP_STARTTLS and a login for a remote submission server.
    "SMTP_HOST": ("127.0.0.1", str),
    "SMTP_PORT": ("25", int),
    "SMTP_FROM": ("porta25 <nao-responda@localhost>", str),
    "SMTP_STARTTLS": ("false", _bool),
    # Optional login (AUTH); the password is never logged.
    "SMTP_USER": ("", str),
    "SMTP_PASSWORD": ("", str),
    # The portal's public address: links in e-mails and the QR code printed on records.
    "PUBLIC_BASE_URL": ("http://localhost:5000", str),
    # Who issues the records, and the service channel they point customers to.
    "ISP_NAME": ("Provedor Exemplo Telecom Ltda", str),
    "ISP_SUPPORT": ("SAC 0800 000 0000 · atendimento@exemplo.com.br", str),
    # Optional PAdES signature of every record: a PKCS#12 file with an RSA key and its
    # password (never logged). Empty: records are not signed; the verification code and
    # the stored SHA-256 are the proof either way.
    "RECORD_SIGNING_P12": ("", str),
    "RECORD_SIGNING_P12_PASSWORD": ("", str),
    # Roots whose chains the verification page calls trusted (e.g. ICP-Brasil's AC Raiz):
    # PEM or DER files, comma-separated. Empty: it says no signature chain is trusted.
    "RECORD_TRUST_ROOTS": ("", str),
    # Uploads to the public verification page, per client address.
    "VERIFY_RATE_LIMIT": ("20 per minute", str),
    # Signed checkpoints of the audit chain's head (DESIGN §9, workflow/checkpoints.py).
    # The Ed25519 private key as base64 of its 32-byte seed (`flask audit new-key` makes
    # one; never logged). Empty: no checkpoints, which the worker and `audit verify` say.
    "AUDIT_SIGNING_KEY": ("", _ed25519_seed),
    # The key's C2SP name, also the checkpoints' origin line: a schema-less URL.
    "AUDIT_KEY_NAME": ("porta25.example.com.br/audit", _key_name),
    # The worker signs the head this often, and only when it moved since the last one.
    "AUDIT_CHECKPOINT_INTERVAL_SECONDS": ("3600", int),
    # Earlier public keys (C2SP verifier key strings, comma-separated) that older
    # checkpoints were signed with: kept after a rotation, checked and published.
    "AUDIT_VERIFIER_KEYS": ("", _verifier_keys),
    # The resolvers the worker asks for a case's evidence (PTR, SPF, MX): empty means the
    # system's /etc/resolv.conf. Each query waits at most EVIDENCE_TIMEOUT_SECONDS, and a
    # round of checks five times that.
    "EVIDENCE_RESOLVERS": ("", _resolvers),
    "EVIDENCE_TIMEOUT_SECONDS": ("3", float),
    # LGPD retention (DESIGN §9): the worker anonymises, daily, the personal data of cases
    # that ended more than this many years ago, and then of customers left with nothing
    # else (workflow/retention.py). At least 2; the app refuses to start with less.
    "RETENTION_YEARS": ("5", _retention_years),
    # An auditor who reveals a case's personal data (stating a reason, audited) sees them
    # for this many minutes; then they are masked again (workflow/oversight.py).
    "REVEAL_MINUTES": ("30", _positive),
}


def from_environment(environ: dict[str, str] | None = None) -> dict[str, object]:
    """Return the settings as Flask config keys, parsed from ``environ``."""
    environ = os.environ if environ is None else environ
    config = {}
    for name, (default, parse) in SETTINGS.items():
        config[name] = parse(environ.get(name, default))  # type: ignore[operator]
    if not config["SECRET_KEY"]:
        # A random key keeps a development server safe; sessions end with it.
        config["SECRET_KEY"] = secrets.token_hex(32)
    config["SQLALCHEMY_DATABASE_URI"] = config["DATABASE_URL"]
    config["MAX_CONTENT_LENGTH"] = 4 * 1024 * 1024
    config["BABEL_DEFAULT_LOCALE"] = config["DEFAULT_LOCALE"]
    config["BABEL_DEFAULT_TIMEZONE"] = config["DISPLAY_TIMEZONE"]
    config["SESSION_COOKIE_HTTPONLY"] = True
    config["SESSION_COOKIE_SAMESITE"] = "Lax"
    config["REMEMBER_COOKIE_SECURE"] = config["SESSION_COOKIE_SECURE"]
    config["REMEMBER_COOKIE_HTTPONLY"] = True
    return config
