"""Podman, driven as an operator drives Docker: build the image, run it, ask its health.

Debian's Podman with runc runs containers as root on these machines (the default crun
fails on their hybrid cgroups, and there is no systemd for its cgroup manager). Two
habits of such a host are handled here rather than in the image:

- The sandbox grants no CAP_SYS_RESOURCE, so the raised default limits Podman asks
  for (open files, processes) are refused by runc; every container gets the host's
  own limits instead.
- Podman times health checks with systemd timers; without systemd nobody runs them,
  so ``Container.check_health`` runs one check, as the timer would at each interval.
"""

from __future__ import annotations

import hashlib
import json
import os
import resource
import shutil
import subprocess
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: The base image's tag when none is given: the stand-in .ci/python-standin builds.
STANDIN = "localhost/python-standin:3.11-bookworm"
#: The image under test, tagged per checkout: worktrees of one machine share Podman's store.
IMAGE = f"localhost/smartmfg-events-worker:test-{hashlib.sha1(bytes(ROOT)).hexdigest()[:8]}"
#: Podman's global options on these machines (see the module's docstring).
GLOBAL_OPTIONS = ("--runtime", "runc", "--cgroup-manager", "cgroupfs")


def host_ulimits() -> list[str]:
    """``--ulimit`` options with this host's own hard limits, which runc may set."""
    nofile = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    nproc = resource.getrlimit(resource.RLIMIT_NPROC)[1]
    # runc is refused a process limit above pid_max (seen at 65536 with pid_max 32768).
    pid_max = int(Path("/proc/sys/kernel/pid_max").read_text())
    nproc = pid_max if nproc == resource.RLIM_INFINITY else min(nproc, pid_max)
    nofile = 1048576 if nofile == resource.RLIM_INFINITY else nofile
    return ["--ulimit", f"nofile={nofile}:{nofile}", "--ulimit", f"nproc={nproc}:{nproc}"]


class PodmanError(AssertionError):
    pass


class Podman:
    def __init__(self) -> None:
        self.ulimits = host_ulimits()

    def __call__(
        self,
        *args: str,
        check: bool = True,
        timeout: float = 120,
        env: dict[str, str] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            ["podman", *GLOBAL_OPTIONS, *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
        )
        if check and result.returncode != 0:
            raise PodmanError(
                f"podman {' '.join(args[:3])}… exited {result.returncode}: "
                + _without_systemd_noise(result.stderr)[-3000:]
            )
        return result

    def cannot_run(self, image: str) -> str | None:
        """None when a container of ``image`` runs here, else why not (one line)."""
        try:
            result = self("run", "--rm", *self.ulimits, image, "true", check=False, timeout=60)
        except (OSError, subprocess.TimeoutExpired) as e:
            return f"podman cannot run a container here: {e}"
        if result.returncode == 0:
            return None
        lines = _without_systemd_noise(result.stderr).strip().splitlines() or ["no output"]
        return f"podman cannot run a container here: {lines[-1]}"

    def build(
        self, *args: str, tag: str, context: Path = ROOT, check: bool = True, timeout: float = 900
    ) -> subprocess.CompletedProcess[str]:
        """Build ``context`` as ``tag``. Docker's format keeps HEALTHCHECK (OCI's has none);
        the host's network reaches the package index the host reaches."""
        return self(
            "build", "--format", "docker", "--network", "host", *self.ulimits,
            *args, "--tag", tag, str(context), timeout=timeout, check=check,
        )  # fmt: skip

    def inspect(self, what: str) -> dict[str, object]:
        return dict(json.loads(self("inspect", what).stdout)[0])

    def exists(self, image: str) -> bool:
        return self("image", "exists", image, check=False).returncode == 0


def _without_systemd_noise(stderr: str) -> str:
    """Podman's complaints that it cannot reach systemd, which this host does not run."""
    return "\n".join(line for line in stderr.splitlines() if "systemd" not in line)


@dataclass
class Container:
    podman: Podman
    name: str

    def state(self) -> dict[str, object]:
        return dict(self.podman.inspect(self.name)["State"])  # type: ignore[arg-type]

    def check_health(self) -> tuple[int, str]:
        """One run of the image's health check: (0 healthy / 1 unhealthy, its output)."""
        result = self.podman("healthcheck", "run", self.name, check=False, timeout=30)
        log = self.state().get("Health", {}).get("Log") or [{}]  # type: ignore[union-attr]
        return result.returncode, str(log[-1].get("Output", "")).strip()

    def health_status(self) -> str:
        return str(self.state().get("Health", {}).get("Status"))  # type: ignore[union-attr]

    def wait_healthy(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while True:
            code, output = self.check_health()
            if code == 0:
                return
            state = self.state()
            if state.get("Status") != "running" or time.monotonic() > deadline:
                raise AssertionError(
                    f"{self.name} not healthy ({state.get('Status')}, last check: {output})\n"
                    + self.logs()[-3000:]
                )
            time.sleep(1)

    def logs(self) -> str:
        result = self.podman("logs", self.name, check=False)
        return result.stdout + _without_systemd_noise(result.stderr)

    def records(self) -> list[dict[str, object]]:
        """The worker's JSON log lines."""
        return [json.loads(line) for line in self.logs().splitlines() if line.startswith("{")]

    def exec(self, *command: str) -> str:
        return self.podman("exec", self.name, *command, timeout=60).stdout


@dataclass
class Containers:
    """Containers and named volumes of one test, removed afterwards."""

    podman: Podman
    image: str
    prefix: str = field(default_factory=lambda: f"worker-test-{uuid.uuid4().hex[:8]}")
    names: list[str] = field(default_factory=list)
    volumes: set[str] = field(default_factory=set)

    def volume(self, name: str) -> str:
        self.volumes.add(f"{self.prefix}-{name}")
        return f"{self.prefix}-{name}"

    def run(
        self,
        name: str,
        *options: str,
        command: Sequence[str] = (),
        env: dict[str, str] | None = None,
    ) -> Container:
        """``podman run -d`` of the image as ``<prefix>-<name>``, with the given options."""
        full = f"{self.prefix}-{name}"
        self.names.append(full)
        self.podman(
            "run", "--detach", "--name", full, *self.podman.ulimits, *options, self.image,
            *command, env=env,
        )  # fmt: skip
        return Container(self.podman, full)

    def remove(self) -> None:
        for name in self.names:
            self.podman("rm", "--force", "--time", "2", name, check=False)
        for volume in self.volumes:
            self.podman("volume", "rm", "--force", volume, check=False)


def podman_or_reason() -> tuple[Podman | None, str]:
    if shutil.which("podman") is None:
        return None, "podman is not installed (.ci/container-setup installs it from Debian)"
    return Podman(), ""


def base_image(podman: Podman) -> str:
    """The Python image to build from: $CONTAINER_PYTHON_IMAGE (python:3.11-slim where a
    registry is reachable), else the stand-in, built once and cached by Podman."""
    given = os.environ.get("CONTAINER_PYTHON_IMAGE")
    if given:
        return given
    result = subprocess.run(
        [str(ROOT / ".ci" / "python-standin")], capture_output=True, text=True, timeout=900
    )
    if result.returncode != 0:
        raise PodmanError(f".ci/python-standin failed: {result.stderr[-3000:]}")
    return result.stdout.strip().splitlines()[-1]
