"""Where webhooks may go: no loopback, private, link-local or other special-purpose
targets unless allowed.

A subscriber's URL is configuration, but the name in it resolves at delivery
time, and a name can point inside the network (SSRF). So the check is made on
the *resolved* addresses, and the request then goes to the address that was
checked (the Host header and TLS SNI keep the name), so a second lookup cannot
answer differently (DNS rebinding).

What counts as public: not in any range of IANA's special-purpose address
registries (https://www.iana.org/assignments/iana-ipv4-special-registry,
https://www.iana.org/assignments/iana-ipv6-special-registry), nor multicast, nor
site-local (RFC 3879). An IPv6 address that carries an IPv4 one (IPv4-mapped,
NAT64 ``64:ff9b::/96``, 6to4 ``2002::/16``) is judged by the IPv4 address it
reaches; the deprecated IPv4-compatible form (``::a.b.c.d``) is never a target.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _table(rows: Sequence[tuple[str, str]]) -> tuple[tuple[Network, str], ...]:
    return tuple((ipaddress.ip_network(net), kind) for net, kind in rows)


#: IANA IPv4 special-purpose registry, every entry (those marked globally reachable
#: too: anycast relays and AS112 servers are no webhook receivers), plus multicast.
IPV4_SPECIAL = _table([
    ("0.0.0.0/32", "unspecified"),
    ("0.0.0.0/8", "this-network"),
    ("10.0.0.0/8", "private"),
    ("100.64.0.0/10", "shared (carrier-grade NAT)"),
    ("127.0.0.0/8", "loopback"),
    ("169.254.0.0/16", "link-local"),
    ("172.16.0.0/12", "private"),
    ("192.0.0.0/24", "IETF protocol assignment"),
    ("192.0.2.0/24", "documentation"),
    ("192.31.196.0/24", "AS112"),
    ("192.52.193.0/24", "AMT"),
    ("192.88.99.0/24", "6to4 relay anycast"),
    ("192.168.0.0/16", "private"),
    ("192.175.48.0/24", "AS112"),
    ("198.18.0.0/15", "benchmarking"),
    ("198.51.100.0/24", "documentation"),
    ("203.0.113.0/24", "documentation"),
    ("224.0.0.0/4", "multicast"),
    ("255.255.255.255/32", "broadcast"),
    ("240.0.0.0/4", "reserved"),
])  # fmt: skip

#: IANA IPv6 special-purpose registry, every entry but the three that carry an IPv4
#: address (judged by it, below), plus multicast and site-local.
IPV6_SPECIAL = _table([
    ("::1/128", "loopback"),
    ("::/128", "unspecified"),
    ("::/96", "IPv4-compatible (deprecated)"),
    ("64:ff9b:1::/48", "local-use NAT64"),
    ("100::/64", "discard-only"),
    ("100:0:0:1::/64", "dummy prefix"),
    ("2001::/23", "IETF protocol assignment"),
    ("2001:db8::/32", "documentation"),
    ("2620:4f:8000::/48", "AS112"),
    ("3fff::/20", "documentation"),
    ("5f00::/16", "segment routing (SRv6)"),
    ("fc00::/7", "private"),
    ("fe80::/10", "link-local"),
    ("fec0::/10", "site-local (deprecated)"),
    ("ff00::/8", "multicast"),
])  # fmt: skip

NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
SIX_TO_FOUR = ipaddress.IPv6Network("2002::/16")


def embedded_ipv4(ip: ipaddress.IPv6Address) -> tuple[ipaddress.IPv4Address, str] | None:
    """The IPv4 address an IPv6 one leads to, and how, when it carries one."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped, "IPv4-mapped"
    if ip in NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF), "NAT64"
    if ip.sixtofour is not None:
        return ip.sixtofour, "6to4"
    return None


def kind_of_address(address: str) -> str | None:
    """Why ``address`` is not a public one ("loopback", "private"…), or None if it is."""
    ip: Address = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        carried = embedded_ipv4(ip)
        if carried is not None:
            inner, how = carried
            kind = kind_of_address(str(inner))
            if kind is None or how == "IPv4-mapped":  # ::ffff:127.0.0.1 *is* 127.0.0.1
                return kind
            return f"{how} {kind}"
        table = IPV6_SPECIAL
    else:
        table = IPV4_SPECIAL
    for network, kind in table:
        if ip in network:
            return kind
    if not ip.is_global:  # anything the standard library knows and the tables miss
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
