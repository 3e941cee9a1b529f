"""Runs the app under granian, embedded in the worker's process on a thread of its own.

Why granian: on this workload (one process, polling readers, 1,000 connections)
it served the most requests with the lowest tail latency of the candidates, and
its HTTP/1 layer (Rust, hyper) closes a connection that has not sent a whole
request head within the header timeout: idle and slowloris connections go
away. Figures and the comparison: bench/README.md.

What the server enforces, each for a reason:

- a listen backlog (``backlog``), so a burst of readers waits in the kernel
  instead of being refused;
- a cap on open connections (``max_connections``, granian's backpressure: past
  it, new connections wait in the backlog), kept below the process's open-file
  limit so the jobs always have descriptors for the database and the fetches;
- the header timeout, which is also the keep-alive idle timeout;
- keep-alive.
"""

from __future__ import annotations

import asyncio
import logging
import resource
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from granian.constants import HTTPModes, Interfaces
from granian.http import HTTP1Settings
from granian.server.embed import Server

from worker.server.app import FeedApp

log = logging.getLogger("worker.server")

#: Open files kept for everything but client connections: the database, the parse
#: processes' pipes, the fetcher's and the webhook sender's sockets, the logs.
FD_RESERVE = 512
#: Seconds between looks at the feeds folder for files another process wrote.
RESCAN_SECONDS = 2.0
#: Seconds to wait for the server to listen, and to stop.
START_SECONDS = 10.0
STOP_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class Limits:
    """How the server treats connections (``[server]`` settings)."""

    backlog: int = 2048
    max_connections: int = 4096
    #: Seconds a client has to send a request head; also how long an idle
    #: keep-alive connection stays open.
    header_timeout: float = 15.0


def raise_open_file_limit() -> int:
    """Raise the soft open-file limit to the hard one (as nginx and Go do); return it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
        except (ValueError, OSError) as e:
            log.warning("server: cannot raise the open-file limit from %d: %s", soft, e)
    return soft if soft != resource.RLIM_INFINITY else 1 << 20


def connection_cap(wanted: int, open_files: int) -> int:
    """``wanted``, or fewer when the open-file limit leaves less room beside the reserve."""
    return max(16, min(wanted, open_files - FD_RESERVE))


def check_bind(host: str, port: int) -> int:
    """Bind once to fail early and clearly on a taken port; the port to listen on."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host, port))
        return int(probe.getsockname()[1])


class FeedServer:
    """The HTTP server of ``worker run``: start, ``port``, stop."""

    def __init__(
        self,
        app: FeedApp,
        *,
        host: str,
        port: int,
        limits: Limits | None = None,
        rescan: Callable[[], object] | None = None,
    ) -> None:
        self.app = app
        self.host = host
        self.limits = limits or Limits()
        #: Bound once here, so a taken port fails at construction with a clear OSError.
        self.port = check_bind(host, port)
        #: Called every ``RESCAN_SECONDS`` on a thread (default: the app's static site).
        self._rescan = rescan or app.site.refresh
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: Server | None = None
        self._thread: threading.Thread | None = None
        self._failure: BaseException | None = None

    def start(self) -> None:
        """Listen and serve on a background thread; OSError when it cannot."""
        cap = connection_cap(self.limits.max_connections, raise_open_file_limit())
        if cap < self.limits.max_connections:
            log.warning("server: at most %d connections (open-file limit)", cap)
        # granian's own log lines would bypass our format; its errors still reach it.
        logging.getLogger("granian").setLevel(logging.ERROR)
        self._server = Server(
            self.app,
            address=self.host,
            port=self.port,
            interface=Interfaces.ASGINL,
            # HTTP/1 only: in "auto" mode a connection that sends nothing is never timed out.
            http=HTTPModes.http1,
            backlog=self.limits.backlog,
            backpressure=cap,
            http1_settings=HTTP1Settings(
                header_read_timeout=int(self.limits.header_timeout * 1000), keep_alive=True
            ),
            log_enabled=False,
            websockets=False,
        )
        self._thread = threading.Thread(target=self._serve, name="http", daemon=True)
        self._thread.start()
        self._wait_listening()

    def _serve(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._main())
        except BaseException as e:  # reported by start() or stop()
            self._failure = e
        finally:
            loop.close()

    async def _main(self) -> None:
        assert self._server is not None
        rescan = asyncio.create_task(self._rescan_forever())
        try:
            await self._server.serve()
        finally:
            rescan.cancel()

    async def _rescan_forever(self) -> None:
        while True:
            await asyncio.sleep(RESCAN_SECONDS)
            try:
                await asyncio.to_thread(self._rescan)
            except Exception:
                log.exception("server: rescanning the published files failed")

    def _wait_listening(self) -> None:
        target = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        target = "::1" if target == "::" else target
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if self._failure is not None or not (self._thread and self._thread.is_alive()):
                raise OSError(f"the HTTP server did not start: {self._failure}")
            try:
                with socket.create_connection((target, self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.02)
        raise OSError(f"the HTTP server did not listen within {START_SECONDS:.0f} s")

    def stop(self) -> None:
        if self._loop is None or self._server is None or self._thread is None:
            return
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._server.stop)
        self._thread.join(STOP_SECONDS)
        if self._thread.is_alive():
            log.warning("server: did not stop within %.0f s", STOP_SECONDS)
