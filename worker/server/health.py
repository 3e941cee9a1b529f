"""What ``/healthz`` reports: the service's state, from one injected check.

The server calls one function that returns a ``Health``; it knows nothing of
what is checked. ``ok`` answers 200, anything else 503 with the reasons, so a
container's health check and a load balancer take a failing replica out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Health:
    #: ``ok``, or a word for what is wrong (``stopping``, ``failing``…).
    status: str = "ok"
    #: One line per failing cause, naming it: ``"database: connection refused"``.
    reasons: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"status": self.status}
        if self.reasons:
            body["reasons"] = list(self.reasons)
        return body


#: Called for each ``/healthz`` request, on a thread (it may read state other threads
#: write); it should only read what the jobs recorded, not run checks of its own.
HealthCheck = Callable[[], Health]


def always_ok() -> Health:
    return Health()
