"""The feed sink: render the newest relevant items and write the files that changed."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from worker.config import PublishSettings
from worker.model import StoredItem
from worker.publish.files import write_if_changed
from worker.publish.syndication import render_atom, render_rss


def render_all(stored: Sequence[StoredItem], settings: PublishSettings) -> dict[str, bytes]:
    """Every published file, by its path under the output folder."""
    return {
        "atom.xml": render_atom(stored, settings),
        "rss.xml": render_rss(stored, settings),
    }


def write_all(outputs: dict[str, bytes], folder: Path) -> list[str]:
    """Write each output atomically if it changed; return the names written."""
    return [name for name, data in outputs.items() if write_if_changed(folder / name, data)]
