"""The seed drop folder: encodings, bad files beside good ones, changes tracked by hash."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import SEED_FILE, make_settings
from worker.jobs import Worker
from worker.sources.decode import DecodeError, decode_text

CHINESE = (
    "关于举办2024年智能制造与数字化转型培训班的通知\n"
    "各有关单位：为推动制造业数字化转型，中国机械工业联合会定于2024年9月12日至14日在苏州举办"
    "智能制造与工业互联网应用培训班。主办单位：中国机械工业联合会。承办单位：苏州工业园区管委会。"
)


@pytest.mark.parametrize(
    "encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-16-le-bom", "gb18030", "gbk"]
)
def test_decode_detects_the_encoding(encoding: str) -> None:
    if encoding == "utf-16-le-bom":
        data = b"\xff\xfe" + CHINESE.encode("utf-16-le")
    else:
        data = CHINESE.encode(encoding)
    text, _ = decode_text(data)
    assert text == CHINESE


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty"),
        (b"  \n\t ", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "binary"),
        (bytes(range(1, 32)) * 50, "binary"),
    ],
)
def test_decode_refuses_what_is_not_text(data: bytes, reason: str) -> None:
    with pytest.raises(DecodeError, match=reason):
        decode_text(data)


@pytest.fixture
def new_worker(db_url: str) -> Iterator[Callable[[Path], Worker]]:
    """Workers on SQLite and on PostgreSQL (``db_url``), closed after the test."""
    made: list[Worker] = []

    def make(root: Path) -> Worker:
        made.append(Worker(make_settings(root, db_url)))
        return made[-1]

    yield make
    for worker in made:
        worker.close()


def test_encodings_empty_and_binary_beside_a_good_file(
    tmp_path: Path, new_worker: Callable[[Path], Worker]
) -> None:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "seed.txt").write_bytes(SEED_FILE.read_bytes())
    (seeds / "gb.txt").write_bytes(CHINESE.encode("gb18030"))
    (seeds / "utf16.md").write_bytes(("# 智能制造培训\n\n" + CHINESE).encode("utf-16"))
    (seeds / "empty.txt").write_bytes(b"")
    (seeds / "image.html").write_bytes(os.urandom(64) + b"\x00" + os.urandom(64))
    (seeds / "notes.pdf").write_bytes(b"%PDF-1.4 ignored: not a seed type")

    worker = new_worker(tmp_path)
    reports = {r.source: r for r in worker.ingest_seeds()}

    assert set(reports) == {
        "seed:seed.txt",
        "seed:gb.txt",
        "seed:utf16.md",
        "seed:empty.txt",
        "seed:image.html",
    }
    assert reports["seed:empty.txt"].status == "error"
    assert "empty" in (reports["seed:empty.txt"].error or "")
    assert reports["seed:image.html"].status == "error"
    assert "binary" in (reports["seed:image.html"].error or "")
    for good in ("seed:seed.txt", "seed:gb.txt", "seed:utf16.md"):
        # Each stored once: gb.txt and utf16.md hold the same text, so the second one
        # joins the first one's entry as a further source (dedup), an "updated".
        assert reports[good].status == "ok"
        assert reports[good].created + reports[good].updated == 1
    assert worker.store.count_items() == 3

    texts = {s.item.doc.source: s.item.doc.text for s in worker.store.items(relevant_only=False)}
    assert "中国机械工业联合会" in texts["seed:gb.txt"]
    # Errors are recorded against their file, with the reason.
    status = {row["path"]: row for row in worker.store.seed_file_status()}
    assert status["empty.txt"]["status"] == "error" and "empty" in str(status["empty.txt"]["error"])


def test_unchanged_file_is_skipped_and_a_changed_one_keeps_its_id(
    tmp_path: Path, new_worker: Callable[[Path], Worker]
) -> None:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    doc = seeds / "event.txt"
    doc.write_bytes(SEED_FILE.read_bytes())
    worker = new_worker(tmp_path)
    assert [r.status for r in worker.ingest_seeds()] == ["ok"]
    (first,) = worker.store.items(relevant_only=False)

    assert [r.status for r in worker.ingest_seeds()] == ["unchanged"]

    doc.write_bytes(
        SEED_FILE.read_bytes() + b"\nUpdated: registration for the second session opens soon.\n"
    )
    (report,) = worker.ingest_seeds()
    assert (report.status, report.created, report.updated) == ("ok", 0, 1)
    (second,) = worker.store.items(relevant_only=False)
    assert second.id == first.id
    assert second.first_seen == first.first_seen
    assert second.updated > first.updated
    assert "second session" in second.item.doc.text

    (seeds / "another.txt").write_text(CHINESE, encoding="utf-8")
    reports = {r.source: r.status for r in worker.ingest_seeds()}
    assert reports == {"seed:another.txt": "ok", "seed:event.txt": "unchanged"}
    assert worker.store.count_items() == 2


def test_a_feed_file_in_the_drop_folder_gives_one_item_per_entry(
    tmp_path: Path, new_worker: Callable[[Path], Worker]
) -> None:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "news.rss").write_text(
        """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>News</title><link>http://example.org/</link>
<description>d</description>
<item><guid>a1</guid><title>Smart manufacturing workshop</title>
<description>One</description></item>
<item><guid>a2</guid><title>Digital twin training course</title>
<description>Two</description></item>
</channel></rss>""",
        encoding="utf-8",
    )
    worker = new_worker(tmp_path)
    (report,) = worker.ingest_seeds()
    assert (report.status, report.created) == ("ok", 2)
