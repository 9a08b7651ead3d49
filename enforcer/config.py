"""Command line; every option also from an ENFORCER_* environment variable."""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .nft import NftSet

DEFAULT_SET = "inet filter porta25_allow"


@dataclass(frozen=True)
class Config:
    host: str
    port: int
    allowlist_url: str
    state_dir: Path
    apply: bool
    nft_set: NftSet
    nft_binary: str
    resync_interval: float
    log_level: str
    # Kept out of repr so a logged Config never shows them.
    secrets: tuple[str, ...] = field(repr=False, default=())
    token: str = field(repr=False, default="")


def flag(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def read_lines(path: str) -> list[str]:
    with open(path, encoding="utf-8") as handle:
        return [line.strip() for line in handle if line.strip()]


def build_parser(env: Mapping[str, str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m enforcer",
        description="porta25 reference enforcement receiver (see enforcer/README.md).")
    add = parser.add_argument
    add("--listen", default=env.get("ENFORCER_LISTEN", "127.0.0.1:8025"),
        help="HOST:PORT for webhooks ([::1]:8025 for IPv6) [ENFORCER_LISTEN]")
    add("--secret", action="append", dest="secrets", metavar="WHSEC",
        help="whsec_ secret; repeat during a rotation [ENFORCER_SECRETS, comma-separated]")
    add("--secrets-file", default=env.get("ENFORCER_SECRETS_FILE"),
        help="file with one whsec_ secret a line [ENFORCER_SECRETS_FILE]")
    add("--allowlist-url", default=env.get("ENFORCER_ALLOWLIST_URL"),
        help="…/api/v1/enforcement/allowlist [ENFORCER_ALLOWLIST_URL]")
    add("--token", default=env.get("ENFORCER_TOKEN"),
        help="API bearer token for the allow-list [ENFORCER_TOKEN]")
    add("--token-file", default=env.get("ENFORCER_TOKEN_FILE"),
        help="file holding the token [ENFORCER_TOKEN_FILE]")
    add("--state-dir", default=env.get("ENFORCER_STATE_DIR") or env.get("STATE_DIRECTORY"),
        help="state.json, journal.jsonl, nft scripts [ENFORCER_STATE_DIR]")
    add("--apply", action="store_true", default=flag(env.get("ENFORCER_APPLY")),
        help="run nft -f; without it, only write nft-pending.nft [ENFORCER_APPLY=1]")
    add("--nft-set", default=env.get("ENFORCER_NFT_SET", DEFAULT_SET),
        help=f"FAMILY TABLE SET; SET4/SET6 are used (default {DEFAULT_SET!r}) "
             "[ENFORCER_NFT_SET]")
    add("--nft-binary", default=env.get("ENFORCER_NFT_BINARY", "nft"),
        help="the nft program [ENFORCER_NFT_BINARY]")
    add("--resync-interval", type=float, default=env.get("ENFORCER_RESYNC_INTERVAL", "300"),
        help="seconds between allow-list checks [ENFORCER_RESYNC_INTERVAL]")
    add("--log-level", default=env.get("ENFORCER_LOG_LEVEL", "INFO"),
        help="DEBUG, INFO, WARNING [ENFORCER_LOG_LEVEL]")
    return parser


def parse_config(argv: list[str] | None = None, environ: Mapping[str, str] | None = None
                 ) -> Config:
    """Parse and check everything; errors exit with status 2 and never echo a secret."""
    env = os.environ if environ is None else environ
    parser = build_parser(env)
    args = parser.parse_args(argv)
    try:
        secrets = args.secrets or [s.strip() for s in env.get("ENFORCER_SECRETS", "").split(",")
                                   if s.strip()]
        token = args.token
        if args.secrets_file:
            secrets = [*secrets, *read_lines(args.secrets_file)]
        if args.token_file:
            token = "".join(read_lines(args.token_file))
        host, _, port = args.listen.rpartition(":")
        nft_set = NftSet.parse(args.nft_set)
    except (OSError, ValueError) as exc:
        parser.error(str(exc))
    problems = [
        (not secrets, "give at least one --secret (or ENFORCER_SECRETS)"),
        (not token, "give --token (or ENFORCER_TOKEN / ENFORCER_TOKEN_FILE)"),
        (token and any(c.isspace() for c in token), "the token must not contain spaces"),
        (not (args.allowlist_url or "").startswith(("http://", "https://")),
         "give --allowlist-url http(s)://…/api/v1/enforcement/allowlist"),
        (not args.state_dir, "give --state-dir (or ENFORCER_STATE_DIR)"),
        (not host or not port.isdigit(), "--listen must be HOST:PORT"),
        (args.resync_interval <= 0, "--resync-interval must be positive"),
    ]
    for failed, message in problems:
        if failed:
            parser.error(message)
    return Config(host=host.strip("[]"), port=int(port), allowlist_url=args.allowlist_url,
                  state_dir=Path(args.state_dir), apply=args.apply, nft_set=nft_set,
                  nft_binary=args.nft_binary, resync_interval=args.resync_interval,
                  log_level=args.log_level.upper(), secrets=tuple(secrets), token=token)
