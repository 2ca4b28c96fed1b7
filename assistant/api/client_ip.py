"""Who the client is: the TCP peer, or, only when the peer is a configured trusted proxy, the address that
proxy put in `X-Forwarded-For`.

`parley serve` turns uvicorn's own proxy-header handling off (it believes any proxy on 127.0.0.1), so the
per-IP rate limit and the queue's per-IP fair share key on this function's answer and nothing else.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from functools import lru_cache

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class InvalidProxySetting(ValueError):
    """An entry of `trusted_proxies` that is not an IP address or network."""


@lru_cache(maxsize=32)
def parse_networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    networks = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError as exc:
            raise InvalidProxySetting(f"trusted_proxies: {entry!r} is not an IP address or network") from exc
    return tuple(networks)


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def _trusted(address: ipaddress.IPv4Address | ipaddress.IPv6Address, networks: Iterable[Network]) -> bool:
    return any(address.version == n.version and address in n for n in networks)


def client_address(peer: str | None, forwarded_for: str | None, trusted_proxies: Sequence[str]) -> str:
    """The client's address. The header is read right to left (each proxy appends the address it saw) and
    only while the hop that wrote it is trusted; the first untrusted or unparsable entry stops the walk."""
    if not peer:
        return "unknown"
    networks = parse_networks(tuple(trusted_proxies))
    current = _address(peer)
    if current is None or not networks or not forwarded_for or not _trusted(current, networks):
        return peer
    hops = [h for h in forwarded_for.split(",") if h.strip()]
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:
            break  # garbage written by someone before our proxies: keep the last address a proxy vouched for
        current = address
        if not _trusted(address, networks):
            break
    return str(current)


def forwarded_for_header(headers: Iterable[tuple[bytes, bytes]]) -> str | None:
    """All X-Forwarded-For headers of an ASGI scope joined (a client may send several)."""
    values = [v.decode("latin-1") for k, v in headers if k.lower() == b"x-forwarded-for"]
    return ",".join(values) if values else None
