"""The topic profile: the words that define what is relevant, and the learned weights.

Everything topical lives in the profile file (``data/profile.toml`` in the
package by default), none of it in code, so the worker serves another topic
by swapping the file. The file defines term groups by role:

* ``[[topic]]``: what the topic is; each group's ``label`` becomes an item topic.
* ``[[event]]``: the kinds of event that count.
* ``[[cue]]``: signs of an event held and taught, each with a ``kind``
  (``act``, ``curriculum``, ``trainee``, ``registration``, ``industry``).
* ``[[lookalike]]``: classes of reports that share the vocabulary but are not
  what we follow (job ads, expos, training on another subject...).
* ``[[ignore]]``: phrases that contain our words but mean something else
  ("of course", "training data"); they are matched so that their words are not.
* ``[event_names] heads``: nouns that end an event's name ("training series",
  "培训班"), used to pull the event title out of the text.

A group has a ``label``, ``terms`` in any language and optionally
``weak = true`` (a word that counts only next to others) or, for a topic,
``general = true`` (a word said of other fields too: the topic only where no
other field is named). The relevance
stage turns where the groups occur into features; their weights come from
the JSON file ``weights`` names (``weights.json`` beside the profile, or the
packaged one), which ``worker train`` writes.

:func:`load_profile` is the only function here that reads files; it also
reads the gazetteer and compiles every pattern once, so scoring is pure and fast.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from worker.pipeline.gazetteer import Gazetteer, parse_gazetteer
from worker.pipeline.learn import LinearModel, models_from_json
from worker.pipeline.terms import TermMatcher, compile_terms, term_key

DATA = Path(__file__).parent / "data"
#: The profile shipped with the package, used when the configuration names none.
DEFAULT_PROFILE = DATA / "profile.toml"
#: The gazetteer shipped with the package, used when the profile names none.
DEFAULT_GAZETTEER = DATA / "gazetteer.json"
#: The learned weights beside a profile, when the profile names no file.
WEIGHTS_NAME = "weights.json"
#: The weights shipped with the package: a profile without its own uses these.
DEFAULT_WEIGHTS = DATA / WEIGHTS_NAME
#: The roles of term groups, in the order features are listed.
ROLES = ("topic", "event", "cue", "lookalike", "ignore")
#: The kinds a ``[[cue]]`` group may have.
CUE_KINDS = ("act", "curriculum", "trainee", "registration", "industry")
#: A report is relevant from this probability on, unless the profile says otherwise.
DEFAULT_THRESHOLD = 0.5


@dataclass(frozen=True, slots=True)
class TermGroup:
    """Synonymous terms that count as one signal."""

    role: str
    label: str
    terms: tuple[str, ...]
    #: A word that counts only next to others ("training", "digital transformation").
    weak: bool = False
    #: For a ``cue``: which sign it is (``act``, ``curriculum``...).
    kind: str = ""
    #: The feature name this group feeds (see ``feature_name``), set by the loader.
    feature: str = ""
    #: A topic word said of other fields too ("digital twin" of a city): the topic
    #: only where no other field is named (weak groups are general too).
    general: bool = False


def feature_name(role: str, label: str, *, weak: bool = False, kind: str = "") -> str:
    """The feature a group feeds: its role, or its kind / label; "" for ``[[ignore]]``."""
    if role == "ignore":
        return ""
    if role == "cue":
        return f"cue:{kind}"
    if role == "lookalike":
        return f"not:{label}"
    return f"{role}~weak" if weak else role


@dataclass(frozen=True, slots=True)
class Profile:
    """A compiled topic profile; build it with :func:`load_profile`."""

    name: str
    #: The probability from which a report is relevant.
    threshold: float = DEFAULT_THRESHOLD
    groups: tuple[TermGroup, ...] = ()
    #: Lowercased nouns that end an event's name ("workshop", "培训班").
    event_heads: tuple[str, ...] = ()
    #: Term key (lowercased, without wildcards) -> index into ``groups``.
    term_index: dict[str, int] = field(default_factory=dict)
    matcher: TermMatcher = field(default_factory=lambda: compile_terms(()))
    gazetteer: Gazetteer = field(default_factory=Gazetteer)
    #: ``event_heads`` compiled into one pattern.
    head_matcher: TermMatcher = field(default_factory=lambda: compile_terms(()))
    #: Learned judgements by name ("relevance", "dates", "places"), from ``weights``.
    models: dict[str, LinearModel] = field(default_factory=dict)
    #: Where the learned weights were read from (and ``worker train`` writes them).
    weights_path: Path | None = None
    #: A hash of the profile, its weights and its gazetteer as read: part of every
    #: raw hash, so that items made with other words or weights are made again.
    version: str = ""

    def labels(self, role: str) -> tuple[str, ...]:
        """The labels of the groups of ``role``, in file order."""
        return tuple(g.label for g in self.groups if g.role == role)


def _bad(path: Path, key: str, what: str) -> ValueError:
    return ValueError(f"{path}: key '{key}' {what}")


def _number(value: Any, path: Path, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _bad(path, key, f"must be a number, got {value!r}")
    return float(value)


def _group(raw: Any, role: str, path: Path, key: str) -> TermGroup:
    if not isinstance(raw, dict):
        raise _bad(path, key, "must be a table with a label and terms")
    label = raw.get("label")
    if not isinstance(label, str) or not label.strip():
        raise _bad(path, f"{key}.label", "must be a non-empty string")
    terms = raw.get("terms")
    if (
        not isinstance(terms, list)
        or not terms
        or not all(isinstance(t, str) and term_key(t).strip() for t in terms)
    ):
        raise _bad(path, f"{key}.terms", "must be a non-empty list of non-empty strings")
    weak, general = raw.get("weak", False), raw.get("general", False)
    for name, value in (("weak", weak), ("general", general)):
        if not isinstance(value, bool):
            raise _bad(path, f"{key}.{name}", "must be true or false")
    kind = raw.get("kind", "")
    if role == "cue" and kind not in CUE_KINDS:
        raise _bad(path, f"{key}.kind", f"must be one of {list(CUE_KINDS)}, got {kind!r}")
    label = label.strip()
    feature = feature_name(role, label, weak=weak, kind=kind)
    terms_ = tuple(t.strip() for t in terms)
    return TermGroup(role, label, terms_, weak, kind, feature, general or weak)


def _parse_groups(data: dict[str, Any], path: Path) -> list[TermGroup]:
    if "axes" in data or "negative" in data:
        raise _bad(
            path, "axes" if "axes" in data else "negative",
            "belongs to the old profile format: use [[topic]], [[event]], [[cue]] and "
            "[[lookalike]] groups (see the packaged data/profile.toml)",
        )  # fmt: skip
    groups: list[TermGroup] = []
    for role in ROLES:
        tables = data.get(role, [])
        if not isinstance(tables, list):
            raise _bad(path, role, f"must be an array of tables ([[{role}]])")
        groups += [_group(t, role, path, f"{role}[{i}]") for i, t in enumerate(tables)]
    for role in ("topic", "event"):
        if not any(g.role == role for g in groups):
            raise _bad(path, role, f"needs at least one [[{role}]] group")
    return groups


def _index(groups: list[TermGroup], path: Path) -> dict[str, int]:
    index: dict[str, int] = {}
    for i, group in enumerate(groups):
        for term in group.terms:
            key = term_key(term.lower())
            if key in index and index[key] != i:
                other = groups[index[key]].label
                raise _bad(path, f"{group.role}.terms", f"repeats {term!r} (also in {other!r})")
            index[key] = i
    return index


def _load_gazetteer(data: dict[str, Any], path: Path, version: Any) -> Gazetteer:
    name = data.get("gazetteer")
    if name is not None and not isinstance(name, str):
        raise _bad(path, "gazetteer", "must be a path (relative to the profile) or absent")
    gaz_path = (path.parent / name) if name else DEFAULT_GAZETTEER
    try:
        source = gaz_path.read_bytes()
        gazetteer = parse_gazetteer(source, where=str(gaz_path))
    except (OSError, ValueError) as e:
        raise _bad(path, "gazetteer", f"names an unreadable file {gaz_path}: {e}") from e
    version.update(source)
    return gazetteer


def weights_path(data: dict[str, Any], path: Path) -> Path:
    """The weights file the profile names (relative to it), else ``weights.json`` beside it."""
    name = data.get("weights", WEIGHTS_NAME)
    if not isinstance(name, str) or not name:
        raise _bad(path, "weights", "must be a path relative to the profile")
    return path.parent / name


def _load_models(
    data: dict[str, Any], path: Path, version: Any
) -> tuple[dict[str, LinearModel], Path]:
    """The learned models: the profile's own file, else the packaged weights."""
    own = weights_path(data, path)
    found = own if own.exists() or "weights" in data else DEFAULT_WEIGHTS
    if not found.exists() and found == DEFAULT_WEIGHTS:
        return {}, own  # nothing learned yet: the stages use their fallbacks
    try:
        text = found.read_text(encoding="utf-8")
        raw = json.loads(text)
    except (OSError, ValueError) as e:
        raise _bad(path, "weights", f"names an unreadable file {found}: {e}") from e
    version.update(text.encode("utf-8"))
    return models_from_json(raw, where=str(found)), own


