"""Which addresses image downloads may reach: public unicast only, checked on what DNS actually returned."""

from __future__ import annotations

import re
import socket
from collections.abc import Callable
from ipaddress import IPv4Address, IPv6Address, ip_address, ip_network

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

IPAddress = IPv4Address | IPv6Address
Policy = Callable[[IPAddress], str | None]

_METADATA = IPv4Address("169.254.169.254")
_SHARED = ip_network("100.64.0.0/10")
_PRIVATE = tuple(ip_network(net) for net in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"))
# inet_aton's legacy spellings (127.1, 0x7f.0.0.1, 2130706433): a caller's connector may accept them as IPs.
_LEGACY_IPV4 = re.compile(r"[0-9a-fA-FxX.]+")


def refusal(ip: IPAddress | str) -> str | None:
    """None for a public unicast address, else its class: "a loopback address", "a private address", ..."""
    ip = ip_address(ip) if isinstance(ip, str) else ip
    if isinstance(ip, IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1 on a dual-stack socket
    if ip.is_unspecified:
        return "an unspecified address"  # connecting to 0.0.0.0 or :: reaches this host
    if ip.is_loopback:
        return "a loopback address"
    if ip == _METADATA:
        return "a link-local (cloud metadata) address"
    if ip.is_link_local:
        return "a link-local address"
    if ip.is_multicast:
        return "a multicast address"
    if ip in _SHARED:
        return "a shared (carrier-grade NAT) address"
    if any(ip in net for net in _PRIVATE if net.version == ip.version):
        return "a private address"
    if isinstance(ip, IPv6Address) and ip.is_site_local:
        return "a site-local address"  # deprecated fec0::/10, which ipaddress still calls global
    if ip.is_reserved or not ip.is_global:
        return "a reserved address"
    return None


def literal_ip(host: str) -> IPAddress | None:
    """The address a URL's host spells out (zone ids and legacy IPv4 forms included); None for a DNS name."""
    try:
        return ip_address(host)
    except ValueError:
        pass
    if _LEGACY_IPV4.fullmatch(host):
        try:
            return IPv4Address(socket.inet_aton(host.rstrip(".")))
        except OSError:
            pass  # a name that merely looks hexadecimal, like "cafe.be"
    return None


class RefusedAddress(OSError):
    """Every address a name resolved to is refused; an OSError, so aiohttp wraps it as a connector error."""


class GuardedResolver(AbstractResolver):
    """aiohttp's default resolver, keeping only the addresses ``refuse`` allows (the connector dials no other)."""

    def __init__(self, refuse: Policy = refusal, inner: AbstractResolver | None = None) -> None:
        self._refuse = refuse
        self._inner = inner if inner is not None else DefaultResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        kept: list[ResolveResult] = []
        first_refusal: str | None = None
        for result in await self._inner.resolve(host, port, family):
            try:
                why = self._refuse(ip_address(result["host"]))
            except ValueError:
                why = "not an IP address"
            if why is None:
                kept.append(result)
            elif first_refusal is None:
                first_refusal = f"{host} resolves to {result['host']}, {why}"
        if first_refusal is not None and not kept:
            raise RefusedAddress(first_refusal)
        return kept

    async def close(self) -> None:
        await self._inner.close()
