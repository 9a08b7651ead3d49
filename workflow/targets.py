"""Validation and normalisation of the address a customer asks to open (DESIGN §4)."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from .errors import InvalidInput

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# Never eligible, whatever ISP_PREFIXES says. Checked explicitly rather than with
# ``is_private``, which also covers the documentation ranges used by the demo.
_FORBIDDEN: tuple[tuple[str, object], ...] = tuple(
    (net, label)
    for label, nets in (
        (_l("é um endereço privado"), ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16",
                                       "100.64.0.0/10", "fc00::/7")),
        (_l("é um endereço de loopback"), ("127.0.0.0/8", "::1/128")),
        (_l("é um endereço link-local"), ("169.254.0.0/16", "fe80::/10")),
        (_l("é um endereço multicast"), ("224.0.0.0/4", "ff00::/8")),
        (_l("é um endereço reservado"), ("0.0.0.0/8", "240.0.0.0/4", "::/128")),
    )
    for net in nets
)
_FORBIDDEN_NETS = tuple((ipaddress.ip_network(n), label) for n, label in _FORBIDDEN)

MAX_IPV4_PREFIX = 29
MIN_IPV6_PREFIX, MAX_IPV6_PREFIX = 64, 128


@dataclass(frozen=True)
class Target:
    network: Network

    @property
    def text(self) -> str:
        return str(self.network)

    @property
    def lo(self) -> str:
        """First address as 32 hex digits (IPv4 mapped into IPv6), for range queries."""
        return _hex(self.network.network_address)

    @property
    def hi(self) -> str:
        return _hex(self.network.broadcast_address)

    @property
    def overlap_floor(self) -> str:
        """The lowest first address an overlapping case can have: no case spans more
        than the widest prefix allowed, so range queries stay bounded on the index."""
        widest = MAX_IPV4_PREFIX if self.network.version == 4 else MIN_IPV6_PREFIX
        span = 2 ** (self.network.max_prefixlen - widest)
        return f"{max(0, int(self.lo, 16) - span + 1):032x}"

    @property
    def addresses(self) -> int:
        return self.network.num_addresses


def _hex(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    if address.version == 4:
        address = ipaddress.IPv6Address(f"::ffff:{address}")
    return f"{int(address):032x}"


def parse_target(raw: str, isp_prefixes: tuple[Network, ...]) -> Target:
    """Normalise ``raw`` to a prefix or raise InvalidInput with a message in Portuguese."""
    text = (raw or "").strip()
    if not text:
        raise InvalidInput(_l("Informe o endereço IP ou prefixo."), field="target")
    try:
        network = ipaddress.ip_network(text, strict=True)
    except ValueError:
        network = _with_host_bits(text)
    _check_size(network)
    for forbidden, label in _FORBIDDEN_NETS:
        if network.version == forbidden.version and network.overlaps(forbidden):
            raise InvalidInput(
                _l("%(target)s %(why)s e não pode receber exceção.", target=network, why=label),
                field="target",
            )
    if not any(network.version == p.version and network.subnet_of(p) for p in isp_prefixes):
        raise InvalidInput(
            _l("%(target)s não pertence à rede deste provedor.", target=network), field="target"
        )
    return Target(network)


def _with_host_bits(text: str) -> Network:
    try:
        meant = ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise InvalidInput(
            _l("“%(text)s” não é um endereço IPv4/IPv6 ou prefixo válido.", text=text[:60]),
            field="target",
        ) from None
    raise InvalidInput(
        _l("%(text)s tem bits de host definidos. Você quis dizer %(meant)s?",
           text=text, meant=meant),
        field="target",
    )


def _check_size(network: Network) -> None:
    if network.version == 4 and network.prefixlen < MAX_IPV4_PREFIX:
        raise InvalidInput(
            _l("Prefixos IPv4 podem ter no máximo 8 endereços (/29); %(target)s é maior.",
               target=network),
            field="target",
        )
    if network.version == 6 and not MIN_IPV6_PREFIX <= network.prefixlen <= MAX_IPV6_PREFIX:
        raise InvalidInput(
            _l("Prefixos IPv6 devem estar entre /64 e /128; %(target)s é maior.",
               target=network),
            field="target",
        )