def load_profile(path: Path, *, threshold: float | None = None) -> Profile:
    """Read and compile the profile at ``path``; ``threshold`` overrides the file's."""
    try:
        source = path.read_text(encoding="utf-8")
        data = tomllib.loads(source)
    except OSError as e:
        raise ValueError(f"{path}: cannot read the profile: {e}") from e
    except tomllib.TOMLDecodeError as e:
        raise ValueError(f"{path}: not valid TOML: {e}") from e
    groups = _parse_groups(data, path)
    index = _index(groups, path)
    heads = data.get("event_names", {}).get("heads", [])
    if not isinstance(heads, list) or not all(isinstance(h, str) for h in heads):
        raise _bad(path, "event_names.heads", "must be a list of strings")
    file_threshold = _number(data.get("threshold", DEFAULT_THRESHOLD), path, "threshold")
    if not 0.0 < file_threshold < 1.0:
        raise _bad(path, "threshold", f"must be a probability in (0, 1), got {file_threshold}")
    version = hashlib.blake2b(source.encode("utf-8"), digest_size=8)
    models, own_weights = _load_models(data, path, version)
    gazetteer = _load_gazetteer(data, path, version)
    name = data.get("name", path.stem)
    if not isinstance(name, str):
        raise _bad(path, "name", "must be a string")
    terms = [t.lower() for g in groups for t in g.terms]
    return Profile(
        name=name,
        threshold=threshold if threshold is not None else file_threshold,
        groups=tuple(groups),
        event_heads=tuple(h.lower() for h in heads),
        term_index=index,
        matcher=compile_terms(terms),
        gazetteer=gazetteer,
        head_matcher=compile_terms(h.lower() for h in heads),
        models=models,
        weights_path=own_weights,
        version=version.hexdigest(),
    )
