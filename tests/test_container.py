"""The image, built and run as an operator runs it (README, "Running in a container").

Podman stands in for Docker: the same Dockerfile, the same ``run`` options. The base is
$CONTAINER_PYTHON_IMAGE, or where no registry is reachable the stand-in built by
``.ci/python-standin``. Skipped only where Podman cannot run a container at all; CI
sets REQUIRE_CONTAINER=1, which makes that a failure.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import feedparser
import pytest

from tests.conftest import SEED_TITLE, LocalServer, Response, free_port
from tests.containers import (
    GLOBAL_OPTIONS,
    IMAGE,
    ROOT,
    Container,
    Containers,
    Podman,
    base_image,
)
from tests.containers import podman_or_reason as _podman_or_reason
from tests.test_lock import locked_versions
from tests.test_scale_out import feed_body, feed_path
from worker.store import Store, connect

pytestmark = [pytest.mark.container, pytest.mark.slow, pytest.mark.timeout(900)]

#: Compose's stop_grace_period: `podman stop` sends SIGTERM, then SIGKILL after this.
GRACE = 15
#: What the new seed's entry is titled by (the headline's verb is not part of its name).
NEW_SEED_TITLE = "Suzhou Smart Manufacturing Training Course on Digital Twins"
NEW_SEED = f"""{NEW_SEED_TITLE} Opens

