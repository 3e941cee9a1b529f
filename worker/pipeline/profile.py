"""The topic profile: the weighted terms that say what is relevant, loaded from TOML.

Everything topical lives in the profile file (``config/profile.toml`` by
default), none of it in code, so the worker serves another topic by swapping
the file. The file defines:

* ``[axes]``: the axes a document is scored on and the minimum each needs,
  e.g. ``topic = 3.0`` and ``event = 3.0``; a document is relevant only when
  every axis reaches its minimum *and* the total reaches ``threshold``.
* ``[[<axis>]]`` tables (``[[topic]]``, ``[[event]]``): term groups, each with
  a ``label`` (shown as a topic, e.g. "smart manufacturing"), a ``weight`` and
  ``terms`` in any language.
* ``[[negative]]`` tables: groups that subtract their weight from the axis
  named by ``against`` (an expo is not a training event).
* ``[event_names] heads``: nouns that end an event's name ("training series",
  "培训班"), used to pull the event title out of the text.

:func:`load_profile` is the only function here that reads a file; it also
reads the gazetteer and compiles every pattern once, so scoring is pure and fast.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from worker.pipeline.gazetteer import Gazetteer, parse_gazetteer
from worker.pipeline.learn import LinearModel, models_from_json
from worker.pipeline.terms import TermMatcher, compile_terms

#: The gazetteer shipped with the package, used when the profile names none.
DEFAULT_GAZETTEER = Path(__file__).parent / "data" / "gazetteer.json"
#: The learned weights beside the profile, used when the profile names no file.
DEFAULT_WEIGHTS = "weights.json"
#: Tables of the profile that are not term-group axes.
_RESERVED = frozenset({"axes", "negative", "event_names"})

DEFAULT_TITLE_WEIGHT = 2.0
DEFAULT_REPEAT_BONUS = 0.5
DEFAULT_MAX_BODY_FACTOR = 2.0


@dataclass(frozen=True, slots=True)
class TermGroup:
    """Synonymous terms that count as one signal on one axis."""

    axis: str
    label: str
    weight: float
    terms: tuple[str, ...]
    #: True for a ``[[negative]]`` group: its weight is subtracted from ``axis``.
    negative: bool = False


@dataclass(frozen=True, slots=True)
class Profile:
    """A compiled topic profile; build it with :func:`load_profile`."""

    name: str
    #: Total score a relevant document must reach (after every axis reached its minimum).
    threshold: float
    #: Axis name -> minimum score on that axis, in file order.
    axes: dict[str, float] = field(default_factory=dict)
    groups: tuple[TermGroup, ...] = ()
    #: A term in the title counts this many times its weight.
    title_weight: float = DEFAULT_TITLE_WEIGHT
    #: Each repeated body mention of a group adds this fraction of its weight ...
    repeat_bonus: float = DEFAULT_REPEAT_BONUS
    #: ... up to this multiple of its weight.
    max_body_factor: float = DEFAULT_MAX_BODY_FACTOR
    #: Lowercased nouns that end an event's name ("workshop", "培训班").
    event_heads: tuple[str, ...] = ()
    #: Lowercased term -> index into ``groups``.
    term_index: dict[str, int] = field(default_factory=dict)
    matcher: TermMatcher = field(default_factory=lambda: compile_terms(()))
    gazetteer: Gazetteer = field(default_factory=Gazetteer)
    #: ``event_heads`` compiled into one pattern.
    head_matcher: TermMatcher = field(default_factory=lambda: compile_terms(()))
    #: Learned judgements by name ("relevance", "dates", "places"), from ``weights``.
    models: dict[str, LinearModel] = field(default_factory=dict)
    #: Where the learned weights were read from (and ``worker train`` writes them).
    weights_path: Path | None = None

    def labels(self, axis: str) -> tuple[str, ...]:
        """The labels of the positive groups of ``axis``, in file order."""
        return tuple(g.label for g in self.groups if g.axis == axis and not g.negative)


def _bad(path: Path, key: str, what: str) -> ValueError:
    return ValueError(f"{path}: key '{key}' {what}")


def _number(value: Any, path: Path, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _bad(path, key, f"must be a number, got {value!r}")
    return float(value)


def _group(raw: Any, axis: str, path: Path, key: str, *, negative: bool) -> TermGroup:
    if not isinstance(raw, dict):
        raise _bad(path, key, "must be a table with label, weight and terms")
    label = raw.get("label")
    if not isinstance(label, str) or not label.strip():
        raise _bad(path, f"{key}.label", "must be a non-empty string")
    weight = _number(raw.get("weight"), path, f"{key}.weight")
    if weight <= 0:
        raise _bad(path, f"{key}.weight", "must be positive (negative groups subtract it)")
    terms = raw.get("terms")
    if (
        not isinstance(terms, list)
        or not terms
        or not all(isinstance(t, str) and t.strip() for t in terms)
    ):
        raise _bad(path, f"{key}.terms", "must be a non-empty list of non-empty strings")
    if negative:
        axis = raw.get("against", axis)
    return TermGroup(axis, label.strip(), weight, tuple(t.strip() for t in terms), negative)


def _parse_groups(data: dict[str, Any], axes: dict[str, float], path: Path) -> list[TermGroup]:
    groups: list[TermGroup] = []
    for axis in axes:
        tables = data.get(axis)
        if not isinstance(tables, list) or not tables:
            raise _bad(path, axis, "must be an array of tables ([[" + axis + "]]) with terms")
        groups += [
            _group(t, axis, path, f"{axis}[{i}]", negative=False) for i, t in enumerate(tables)
        ]
    for i, table in enumerate(data.get("negative", [])):
        group = _group(table, "", path, f"negative[{i}]", negative=True)
        if group.axis not in axes:
            raise _bad(path, f"negative[{i}].against", f"must name one of the axes {list(axes)}")
        groups.append(group)
    return groups


def _index(groups: list[TermGroup], path: Path) -> dict[str, int]:
    index: dict[str, int] = {}
    for i, group in enumerate(groups):
        for term in group.terms:
            key = term.lower()
            if key in index and index[key] != i:
                other = groups[index[key]].label
                raise _bad(path, f"{group.axis}.terms", f"repeats {term!r} (also in {other!r})")
            index[key] = i
    return index


def _parse_axes(data: dict[str, Any], path: Path) -> dict[str, float]:
    raw = data.get("axes")
    if not isinstance(raw, dict) or not raw:
        raise _bad(path, "axes", "must be a table of axis = minimum score, e.g. topic = 3.0")
    axes = {str(name): _number(v, path, f"axes.{name}") for name, v in raw.items()}
    clash = _RESERVED & set(axes)
    if clash:
        raise _bad(path, "axes", f"must not use the reserved names {sorted(clash)}")
    return axes


def _load_gazetteer(data: dict[str, Any], path: Path) -> Gazetteer:
    name = data.get("gazetteer")
    if name is not None and not isinstance(name, str):
        raise _bad(path, "gazetteer", "must be a path (relative to the profile) or absent")
    gaz_path = (path.parent / name) if name else DEFAULT_GAZETTEER
    try:
        raw = json.loads(gaz_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise _bad(path, "gazetteer", f"names an unreadable file {gaz_path}: {e}") from e
    return parse_gazetteer(raw, where=str(gaz_path))


def weights_path(data: dict[str, Any], path: Path) -> Path:
    """The weights file the profile names (relative to it), else ``weights.json`` beside it."""
    name = data.get("weights", DEFAULT_WEIGHTS)
    if not isinstance(name, str) or not name:
        raise _bad(path, "weights", "must be a path relative to the profile")
    return path.parent / name


def _load_models(data: dict[str, Any], path: Path) -> tuple[dict[str, LinearModel], Path]:
    """The learned models; a profile without a weights file judges by its terms alone."""
    found = weights_path(data, path)
    if not found.exists() and "weights" not in data:
        return {}, found
    try:
        raw = json.loads(found.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise _bad(path, "weights", f"names an unreadable file {found}: {e}") from e
    return models_from_json(raw, where=str(found)), found


def load_profile(path: Path, *, threshold: float | None = None) -> Profile:
    """Read and compile the profile at ``path``; ``threshold`` overrides the file's."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise ValueError(f"{path}: cannot read the profile: {e}") from e
    except tomllib.TOMLDecodeError as e:
        raise ValueError(f"{path}: not valid TOML: {e}") from e
    axes = _parse_axes(data, path)
    groups = _parse_groups(data, axes, path)
    index = _index(groups, path)
    heads = data.get("event_names", {}).get("heads", [])
    if not isinstance(heads, list) or not all(isinstance(h, str) for h in heads):
        raise _bad(path, "event_names.heads", "must be a list of strings")
    file_threshold = _number(data.get("threshold", 0.0), path, "threshold")
    models, found_weights = _load_models(data, path)
    name = data.get("name", path.stem)
    if not isinstance(name, str):
        raise _bad(path, "name", "must be a string")
    return Profile(
        name=name,
        threshold=threshold if threshold is not None else file_threshold,
        axes=axes,
        groups=tuple(groups),
        title_weight=_number(data.get("title_weight", DEFAULT_TITLE_WEIGHT), path, "title_weight"),
        repeat_bonus=_number(data.get("repeat_bonus", DEFAULT_REPEAT_BONUS), path, "repeat_bonus"),
        max_body_factor=_number(
            data.get("max_body_factor", DEFAULT_MAX_BODY_FACTOR), path, "max_body_factor"
        ),
        event_heads=tuple(h.lower() for h in heads),
        term_index=index,
        matcher=compile_terms(index),
        gazetteer=_load_gazetteer(data, path),
        head_matcher=compile_terms(h.lower() for h in heads),
        models=models,
        weights_path=found_weights,
    )
