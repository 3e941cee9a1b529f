"""End to end: ``worker once`` as a subprocess, seed document in, Atom and RSS out."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import feedparser

from tests.conftest import (
    SEED_END,
    SEED_FILE,
    SEED_ORGANIZERS,
    SEED_START,
    SEED_TITLE,
    run_worker,
    worker_env,
)


def test_once_publishes_the_seed_event(project_dir: Path) -> None:
    result = run_worker("once", cwd=project_dir)
    assert result.returncode == 0, result.stderr
    assert f"source=seed:{SEED_FILE.name} status=ok" in result.stderr

    for name in ("atom.xml", "rss.xml"):
        parsed = feedparser.parse((project_dir / "feeds" / name).read_bytes())
        assert parsed.bozo == 0, (name, parsed.get("bozo_exception"))
        assert len(parsed.entries) == 1, name
        entry = parsed.entries[0]
        assert SEED_TITLE in entry.title
        body = entry.content[0].value if "content" in entry else entry.description
        assert SEED_START in body and SEED_END in body
        assert "Beijing" in body
        for organizer in SEED_ORGANIZERS:
            assert organizer in body
        assert entry.id.startswith("urn:uuid:")


def test_second_run_changes_nothing(project_dir: Path) -> None:
    assert run_worker("once", cwd=project_dir).returncode == 0
    atom = project_dir / "feeds" / "atom.xml"
    first_bytes, first_mtime = atom.read_bytes(), atom.stat().st_mtime_ns

    again = run_worker("once", cwd=project_dir)
    assert again.returncode == 0, again.stderr
    assert "status=unchanged" in again.stderr
    assert atom.read_bytes() == first_bytes
    assert atom.stat().st_mtime_ns == first_mtime  # not rewritten: ETag and Last-Modified hold


def test_inspect_prints_the_contract(project_dir: Path) -> None:
    result = run_worker("inspect", f"seeds/{SEED_FILE.name}", cwd=project_dir)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1
    item = json.loads(lines[0])
    for key in ("title", "link", "lang", "published", "relevant", "score", "reasons", "event"):
        assert key in item
    assert item["relevant"] is True
    assert isinstance(item["score"], float) and item["reasons"]
    event = item["event"]
    assert set(event) >= {
        "title",
        "start",
        "end",
        "city",
        "country",
        "venue",
        "organizers",
        "participants",
        "topics",
    }
    assert SEED_TITLE in item["title"]
    assert (event["start"], event["end"], event["city"]) == (SEED_START, SEED_END, "Beijing")
    assert set(event["organizers"]) == SEED_ORGANIZERS
    assert "MEZOLEN" in event["participants"]
    assert not (project_dir / "data").exists(), "inspect must store nothing"


def test_inspect_of_a_missing_file_fails_with_a_message(project_dir: Path) -> None:
    result = run_worker("inspect", "seeds/nope.txt", cwd=project_dir)
    assert result.returncode == 1
    assert "nope.txt" in result.stderr


def test_json_logs_one_line_per_source(project_dir: Path) -> None:
    (project_dir / "seeds" / "empty.txt").write_bytes(b"")
    result = run_worker("--log-format", "json", "once", cwd=project_dir)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stderr.splitlines()]
    per_source = {r["source"]: r for r in lines if r["message"] == "source"}
    assert per_source[f"seed:{SEED_FILE.name}"]["status"] == "ok"
    assert per_source["seed:empty.txt"]["status"] == "error"
    assert "empty" in per_source["seed:empty.txt"]["error"]


def test_an_unwritable_output_folder_fails_the_cycle(project_dir: Path) -> None:
    (project_dir / "feeds").write_text("a file where the folder should be")
    result = run_worker("once", cwd=project_dir)
    assert result.returncode == 1
    assert "feeds" in result.stderr.splitlines()[-1]


def test_an_item_rescored_into_the_feed_gets_its_dedup_fingerprint(project_dir: Path) -> None:
    # Stored while a strict profile drops it: kept as dropped, without a MinHash.
    strict = worker_env(WORKER_RELEVANCE__THRESHOLD="1000")
    assert run_worker("once", cwd=project_dir, env=strict).returncode == 0
    atom = project_dir / "feeds" / "atom.xml"
    assert feedparser.parse(atom.read_bytes()).entries == []

    result = run_worker("rescore", cwd=project_dir)
    assert result.returncode == 0, result.stderr
    assert "rescored: 1 items changed" in result.stdout
    (entry,) = feedparser.parse(atom.read_bytes()).entries
    assert SEED_TITLE in entry.title
    with sqlite3.connect(project_dir / "data" / "worker.db") as db:
        ((signature, facts),) = db.execute("SELECT signature, facts FROM items").fetchall()
    assert signature is not None and json.loads(facts)["city"] == "Beijing"