From March 10 to 12, 2025, a smart manufacturing training course on digital twins and
manufacturing execution systems was held in Suzhou, organized by the Suzhou Industrial
Park Administrative Committee. Engineers from 42 factories attended the training, which
covered smart factory planning, industrial internet platforms and predictive maintenance.
"""


@pytest.fixture(scope="session")
def podman() -> Podman:
    found, reason = _podman_or_reason()
    if found is None:
        _skip_or_fail(reason)
    assert found is not None
    base = base_image(found)
    reason = found.cannot_run(base) or ""
    if reason:
        _skip_or_fail(reason)
    found.base = base  # type: ignore[attr-defined]
    return found


def _skip_or_fail(reason: str) -> None:
    if os.environ.get("REQUIRE_CONTAINER") == "1":
        pytest.fail(f"REQUIRE_CONTAINER=1 but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def image(podman: Podman) -> str:
    started = time.monotonic()
    podman.build("--build-arg", f"PYTHON_IMAGE={podman.base}", tag=IMAGE)  # type: ignore[attr-defined]
    size = int(podman.inspect(IMAGE)["Size"])  # type: ignore[call-overload]
    print(f"image {IMAGE}: {size / 1e6:.0f} MB, built in {time.monotonic() - started:.0f} s")
    return IMAGE


@pytest.fixture
def containers(podman: Podman, image: str) -> Iterator[Containers]:
    made = Containers(podman, image)
    yield made
    made.remove()


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:
        return bytes(response.read())


def wait_for(check, timeout: float, what: str, container: Container) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}\n{container.logs()[-3000:]}")
        time.sleep(0.5)


def pip_freeze(podman: Podman, image: str) -> list[str]:
    result = podman("run", "--rm", *podman.ulimits, image, "pip", "freeze", "--all")
    return sorted(result.stdout.splitlines())


# -- the image --------------------------------------------------------------------------


def test_the_image_holds_the_locked_versions_and_runs_as_a_user(podman: Podman, image: str) -> None:
    inspected = podman.inspect(image)
    assert inspected["User"] == "worker"
    check = inspected["Healthcheck"]
    assert check["Test"][-2:] == ["-m", "worker.commands.healthcheck"]  # type: ignore[index]
    assert check["Retries"] == 2  # type: ignore[index]  # unhealthy within two intervals
    installed = {}
    for line in pip_freeze(podman, image):
        name, _, version = line.partition("==")
        if version:
            installed[name.lower().replace("_", "-")] = version
    locked = locked_versions()
    build_only = {"setuptools", "wheel", "pip"}
    assert {k: v for k, v in installed.items() if k not in build_only} == {
        k: v for k, v in locked.items() if k not in build_only
    }
    uid = podman("run", "--rm", *podman.ulimits, image, "id", "-u").stdout.strip()
    assert uid != "0"


def test_a_rebuild_from_nothing_installs_identical_versions(podman: Podman, image: str) -> None:
    """The same commit built again without any cached layer (a build next month)."""
    again = f"{image}-rebuilt"
    podman.build("--no-cache", "--build-arg", f"PYTHON_IMAGE={podman.base}", tag=again)  # type: ignore[attr-defined]
    try:
        assert pip_freeze(podman, again) == pip_freeze(podman, image)
    finally:
        podman("rmi", again, check=False)


# -- as an operator runs it -------------------------------------------------------------


def test_run_publish_pick_up_a_seed_stop_and_restart_with_state(
    tmp_path: Path, containers: Containers
) -> None:
    """`docker run -d` with named volumes, read-only seeds and config, a mapped port."""
    seeds, config = tmp_path / "seeds", tmp_path / "config"
    shutil.copytree(ROOT / "seeds", seeds)
    shutil.copytree(ROOT / "config", config)
    # A subscriber whose endpoint is down: its deliveries stay queued (next try in an
    # hour), so the queue shows whether a restart announced anything again.
    toml = (config / "worker.toml").read_text(encoding="utf-8")
    toml = re.sub(r"(?m)^retry_schedule = .*$", "retry_schedule = [3600]", toml)
    toml += '\n[[webhooks]]\nname = "crm"\nurl = "http://127.0.0.1:9/hook"\n'
    (config / "worker.toml").write_text(toml + 'secret = "env:HOOK_SECRET"\n', encoding="utf-8")
    port = free_port()
    worker = containers.run(
        "worker",
        "--publish", f"127.0.0.1:{port}:8080",
        "--volume", f"{containers.volume('data')}:/app/data",
        "--volume", f"{containers.volume('feeds')}:/app/feeds",
        "--volume", f"{seeds}:/app/seeds:ro",
        "--volume", f"{config}:/app/config:ro",
        "--env", "HOOK_SECRET=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "--env", "WORKER_DELIVERY__ALLOW_PRIVATE_TARGETS=true",
        "--env", "WORKER_SCHEDULE__SEEDS_EVERY=2",
        "--stop-timeout", str(GRACE),
    )  # fmt: skip
    worker.wait_healthy()
    atom = f"http://127.0.0.1:{port}/feeds/atom.xml"
    titles = [e.title for e in feedparser.parse(fetch(atom)).entries]
    assert any(SEED_TITLE in t for t in titles), titles

    (seeds / "suzhou-course.txt").write_text(NEW_SEED, encoding="utf-8")
    wait_for(
        lambda: any(NEW_SEED_TITLE in e.title for e in feedparser.parse(fetch(atom)).entries),
        30,
        "the new seed to be published",
        worker,
    )
    before = feedparser.parse(fetch(atom)).entries
    wait_for(lambda: queue(worker)["failed"] == 2, 30, "both deliveries to be tried", worker)
    announced = queue(worker)

    started = time.monotonic()
    containers.podman("stop", "--time", str(GRACE), worker.name, timeout=GRACE + 30)
    took = time.monotonic() - started
    state = worker.state()
    assert state["ExitCode"] == 0, worker.logs()[-3000:]
    assert took < GRACE, f"stopping took {took:.1f} s: SIGTERM was not enough"

    containers.podman("start", worker.name)
    worker.wait_healthy()
    # A cycle after the restart: the seeds are scanned again and find nothing new.
    scans = sum(1 for r in worker.records() if str(r.get("source", "")).startswith("seed:"))
    wait_for(
        lambda: (
            sum(1 for r in worker.records() if str(r.get("source", "")).startswith("seed:")) > scans
        ),
        30,
        "a seed scan after the restart",
        worker,
    )
    after = feedparser.parse(fetch(atom)).entries
    assert sorted((e.id, e.title) for e in after) == sorted((e.id, e.title) for e in before)
    assert len({e.id for e in after}) == len(after) == 2
    assert queue(worker) == announced  # nothing announced again


def queue(worker: Container) -> dict[str, int]:
    """The subscriber's deliveries by state, as `worker webhooks list` counts them."""
    (line,) = worker.exec("worker", "webhooks", "list").splitlines()
    counts = json.loads(line)
    return {k: counts[k] for k in ("delivered", "pending", "failed", "dead")}


# -- health -----------------------------------------------------------------------------


def test_the_health_check_follows_the_port(containers: Containers) -> None:
    port = free_port()
    worker = containers.run(
        "moved",
        "--publish", f"127.0.0.1:{port}:9090",
        "--env", "WORKER_SERVER__PORT=9090",
    )  # fmt: skip
    worker.wait_healthy()
    assert worker.health_status() == "healthy"
    assert b'"ok"' in fetch(f"http://127.0.0.1:{port}/healthz")


