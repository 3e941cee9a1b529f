"""HTTP serving: the published files, filtered views from the store, ``/healthz``, ``/metrics``.

``app`` is the ASGI application (what is answered), ``run`` hosts it under a
production server inside ``worker run`` (how connections are handled),
``static`` holds the published files in memory, ``http`` the protocol rules.
"""

from __future__ import annotations

from worker.server.app import FeedApp, make_app
from worker.server.health import Health, HealthCheck
from worker.server.http import accepts_gzip
from worker.server.run import FeedServer, Limits

__all__ = ["FeedApp", "FeedServer", "Health", "HealthCheck", "Limits", "accepts_gzip", "make_app"]
