"""The seed drop folder: documents and feed files placed in ``seeds/``.

Each file is tracked by its path and the hash of its bytes: the caller passes
the hashes it already stored and gets back only what is new or changed, plus
one ``SeedFile`` result per file (ok, unchanged, or error with its reason).
This module reads files; it does not store anything.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from selectolax.lexbor import LexborHTMLParser

from worker.model import Entry
from worker.pipeline.dedup import SEED_PREFIX
from worker.sources.decode import DecodeError, decode_text
from worker.sources.parse import parse_feed

DOCUMENT_TYPES = {
    ".txt": "text/plain",
    ".md": "text/plain",
    ".html": "text/html",
    ".htm": "text/html",
}
FEED_SUFFIXES = {".xml", ".rss", ".atom"}
#: A seed larger than this is refused: it is not a news document.
MAX_SEED_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class SeedFile:
    """The outcome for one file of the drop folder."""

    #: Path relative to the seed folder, with forward slashes: the file's identity.
    path: str
    status: str  # "ok" | "unchanged" | "error"
    content_hash: str | None = None
    error: str | None = None
    entries: tuple[Entry, ...] = field(default=())

    @property
    def source(self) -> str:
        return SEED_PREFIX + self.path


def seed_paths(folder: Path) -> list[Path]:
    """Every file the folder holds that we ingest, in a stable order; hidden files skipped."""
    if not folder.is_dir():
        return []
    suffixes = DOCUMENT_TYPES.keys() | FEED_SUFFIXES
    return sorted(
        p
        for p in folder.rglob("*")
        if p.is_file()
        and p.suffix.lower() in suffixes
        and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    )


def resolve_inside(folder: Path, path: Path) -> Path:
    """``path`` with its links resolved, if that stays inside ``folder``; else OSError.

    A link inside the folder to another file of the folder is fine; one that leads out
    of it (``ln -s /etc/passwd seeds/passwd.txt``) would publish whatever it points at.
    """
    real = path.resolve(strict=True)
    if not real.is_relative_to(folder.resolve(strict=True)):
        raise OutsideFolder(f"refused: a link to {real}, outside the seed folder")
    return real


class OutsideFolder(OSError):
    """A seed path whose links lead out of the seed folder."""


def read_seed(folder: Path, path: Path, known_hashes: Mapping[str, str | None]) -> SeedFile:
    rel = path.relative_to(folder).as_posix()
    try:
        # Read the file the links lead to, as checked: a link swapped meanwhile is not followed.
        real = resolve_inside(folder, path)
        if real.stat().st_size > MAX_SEED_BYTES:
            return SeedFile(rel, "error", error=f"seeds: larger than {MAX_SEED_BYTES} bytes")
        data = real.read_bytes()
    except OutsideFolder as e:
        return SeedFile(rel, "error", error=f"seeds: {e}")
    except OSError as e:
        return SeedFile(rel, "error", error=f"seeds: cannot read: {e.strerror or e}")
    digest = hashlib.sha256(data).hexdigest()
    if known_hashes.get(rel) == digest:
        return SeedFile(rel, "unchanged", content_hash=digest)
    try:
        entries = read_entries(SEED_PREFIX + rel, path.suffix.lower(), data)
    except DecodeError as e:
        return SeedFile(rel, "error", content_hash=digest, error=f"seeds: {e}")
    return SeedFile(rel, "ok", content_hash=digest, entries=tuple(entries))


def read_entries(source: str, suffix: str, data: bytes) -> list[Entry]:
    """The entries one file holds: one for a document, one per item for a feed file."""
    if suffix in FEED_SUFFIXES:
        if not data.strip():
            raise DecodeError("empty file")
        # Feed files carry their own encoding declaration; feedparser reads it.
        result = parse_feed(data, source)
        if not result.entries:
            raise DecodeError(result.error or "no entries in feed file")
        return list(result.entries)
    text, _encoding = decode_text(data)
    content_type = DOCUMENT_TYPES[suffix]
    title = _html_title(text) if content_type == "text/html" else _markdown_title(text, suffix)
    return [
        Entry(
            source=source,
            guid=None,
            link=None,
            title=title,
            content=text,
            content_type=content_type,
        )
    ]


def _html_title(html: str) -> str | None:
    tree = LexborHTMLParser(html)
    for selector in ("h1", "title"):
        node = tree.css_first(selector)
        if node is not None and node.text(strip=True):
            return node.text(strip=True)
    return None


def _markdown_title(text: str, suffix: str) -> str | None:
    if suffix != ".md":
        return None
    for line in text.splitlines():
        if line.startswith("# "):
            return line[2:].strip() or None
    return None