def test_a_lock_that_misses_a_requirement_stops_the_build(
    tmp_path: Path, podman: Podman, image: str
) -> None:
    """A dependency added to pyproject.toml without `make lock`: the build fails and
    says so, instead of installing whatever the index serves."""
    for name in ("pyproject.toml", "README.md", "requirements.lock", "Dockerfile", ".dockerignore"):
        shutil.copy(ROOT / name, tmp_path / name)
    for folder in ("worker", "config", "seeds"):
        shutil.copytree(
            ROOT / folder, tmp_path / folder, ignore=shutil.ignore_patterns("__pycache__")
        )
    pyproject = (tmp_path / "pyproject.toml").read_text(encoding="utf-8")
    pyproject = pyproject.replace("dependencies = [\n", 'dependencies = [\n    "six>=1.16",\n', 1)
    (tmp_path / "pyproject.toml").write_text(pyproject, encoding="utf-8")
    tag = f"{image}-unlocked"
    result = podman.build(
        "--build-arg", f"PYTHON_IMAGE={podman.base}", tag=tag, context=tmp_path, check=False
    )  # type: ignore[attr-defined]
    podman("rmi", tag, check=False)
    assert result.returncode != 0
    assert (
        "requirements.lock does not satisfy pyproject.toml: run 'make lock'"
        in result.stderr + result.stdout
    )
    assert "six" in result.stderr + result.stdout


# -- scale-out --------------------------------------------------------------------------

#: The farm: feeds, and seconds between checks of each (the replicas' shared schedule).
FARM_FEEDS, PERIOD = 20, 8.0


class TimedFarm(LocalServer):
    """The scale-out test's feeds on a real local server, each GET's time recorded."""

    def __init__(self, feeds: int) -> None:
        super().__init__()
        self.lock = threading.Lock()
        self.gets: dict[str, list[float]] = {feed_path(n): [] for n in range(feeds)}
        for n in range(feeds):
            self.routes[feed_path(n)] = self._serve(n)

    def _serve(self, n: int):  # type: ignore[no-untyped-def]
        body = feed_body(n, 1)
        etag = f'"farm-{n}"'

        def route(handler) -> Response:  # type: ignore[no-untyped-def]
            with self.lock:
                self.gets[feed_path(n)].append(time.monotonic())
            if handler.headers.get("If-None-Match") == etag:
                return Response(304, b"", {"ETag": etag})
            return Response(200, body, {"ETag": etag, "Content-Type": "application/rss+xml"})

        return route


def test_two_replicas_on_postgresql_fetch_each_feed_once_per_cycle(
    tmp_path: Path, containers: Containers, postgres_url: str
) -> None:
    """The scale-out path of docker-compose.postgres.yml: two replicas of the image on
    one PostgreSQL (the host's, its password given as PGPASSWORD from the environment),
    sharing a farm of feeds on loopback. No feed is fetched twice within its period."""
    farm = TimedFarm(FARM_FEEDS)
    (tmp_path / "seeds").mkdir()
    (tmp_path / "config").mkdir()
    feeds = "".join(
        f'\n[[feeds]]\nurl = "{farm.url}{feed_path(n)}"\nevery = {PERIOD}\n'
        for n in range(FARM_FEEDS)
    )
    (tmp_path / "config" / "worker.toml").write_text(
        f"[schedule]\nfeeds_every = 1\n\n[fetch]\nadaptive = false\nmin_interval = 1\n"
        f"concurrency = 2\nparse_workers = 1\n{feeds}",
        encoding="utf-8",
    )
    environ = {**os.environ, "PGPASSWORD": "not-needed-by-trust-auth-but-passed-as-compose-does"}
    replicas: list[Container] = []
    try:
        for index in range(2):
            replicas.append(
                containers.run(
                    f"replica{index}",
                    # The host's loopback: its PostgreSQL and the farm.
                    "--network",
                    "host",
                    "--volume",
                    f"{tmp_path / 'seeds'}:/app/seeds:ro",
                    "--volume",
                    f"{tmp_path / 'config'}:/app/config:ro",
                    "--env",
                    f"WORKER_DATABASE_URL={postgres_url}",
                    "--env",
                    "PGPASSWORD",
                    "--env",
                    "WORKER_SERVER__HOST=127.0.0.1",
                    "--env",
                    f"WORKER_SERVER__PORT={free_port()}",
                    env=environ,
                )  # fmt: skip
            )
        for replica in replicas:
            replica.wait_healthy()
        # Both serve; every feed gets two more periods after the slower one is up.
        time.sleep(2.5 * PERIOD)
        for replica in replicas:
            containers.podman("stop", "--time", str(GRACE), replica.name, timeout=GRACE + 30)
            assert replica.state()["ExitCode"] == 0, replica.logs()[-3000:]
    finally:
        farm.close()
    logged = [
        r
        for replica in replicas
        for r in replica.records()
        if str(r.get("source", "")).startswith("http")
    ]
    with farm.lock:
        gets = {path: sorted(times) for path, times in farm.gets.items()}
    assert sum(len(times) for times in gets.values()) == len(logged)
    shares = [
        sum(1 for r in replica.records() if str(r.get("source", "")).startswith("http"))
        for replica in replicas
    ]
    print(f"feed checks by replica: {shares}")
    for path, times in gets.items():
        assert times, f"{path} never fetched"
        gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
        assert min(gaps, default=PERIOD) > 0.75 * PERIOD, (
            f"{path} fetched twice in a period: {gaps}"
        )
    # Every feed is due again within the window, and most are checked again in it.
    assert sum(len(times) >= 2 for times in gets.values()) >= FARM_FEEDS // 2, gets
    store = Store(connect(postgres_url))
    try:
        assert store.count_items() == FARM_FEEDS
    finally:
        store.engine.dispose()


