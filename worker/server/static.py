"""The published files, held in memory: read once when they change, never per request.

``StaticSite.refresh`` compares each file's size and mtime with what it holds
and reads only what changed (the publisher writes atomically, so a file is
either the old bytes or the new ones). The worker refreshes it after each
publish, and a timer does so every few seconds for files another replica or
``worker once`` wrote. A request only looks a name up in a dict: no path ever
reaches the file system, so no request can walk out of the folder.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import os
import stat
import threading
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("worker.server")

CONTENT_TYPES = {
    "atom.xml": "application/atom+xml; charset=utf-8",
    "rss.xml": "application/rss+xml; charset=utf-8",
    ".json": "application/feed+json; charset=utf-8",
    ".ics": "text/calendar; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".xml": "application/xml; charset=utf-8",
    ".png": "image/png",
    ".css": "text/css; charset=utf-8",
}
#: Smaller bodies are not worth compressing.
GZIP_MIN_BYTES = 512
#: Files larger than this are not served from memory (the publisher writes nothing near it).
MAX_FILE_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class StaticFile:
    body: bytes
    #: Strong ETag from the bytes (RFC 9110 §8.8.3).
    etag: str
    mtime: float
    content_type: str
    #: The gzip representation, with its own strong ETag (§8.8.3.3); None when too small.
    gzipped: bytes | None
    gzip_etag: str

    @property
    def etags(self) -> tuple[str, ...]:
        """Both representations' tags: either revalidates, they stand for the same bytes."""
        return (self.etag, self.gzip_etag)


def content_type(name: str) -> str:
    name = Path(name).name
    if name in CONTENT_TYPES:
        return CONTENT_TYPES[name]
    return CONTENT_TYPES.get(Path(name).suffix, "application/octet-stream")


def make_static_file(body: bytes, *, mtime: float, name: str) -> StaticFile:
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    return StaticFile(
        body=body,
        etag=etag,
        mtime=mtime,
        content_type=content_type(name),
        gzipped=gzip.compress(body, mtime=0) if len(body) >= GZIP_MIN_BYTES else None,
        gzip_etag=etag[:-1] + '-gzip"',
    )


class StaticSite:
    """The files under one folder by their relative path (``zh/atom.xml``), in memory."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._files: dict[str, StaticFile] = {}
        self._stamps: dict[str, tuple[int, int]] = {}
        self._lock = threading.Lock()  # one refresh at a time; readers never wait

    def get(self, name: str) -> StaticFile | None:
        return self._files.get(name)

    def refresh(self) -> list[str]:
        """Read the files that changed since the last refresh; return their names."""
        with self._lock:
            found = dict(self._scan())
            files = {n: f for n, f in self._files.items() if n in found}
            changed = []
            for name, (stamp, path) in found.items():
                if self._stamps.get(name) == stamp and name in files:
                    continue
                try:
                    body = path.read_bytes()
                except OSError as e:  # gone between the scan and the read: next time
                    log.warning("static: cannot read %s: %s", path, e.strerror)
                    continue
                files[name] = make_static_file(body, mtime=stamp[0] / 1e9, name=name)
                self._stamps[name] = stamp
                changed.append(name)
            removed = self._files.keys() - files.keys()
            # One assignment: a request sees the old set or the new one, never half.
            self._files = files
            for name in removed:
                self._stamps.pop(name, None)
            return changed + sorted(removed)

    def _scan(self) -> list[tuple[str, tuple[tuple[int, int], Path]]]:
        found = []
        for folder, dirs, names in os.walk(self.root):
            # Hidden entries are the publisher's temp files, or not ours to serve.
            dirs[:] = [d for d in dirs if not d.startswith(".")]
            for name in names:
                if name.startswith("."):
                    continue
                path = Path(folder, name)
                try:
                    info = path.lstat()
                except OSError:
                    continue
                # Regular files only: a symlink could point anywhere on the machine.
                if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_FILE_BYTES:
                    continue
                relative = path.relative_to(self.root).as_posix()
                found.append((relative, ((info.st_mtime_ns, info.st_size), path)))
        return found
