"""Shared by the serving benchmarks: run ``wrk`` (Debian's package) and nginx, read their figures.

``wrk`` prints its latency distribution with ``--latency``; this module turns
that text into numbers (requests/s, p50/p99 ms, errors), and starts an nginx
(Debian's package, one worker process) serving a folder, the reference peer.
"""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


@dataclass(frozen=True, slots=True)
class WrkResult:
    requests: int
    per_second: float
    p50_ms: float
    p99_ms: float
    #: connect, read, write and timeout errors, and responses that were not 2xx/3xx.
    errors: int
    timeouts: int
    statuses: str

    def row(self) -> str:
        return (
            f"{self.per_second:9.0f} req/s  p50 {self.p50_ms:7.2f} ms  p99 {self.p99_ms:7.2f} ms"
            f"  errors {self.errors} (timeouts {self.timeouts}){self.statuses}"
        )


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if not match:
        raise ValueError(f"wrk: cannot read a duration from {text!r}")
    return float(match.group(1)) * UNITS[match.group(2)]


def parse_wrk(output: str) -> WrkResult:
    def number(pattern: str, default: str = "0") -> str:
        match = re.search(pattern, output)
        return match.group(1) if match else default

    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    socket_errors = [int(g) for g in errors.groups()] if errors else [0, 0, 0, 0]
    bad = int(number(r"Non-2xx or 3xx responses: (\d+)"))
    return WrkResult(
        requests=int(number(r"(\d+) requests in")),
        per_second=float(number(r"Requests/sec:\s+([\d.]+)")),
        p50_ms=_ms(number(r"50%\s+(\S+)", "0ms")),
        p99_ms=_ms(number(r"99%\s+(\S+)", "0ms")),
        errors=sum(socket_errors) + bad,
        timeouts=socket_errors[3],
        statuses=f"  non-2xx/3xx {bad}" if bad else "",
    )


def run_wrk(
    url: str,
    *,
    connections: int,
    seconds: float,
    headers: dict[str, str] | None = None,
    threads: int = 2,
    timeout: float = 30,
) -> WrkResult:
    command = ["wrk", "--latency", f"-t{threads}", f"-c{connections}", f"-d{int(seconds)}s",
               f"--timeout={int(timeout)}s"]  # fmt: skip
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    done = subprocess.run(command + [url], capture_output=True, text=True, timeout=seconds + 60)
    if done.returncode:
        raise RuntimeError(f"wrk failed: {done.stderr.strip()}")
    return parse_wrk(done.stdout)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, deadline: float = 30) -> None:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port} after {deadline} s")


NGINX_CONF = """
worker_processes 1;
worker_rlimit_nofile 8192;
daemon off;
error_log {tmp}/error.log warn;
pid {tmp}/nginx.pid;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/body; proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fcgi; uwsgi_temp_path {tmp}/uwsgi; scgi_temp_path {tmp}/scgi;
    types {{ application/atom+xml xml; }}
    server {{
        listen 127.0.0.1:{port} backlog=4096;
        location /feeds/ {{ alias {root}/; etag on; }}
    }}
}}
"""


class Nginx:
    """Debian's nginx serving ``root`` at ``/feeds/`` with one worker process."""

    def __init__(self, root: Path) -> None:
        binary = shutil.which("nginx") or "/usr/sbin/nginx"
        self.tmp = Path(tempfile.mkdtemp(prefix="bench-nginx-"))
        self.port = free_port()
        # nginx's worker runs as an unprivileged user: the folder must be readable to it.
        root.chmod(0o755)
        conf = self.tmp / "nginx.conf"
        conf.write_text(NGINX_CONF.format(tmp=self.tmp, port=self.port, root=root.resolve()))
        self.process = subprocess.Popen(
            [binary, "-c", str(conf), "-p", str(self.tmp)],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        wait_for_port(self.port)

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)
        shutil.rmtree(self.tmp, ignore_errors=True)
