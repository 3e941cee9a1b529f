"""Where webhooks may go: no loopback, private or link-local targets unless allowed.

A subscriber's URL is configuration, but the name in it resolves at delivery
time, and a name can point inside the network (SSRF). So the check is made on
the *resolved* addresses, and the request then goes to the address that was
checked (the Host header and TLS SNI keep the name), so a second lookup cannot
answer differently (DNS rebinding).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def kind_of_address(address: str) -> str | None:
    """Why ``address`` is not a public one ("loopback", "private"…), or None if it is."""
    ip: Address = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    if ip.is_loopback:
        return "loopback"
    if ip.is_link_local:
        return "link-local"
    if ip.is_unspecified:
        return "unspecified"
    if ip.is_multicast:
        return "multicast"
    if ip.is_private:
        return "private"
    if not ip.is_global:
        return "not globally routable"
    return None


def refusal(host: str, addresses: Sequence[str], *, allow_private: bool) -> str | None:
    """The reason to refuse posting to ``host`` resolved to ``addresses``, or None.

    Every address must be public: a name with one inside address is refused whole.
    """
    if not addresses:
        return f"refused: {host} resolves to no address"
    if allow_private:
        return None
    for address in addresses:
        kind = kind_of_address(address)
        if kind is not None:
            shown = host if host == address else f"{host} resolves to {address}"
            return (
                f"refused: {shown}, a {kind} address"
                " (set delivery.allow_private_targets = true to allow it)"
            )
    return None
