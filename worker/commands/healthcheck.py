"""``worker healthcheck``: ask the running service's ``/healthz``, as a container's
health check does (``python -m worker.commands.healthcheck`` in the image).

The address comes from the same settings as ``worker run`` (the config file,
``WORKER_SERVER__PORT`` and the other ``WORKER_*`` variables), so the check follows
the server wherever it is moved. Exit 0 when ``/healthz`` answers 200, else 1 with
the reason on one line: Docker and Podman read 0 as healthy and 1 as unhealthy
(2 is reserved), so a configuration error is 1 here too. Imports only the
settings, not the worker: it runs every interval.
"""

from __future__ import annotations

import argparse
import sys
import urllib.error
import urllib.request
from typing import Any

from worker.config import ConfigError, Settings, load_settings

HEALTHY, UNHEALTHY = 0, 1
#: Seconds to wait for the answer; the image's HEALTHCHECK gives the probe 5.
TIMEOUT = 4.0
#: A server bound to every address is asked on loopback.
WILDCARDS = {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1"}


def register(sub: Any) -> None:
    check = sub.add_parser(
        "healthcheck",
        help="ask the running service's /healthz; exit 0 when healthy, 1 when not",
        description="Ask /healthz of the worker these settings describe (host and port "
        "of [server]); print its answer; exit 0 on 200, 1 otherwise.",
    )
    check.add_argument("--url", help="ask this URL instead (default: from [server])")
    check.add_argument("--timeout", type=float, default=TIMEOUT, help="seconds (default 4)")


def run(settings: Settings, args: argparse.Namespace) -> int:
    return probe(args.url or healthz_url(settings), args.timeout)


def healthz_url(settings: Settings) -> str:
    host = WILDCARDS.get(settings.server.host, settings.server.host)
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{settings.server.port}/healthz"


def probe(url: str, timeout: float = TIMEOUT) -> int:
    """Print the answer of ``url`` on one line; HEALTHY on 200, else UNHEALTHY."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            body = response.read(2000).decode("utf-8", "replace").strip()
            status = response.status
    except urllib.error.HTTPError as e:  # 503 and the like: the body says why
        body = e.read(2000).decode("utf-8", "replace").strip()
        status = e.code
    except (OSError, ValueError) as e:
        print(f"unhealthy: {url}: {getattr(e, 'reason', e)}")
        return UNHEALTHY
    if status == 200:
        print(f"healthy: {body}")
        return HEALTHY
    print(f"unhealthy: {url} answered {status}: {body}")
    return UNHEALTHY


def main() -> int:
    try:
        settings = load_settings()
    except ConfigError as e:
        print(f"unhealthy: configuration error: {e}")
        return UNHEALTHY
    return probe(healthz_url(settings))


if __name__ == "__main__":
    sys.exit(main())
