"""Labelled corpora: documents with the answers a person gave, read as seeds are.

A corpus is a folder with ``labels.toml`` and a ``docs/`` folder of documents
and feed files, read exactly as the seed folder reads them (encoding
detection, HTML titles, feed parsing); each label is keyed by the file's stem
(see ``tests/corpus/labels.toml``). Supplementary labels for a corpus (for
example publication dates for a corpus that does not label them) may come from
a second file with the same layout.

This module only reads; ``evaluate`` scores the pipeline and ``train`` fits it.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from worker.model import Entry
from worker.pipeline.dedup import SEED_PREFIX
from worker.sources.decode import DecodeError
from worker.sources.seeds import DOCUMENT_TYPES, FEED_SUFFIXES, read_entries

LABELS_FILE = "labels.toml"
DOCS_DIR = "docs"
#: The clock of a corpus that names none.
DEFAULT_NOW = "2025-01-01T00:00:00+00:00"


@dataclass(frozen=True, slots=True)
class LabelledDoc:
    """One document of a corpus with its label."""

    name: str
    entry: Entry
    label: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Corpus:
    name: str
    #: The clock the corpus is evaluated with (anchors years a page leaves out).
    now: datetime
    docs: tuple[LabelledDoc, ...]


def _read_labels(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise ValueError(f"{path}: cannot read the labels: {e}") from e


def load_corpus(corpus: Path, *, extra_labels: Path | None = None) -> Corpus:
    """The corpus clock and every labelled document, read as the seed folder reads it.

    ``extra_labels``: a second labels file whose keys are merged into each document's label.
    """
    labels_path = corpus / LABELS_FILE
    labels = _read_labels(labels_path)
    now = datetime.fromisoformat(labels.get("now", DEFAULT_NOW))
    now = now if now.tzinfo else now.replace(tzinfo=UTC)
    docs = labels.get("docs", {})
    extra = _read_labels(extra_labels).get("docs", {}) if extra_labels else {}
    out = []
    for path in sorted((corpus / DOCS_DIR).iterdir()):
        suffix = path.suffix.lower()
        if suffix not in DOCUMENT_TYPES and suffix not in FEED_SUFFIXES:
            continue
        if path.stem not in docs:
            raise ValueError(f"{labels_path}: no label for {path.name} (key 'docs.{path.stem}')")
        try:
            entries = read_entries(SEED_PREFIX + path.name, suffix, path.read_bytes())
        except (OSError, DecodeError) as e:
            raise ValueError(f"{path}: {e}") from e
        # A feed file is labelled by what its first entry says.
        label = {**docs[path.stem], **extra.get(path.stem, {})}
        out.append(LabelledDoc(path.stem, entries[0], label))
    return Corpus(corpus.name, now, tuple(out))
