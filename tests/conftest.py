"""Shared fixtures: real SQLite and PostgreSQL databases, a real local HTTP server,
and a way to run the worker's command line as a subprocess."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from worker.store import Store, connect, migrate

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
SEED_FILE = ROOT / "seeds" / "000_a0ab093aa17c1e6e.txt"
CORPORA = SHARED / "corpora"
POSTGRES_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


# -- databases -------------------------------------------------------------------


def _postgres_available() -> str | None:
    """None when PostgreSQL answers, else why not."""
    try:
        engine = create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
        return None
    except Exception as e:  # any failure means "not here"
        return f"PostgreSQL not reachable at {POSTGRES_URL}: {type(e).__name__}"


@pytest.fixture(scope="session")
def postgres_server() -> str:
    reason = _postgres_available()
    if reason:
        if os.environ.get("REQUIRE_POSTGRES") == "1":
            pytest.fail(f"REQUIRE_POSTGRES=1 but {reason}")
        pytest.skip(reason)
    return POSTGRES_URL


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    name = f"worker_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(postgres_server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(postgres_server).set(database=name)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The same test on a real SQLite file and on a real PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'data' / 'worker.db'}"
    return str(request.getfixturevalue("postgres_url"))


# -- a local HTTP server -------------------------------------------------------------


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


Route = Callable[[BaseHTTPRequestHandler], Response]


class LocalServer:
    """A real HTTP server on 127.0.0.1 whose routes a test sets: path -> Response or callable."""

    def __init__(self) -> None:
        self.routes: dict[str, Response | Route] = {}
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        #: The client's (host, port) of each request: one port per connection it opened.
        self.peers: list[tuple[str, int]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802
                server.requests.append(("GET", self.path, dict(self.headers)))
                server.peers.append(self.client_address)
                route = server.routes.get(self.path.split("?")[0])
                response = (
                    Response(404, b"not found")
                    if route is None
                    else (route(self) if callable(route) else route)
                )
                self.send_response(response.status)
                for k, v in response.headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(response.body)))
                self.end_headers()
                self.wfile.write(response.body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def http_server() -> Iterator[LocalServer]:
    server = LocalServer()
    yield server
    server.close()


# -- the command line ------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def worker_env(**extra: str) -> dict[str, str]:
    """The environment for a worker subprocess: ours, minus any WORKER_* of the caller."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WORKER_")}
    env.update(extra)
    return env


def run_worker(
    *args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "worker", *args],
        cwd=cwd,
        env=env or worker_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture
def project_dir(tmp_path: Path) -> Path:
    """A working directory holding only the seed document, as a new user would have it."""
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / SEED_FILE.name).write_bytes(SEED_FILE.read_bytes())
    return tmp_path


#: What the seed document must come out as.
SEED_TITLE = "Public Training Series on Smart Manufacturing and Smart Equipment Development"
SEED_START, SEED_END = "2024-06-05", "2024-06-06"
SEED_ORGANIZERS = {
    "Central Enterprise Smart Manufacturing Collaborative Innovation Platform",
    "Machinery Industry Instrumentation Technology and Economy Research Institute",
}


def make_settings(root: Path, db_url: str | None = None, **overrides: object):  # type: ignore[no-untyped-def]
    """Settings for a worker whose folders all live under ``root``."""
    from worker.config import Settings

    values: dict[str, object] = {
        "data_dir": root / "data",
        "seeds_dir": root / "seeds",
        "feeds_dir": root / "feeds",
        "database_url": db_url or "",
    }
    values.update(overrides)
    return Settings.model_validate(values)


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    """A migrated, empty store on ``db_url``; its connections closed afterwards."""
    engine = connect(db_url)
    migrate(engine)
    yield Store(engine)
    engine.dispose()
