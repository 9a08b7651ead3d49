"""nftables: the one script per change (a pure function of the prefixes) and its runner."""

from __future__ import annotations

import ipaddress
import re
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from .state import atomic_write

NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")
FAMILIES = ("inet", "ip", "ip6", "bridge", "netdev")
PER_LINE = 500  # elements per `add element` line, for readable scripts
PENDING = "nft-pending.nft"  # without --apply: the script we would run
APPLIED = "nft-apply.nft"  # with --apply: the script handed to nft -f
NFT_TIMEOUT = 60


class NftError(Exception):
    """nft refused the script or could not run; the set is unchanged (one transaction)."""


@dataclass(frozen=True)
class NftSet:
    """``"inet filter porta25_allow"`` → sets porta25_allow4 and porta25_allow6."""
    family: str
    table: str
    base: str

    @classmethod
    def parse(cls, text: str) -> NftSet:
        """Three plain names, checked because they are written into a script."""
        words = text.split()
        if (len(words) != 3 or words[0] not in FAMILIES
                or not all(NAME.fullmatch(word) for word in words[1:])):
            raise ValueError("--nft-set must be 'FAMILY TABLE SETNAME', "
                             "e.g. 'inet filter porta25_allow'")
        return cls(*words)

    @property
    def ipv4(self) -> str:
        return f"{self.base}4"

    @property
    def ipv6(self) -> str:
        return f"{self.base}6"


def collapse(prefixes: Iterable[str]) -> tuple[list[str], list[str]]:
    """IPv4 and IPv6 prefixes, merged where they overlap (an interval set refuses overlaps)."""
    networks = [ipaddress.ip_network(p, strict=False) for p in prefixes]

    def merged(version: int) -> list[str]:
        same = (n for n in networks if n.version == version)
        return [str(n) for n in ipaddress.collapse_addresses(same)]

    return merged(4), merged(6)


def render_script(prefixes: Iterable[str], nft_set: NftSet, sequence: int) -> str:
    """One `nft -f` transaction that flushes and refills both sets: all or nothing."""
    ipv4, ipv6 = collapse(prefixes)
    table = f"{nft_set.family} {nft_set.table}"
    lines = [
        f"# porta25 enforcer: allow-list at sequence {sequence}, "
        f"{len(ipv4)} IPv4 and {len(ipv6)} IPv6 prefixes.",
        "# Generated; nft -f applies it as one transaction (never half-applied).",
        f"add table {table}",
        f"add set {table} {nft_set.ipv4} {{ type ipv4_addr; flags interval; }}",
        f"add set {table} {nft_set.ipv6} {{ type ipv6_addr; flags interval; }}",
        f"flush set {table} {nft_set.ipv4}",
        f"flush set {table} {nft_set.ipv6}",
    ]
    for name, networks in ((nft_set.ipv4, ipv4), (nft_set.ipv6, ipv6)):
        for start in range(0, len(networks), PER_LINE):
            elements = ", ".join(networks[start:start + PER_LINE])
            lines.append(f"add element {table} {name} {{ {elements} }}")
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class NftInstaller:
    state_dir: Path
    apply: bool
    binary: str

    def install(self, script: str) -> None:
        """With --apply run `nft -f`; without, write the script it would run."""
        if not self.apply:
            atomic_write(self.state_dir / PENDING, script.encode())
            return
        path = self.state_dir / APPLIED
        atomic_write(path, script.encode())
        try:
            done = subprocess.run([self.binary, "-f", str(path)], capture_output=True,
                                  text=True, timeout=NFT_TIMEOUT, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise NftError(f"{self.binary}: {exc}") from None
        if done.returncode != 0:
            raise NftError(f"{self.binary} -f exited {done.returncode}: "
                           f"{done.stderr.strip()[:300]}")
