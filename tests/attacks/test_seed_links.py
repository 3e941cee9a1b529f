"""Attack: the seed folder followed links out of itself.

``ln -s /etc/passwd seeds/passwd.txt`` stored ``/etc/passwd`` as an item, and a
relevant document outside ``seeds/`` reached through a link was published with its
contents. Seed paths are resolved now and must stay inside the folder: a link to
another file of the folder still works, one leading out is refused with the reason.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from tests.conftest import SEED_FILE, SEED_TITLE, run_worker


def test_links_out_of_the_seed_folder_are_refused_with_a_reason(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    (seeds / "sub").mkdir(parents=True)
    outside = tmp_path / "private"
    outside.mkdir()
    secret = outside / "event.txt"
    secret.write_bytes(SEED_FILE.read_bytes())  # relevant: it would be published
    os.symlink(secret, seeds / "leak.txt")
    os.symlink("/etc/passwd", seeds / "passwd.txt")
    os.symlink("../../private/event.txt", seeds / "sub" / "relative.txt")
    os.symlink(outside, seeds / "linked-folder")

    result = run_worker("--log-format", "json", "once", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    errors = {}
    for line in result.stderr.splitlines():
        record = json.loads(line)
        if record.get("status") == "error":
            errors[record["source"]] = record["error"]
    for name in ("leak.txt", "passwd.txt", "sub/relative.txt"):
        assert "refused: a link to " in errors[f"seed:{name}"], errors
        assert "outside the seed folder" in errors[f"seed:{name}"]
    published = (tmp_path / "feeds" / "feed.json").read_text(encoding="utf-8")
    assert json.loads(published)["items"] == []
    assert "root:" not in published


def test_a_link_inside_the_seed_folder_is_followed(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    (seeds / "archive").mkdir(parents=True)
    (seeds / "archive" / "event.txt").write_bytes(SEED_FILE.read_bytes())
    # A hidden original (skipped by the scan) linked from a visible name.
    os.symlink("archive/event.txt", seeds / "current.txt")
    (seeds / "archive" / "event.txt").rename(seeds / "archive" / ".event.txt")
    os.symlink(".event.txt", seeds / "archive" / "event.txt")

    result = run_worker("once", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    feed = json.loads((tmp_path / "feeds" / "feed.json").read_text(encoding="utf-8"))
    [entry] = feed["items"]  # both names lead to one document: one entry
    assert SEED_TITLE in entry["title"]
