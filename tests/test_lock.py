"""requirements.lock pins what the container image installs: it must satisfy
pyproject.toml, or the image would be built from something else than the project asks.

When this fails after a change to the dependencies, run ``make lock``.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements.lock"
#: What the image is built for (the lock's --python-version and --python-platform).
IMAGE_MARKERS = {
    "python_version": "3.11",
    "python_full_version": "3.11.2",
    "sys_platform": "linux",
    "platform_system": "Linux",
    "os_name": "posix",
    "platform_machine": "x86_64",
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
}
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)", re.MULTILINE)


def locked_versions() -> dict[str, str]:
    """Each package the lock pins (canonical name) and its version."""
    return {canonicalize_name(n): v for n, v in PIN.findall(LOCK.read_text(encoding="utf-8"))}


def image_requirements() -> list[Requirement]:
    """What the image installs: the project's dependencies, the ``postgres`` extra and
    the build backend (the project is built with the locked setuptools). The packages
    an extra such as ``psycopg[binary]`` brings are checked by the image build, whose
    resolver may take nothing but the lock (``pip install --no-index``)."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    project = pyproject["project"]
    names = [
        *project["dependencies"],
        *project["optional-dependencies"]["postgres"],
        *pyproject["build-system"]["requires"],
    ]
    return [Requirement(r) for r in names]


def test_the_lock_satisfies_pyproject() -> None:
    locked = locked_versions()
    wrong = []
    for req in image_requirements():
        if req.marker is not None and not req.marker.evaluate(IMAGE_MARKERS):
            continue
        name = canonicalize_name(req.name)
        version = locked.get(name)
        if version is None:
            wrong.append(f"{req} is not in requirements.lock")
        elif not req.specifier.contains(version, prereleases=True):
            wrong.append(f"{req} but requirements.lock pins {name}=={version}")
    assert not wrong, "requirements.lock disagrees with pyproject.toml (run `make lock`):\n" + (
        "\n".join(wrong)
    )


def test_every_pin_carries_its_hashes() -> None:
    text = LOCK.read_text(encoding="utf-8")
    blocks = re.split(r"\n(?=[A-Za-z0-9])", text.split("\n", 2)[-1])
    pins = [b for b in blocks if PIN.match(b)]
    assert pins and all("--hash=sha256:" in b for b in pins)
