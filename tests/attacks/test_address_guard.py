"""Attack: webhook targets whose addresses hide an inside address.

NAT64 (``64:ff9b::/96``) and 6to4 (``2002::/16``) addresses embedding a private IPv4
address, the IPv4-compatible form (``::127.0.0.1``) and site-local (``fec0::/10``)
counted as public, so a subscriber URL naming them reached inside the network. Every
special-purpose range of IANA's IPv4 and IPv6 registries is refused now.
"""

from __future__ import annotations

import pytest

from worker.notify.safety import kind_of_address, refusal


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        # The four that got through.
        ("64:ff9b::7f00:1", "NAT64 loopback"),
        ("64:ff9b::a00:1", "NAT64 private"),
        ("64:ff9b::169.254.169.254", "NAT64 link-local"),
        ("2002:7f00:1::1", "6to4 loopback"),
        ("2002:c0a8:0101::1", "6to4 private"),
        ("::127.0.0.1", "IPv4-compatible (deprecated)"),
        ("::10.0.0.1", "IPv4-compatible (deprecated)"),
        ("fec0::1", "site-local (deprecated)"),
        # The rest of the IPv6 registry.
        ("64:ff9b:1::1", "local-use NAT64"),
        ("100::1", "discard-only"),
        ("2001::1", "IETF protocol assignment"),  # Teredo
        ("2001:2::1", "IETF protocol assignment"),  # benchmarking
        ("2001:20::1", "IETF protocol assignment"),  # ORCHIDv2
        ("2001:db8::1", "documentation"),
        ("3fff::1", "documentation"),
        ("2620:4f:8000::1", "AS112"),
        ("5f00::1", "segment routing (SRv6)"),
        ("ff02::1", "multicast"),
        # The IPv4 registry.
        ("0.1.2.3", "this-network"),
        ("192.0.0.9", "IETF protocol assignment"),
        ("192.0.2.1", "documentation"),
        ("192.88.99.1", "6to4 relay anycast"),
        ("198.18.0.1", "benchmarking"),
        ("198.51.100.7", "documentation"),
        ("203.0.113.7", "documentation"),
        ("224.0.0.1", "multicast"),
        ("240.0.0.1", "reserved"),
        ("255.255.255.255", "broadcast"),
    ],
)
def test_special_purpose_addresses_are_not_public(address: str, kind: str) -> None:
    assert kind_of_address(address) == kind
    reason = refusal("hooks.example", ["93.184.215.14", address], allow_private=False)
    assert reason is not None and f"a {kind} address" in reason


@pytest.mark.parametrize(
    "address",
    [
        "93.184.215.14",
        "2606:4700::1111",
        # A public IPv4 address reached through NAT64 (an IPv6-only network's DNS64) or
        # 6to4 is the public address it carries.
        "64:ff9b::5db8:d70e",
        "2002:5db8:d70e::1",
    ],
)
def test_public_addresses_stay_allowed(address: str) -> None:
    assert kind_of_address(address) is None
