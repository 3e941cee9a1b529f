"""The topic profile: weighted terms that define what is relevant (loaded from TOML)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Profile:
    name: str
    threshold: float
    topic_terms: dict[str, float]
    event_terms: dict[str, float]


def load_profile(path: Path, *, threshold: float | None = None) -> Profile:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return Profile(
        name=data.get("name", path.stem),
        threshold=threshold if threshold is not None else float(data.get("threshold", 1.0)),
        topic_terms=dict(data.get("topic", {})),
        event_terms=dict(data.get("event", {})),
    )