# -- an unhealthy worker ----------------------------------------------------------------

#: Answers every request 503, on the port the settings give: /healthz of a worker
#: whose job keeps failing, for the image's own health check to judge.
ANSWERS_503 = """
import http.server, os, signal, sys
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
class Failing(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(503)
        self.end_headers()
        self.wfile.write(b'{"status": "failing", "job": "publish"}')
port = int(os.environ["WORKER_SERVER__PORT"])
http.server.HTTPServer(("", port), Failing).serve_forever()
"""


def restarted_when_unhealthy(image: str, podman: Podman, start_period: float) -> list[str]:
    """`restart: unless-stopped`, and Podman's restart of an unhealthy container (Docker
    restarts only what exits). Podman applies health options only with a command: the
    image's own command and retries, a shorter start period."""
    check = podman.inspect(image)["Healthcheck"]
    return [
        "--restart", "unless-stopped",
        "--health-on-failure", "restart",
        "--health-cmd", json.dumps(check["Test"][1:]),  # type: ignore[index]
        "--health-retries", str(check["Retries"]),  # type: ignore[index]
        "--health-start-period", f"{start_period}s",
    ]  # fmt: skip


def assert_unhealthy_in_two_checks_then_restarted(worker: Container, timeout: float) -> None:
    """Checks one interval apart, as the runtime's timer runs them: the first counted
    check that meets a 503 is one failure, the second makes the container unhealthy,
    and it is restarted."""
    started = worker.state()["StartedAt"]
    deadline = time.monotonic() + timeout
    while True:
        code, output = worker.check_health()
        streak = worker.state()["Health"]["FailingStreak"]  # type: ignore[index]
        if code == 1 and streak == 1:
            break
        assert time.monotonic() < deadline, f"no failed check ({output})\n{worker.logs()[-3000:]}"
        time.sleep(1)
    assert "503" in output, output
    assert worker.state()["StartedAt"] == started  # one failed check is not enough
    code, output = worker.check_health()
    assert code == 1 and "503" in output, output
    wait_for(
        lambda: worker.state()["StartedAt"] != started and worker.state()["Status"] == "running",
        30,
        "the unhealthy container to be restarted",
        worker,
    )


def test_a_503_is_unhealthy_after_two_checks_and_the_container_restarts(
    containers: Containers, podman: Podman, image: str
) -> None:
    worker = containers.run(
        "failing",
        *restarted_when_unhealthy(image, podman, start_period=1),
        "--env", "WORKER_SERVER__PORT=9191",
        command=["python", "-c", ANSWERS_503],
    )  # fmt: skip
    time.sleep(1.5)  # past the start period
    assert_unhealthy_in_two_checks_then_restarted(worker, timeout=5)


