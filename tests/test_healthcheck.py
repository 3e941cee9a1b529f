"""``worker healthcheck``: the probe a container's HEALTHCHECK runs, against a real server."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import LocalServer, Response, free_port, make_settings, run_worker, worker_env
from worker.commands.healthcheck import HEALTHY, UNHEALTHY, healthz_url, probe


def test_the_url_follows_the_server_settings(tmp_path: Path) -> None:
    assert healthz_url(make_settings(tmp_path)) == "http://127.0.0.1:8080/healthz"
    moved = make_settings(tmp_path, server={"host": "::", "port": 9090})
    assert healthz_url(moved) == "http://[::1]:9090/healthz"
    own = make_settings(tmp_path, server={"host": "10.1.2.3", "port": 81})
    assert healthz_url(own) == "http://10.1.2.3:81/healthz"


@pytest.mark.parametrize(
    ("status", "expected", "said"),
    [(200, HEALTHY, 'healthy: {"status": "ok"}'), (503, UNHEALTHY, "answered 503")],
)
def test_a_probe_reads_the_status(
    http_server: LocalServer,
    capsys: pytest.CaptureFixture[str],
    status: int,
    expected: int,
    said: str,
) -> None:
    body = b'{"status": "ok"}' if status == 200 else b'{"status": "failing", "job": "publish"}'
    http_server.routes["/healthz"] = Response(status, body)
    assert probe(f"{http_server.url}/healthz") == expected
    out = capsys.readouterr().out
    assert said in out and out.count("\n") == 1


def test_nothing_listening_is_unhealthy(capsys: pytest.CaptureFixture[str]) -> None:
    assert probe(f"http://127.0.0.1:{free_port()}/healthz", timeout=2) == UNHEALTHY
    assert "unhealthy:" in capsys.readouterr().out


def test_the_command_asks_the_port_of_the_environment(
    tmp_path: Path, http_server: LocalServer
) -> None:
    http_server.routes["/healthz"] = Response(503, b'{"status": "failing"}')
    port = http_server.url.rsplit(":", 1)[1]
    environ = worker_env(WORKER_SERVER__PORT=port)
    result = run_worker("healthcheck", cwd=tmp_path, env=environ)
    assert result.returncode == 1 and "answered 503" in result.stdout
    http_server.routes["/healthz"] = Response(200, b'{"status": "ok"}')
    assert run_worker("healthcheck", cwd=tmp_path, env=environ).returncode == 0