@pytest.mark.xfail(
    strict=True, reason="/healthz answers 200 while publishing keeps failing (no job health yet)"
)
def test_a_worker_that_cannot_publish_turns_unhealthy_and_is_restarted(
    containers: Containers, podman: Podman, image: str
) -> None:
    """The feeds volume mounted read-only: every publish fails, /healthz says 503."""
    worker = containers.run(
        "cannot-publish",
        # Long enough to start: a refused connection before then does not count.
        *restarted_when_unhealthy(image, podman, start_period=10),
        "--volume", f"{containers.volume('feeds')}:/app/feeds:ro",
        "--env", "WORKER_SCHEDULE__PUBLISH_EVERY=1",
    )  # fmt: skip
    assert_unhealthy_in_two_checks_then_restarted(worker, timeout=40)


# -- the compose files ------------------------------------------------------------------


@pytest.fixture
def compose(podman: Podman, image: str) -> Iterator[list[str]]:
    """podman-compose (Debian's 1.0.3) on this host, under a project name of its own;
    the image is the one built here, under the name the compose file gives it."""
    if shutil.which("podman-compose") is None:
        _skip_or_fail("podman-compose is not installed (.ci/container-setup installs it)")
    project = f"worker-test-{os.getpid()}-{time.monotonic_ns() % 10**6}"
    podman("tag", image, "localhost/smartmfg-events-worker:latest")
    command = [
        "podman-compose", "--project-name", project,
        f"--podman-args={' '.join(GLOBAL_OPTIONS)}",
        f"--podman-run-args={' '.join(podman.ulimits)}",
    ]  # fmt: skip
    yield command
    subprocess.run([*command, "down"], capture_output=True, cwd=ROOT, timeout=120)
    for kind in ("volume", "network"):
        listed = podman(
            kind, "ls", "--quiet", "--filter", f"label=io.podman.compose.project={project}"
        )
        for name in listed.stdout.split():
            podman(kind, "rm", "--force", name, check=False)


def test_compose_up_runs_the_worker(compose: list[str], podman: Podman) -> None:
    port = free_port()
    environ = {**os.environ, "HOST_PORTS": f"127.0.0.1:{port}"}
    up = subprocess.run(
        [*compose, "-f", "docker-compose.yml", "up", "-d"],
        capture_output=True, text=True, cwd=ROOT, env=environ, timeout=300,
    )  # fmt: skip
    assert up.returncode == 0, up.stderr[-3000:]
    project = compose[2]
    worker = Container(podman, f"{project}_worker_1")
    assert worker.state()["Status"] == "running"
    worker.wait_healthy()
    titles = [
        e.title for e in feedparser.parse(fetch(f"http://127.0.0.1:{port}/feeds/atom.xml")).entries
    ]
    assert any(SEED_TITLE in t for t in titles), titles


def test_compose_scale_out_file_passes_the_password_from_the_environment(
    compose: list[str],
) -> None:
    """What the override makes of the worker, as podman-compose reads the two files (a dry
    run: PostgreSQL's image is not pulled here)."""
    environ = {**os.environ, "POSTGRES_PASSWORD": "s3cret-from-env", "HOST_PORTS": "8080-8089"}
    files = ["-f", "docker-compose.yml", "-f", "docker-compose.postgres.yml"]
    dry = subprocess.run(
        [*compose, "--dry-run", *files, "up", "-d"],
        capture_output=True, text=True, cwd=ROOT, env=environ, timeout=120,
    )  # fmt: skip
    runs = [line for line in dry.stdout.splitlines() if line.startswith("podman run")]
    (worker,) = [line for line in runs if "com.docker.compose.service=worker" in line]
    assert "-e PGPASSWORD=s3cret-from-env" in worker
    assert "-e WORKER_DATABASE_URL=postgresql+psycopg://worker@postgres:5432/worker" in worker
    assert "-p 8080-8089:8080" in worker and worker.count(" -p ") == 1
    assert "--restart unless-stopped" in worker
    assert "s3cret-from-env" not in worker.split("-e WORKER_DATABASE_URL=")[1].split()[0]
    without = subprocess.run(
        [*compose, "--dry-run", *files, "up", "-d"],
        capture_output=True, text=True, cwd=ROOT, timeout=120,
        env={k: v for k, v in environ.items() if k != "POSTGRES_PASSWORD"},
    )  # fmt: skip
    assert "set POSTGRES_PASSWORD" in without.stdout + without.stderr
