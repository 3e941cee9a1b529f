"""``worker feeds add|remove|list|import|export`` through the real command line."""

from __future__ import annotations

import json
from pathlib import Path

from lxml import etree

from tests.conftest import LocalServer, Response, run_worker, worker_env

OPML = """<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0"><head><title>mine</title></head><body>
  <outline text="Industry">
    <outline text="Associations">
      <outline type="rss" text="Assoc news" xmlUrl="https://assoc.example/feed.xml"/>
    </outline>
    <outline type="rss" text="Trade press" xmlUrl="https://press.example/rss"/>
  </outline>
  <outline type="rss" text="Loose" xmlUrl="https://loose.example/atom.xml"/>
  <outline type="rss" text="Bad" xmlUrl="ftp://nope.example/x"/>
</body></opml>"""


def feeds(root: Path, *args: str, config: Path | None = None):  # type: ignore[no-untyped-def]
    cfg = ["--config", str(config)] if config else []
    return run_worker(*cfg, "feeds", *args, cwd=root, env=worker_env())


def listed(root: Path, config: Path | None = None) -> dict[str, dict[str, object]]:
    done = feeds(root, "list", config=config)
    assert done.returncode == 0, done.stderr
    return {row["url"]: row for row in map(json.loads, done.stdout.splitlines())}


def test_add_remove_list_and_persist(tmp_path: Path, http_server: LocalServer) -> None:
    http_server.routes["/f.xml"] = Response(
        200,
        b'<rss version="2.0"><channel><title>F</title><item><guid>1</guid><title>one</title>'
        b"<description>x</description></item></channel></rss>",
        {"ETag": '"e1"'},
    )
    url = f"{http_server.url}/f.xml"
    assert feeds(tmp_path, "add", url, "--name", "F", "--category", "news").returncode == 0
    assert "already subscribed" in feeds(tmp_path, "add", url).stdout
    assert feeds(tmp_path, "add", "file:///etc/passwd").returncode == 2
    row = listed(tmp_path)[url]
    assert row["origin"] == "command" and row["status"] is None and row["category"] == "news"

    # A feed added by command is fetched by the next cycle, like a configured one.
    once = run_worker("once", cwd=tmp_path, env=worker_env())
    assert once.returncode == 0, once.stderr
    row = listed(tmp_path)[url]
    assert row["status"] == "ok" and row["items_seen"] == 1 and row["etag"] == '"e1"'
    assert row["last_success"] and row["next_check"] and row["error_count"] == 0

    assert feeds(tmp_path, "remove", url).returncode == 0
    assert url not in listed(tmp_path)
    assert feeds(tmp_path, "remove", url).returncode == 2


def test_a_config_feed_is_listed_and_not_removed_by_command(tmp_path: Path) -> None:
    config = tmp_path / "worker.toml"
    config.write_text('[[feeds]]\nurl = "https://cfg.example/feed"\nname = "Cfg"\n')
    assert listed(tmp_path, config)["https://cfg.example/feed"]["origin"] == "config"
    done = feeds(tmp_path, "remove", "https://cfg.example/feed", config=config)
    assert done.returncode == 2 and "worker.toml" in done.stderr


def test_opml_import_and_export_keep_categories(tmp_path: Path) -> None:
    opml = tmp_path / "in.opml"
    opml.write_text(OPML)
    done = feeds(tmp_path, "import", str(opml))
    assert done.returncode == 0 and "imported 3 feeds" in done.stdout, done.stdout + done.stderr
    rows = listed(tmp_path)
    assert rows["https://assoc.example/feed.xml"]["category"] == "Industry/Associations"
    assert rows["https://press.example/rss"]["category"] == "Industry"
    assert rows["https://loose.example/atom.xml"]["category"] == ""
    assert "imported 0 feeds" in feeds(tmp_path, "import", str(opml)).stdout

    out = tmp_path / "out.opml"
    assert feeds(tmp_path, "export", "-o", str(out)).returncode == 0
    root = etree.fromstring(out.read_bytes())
    assert root.get("version") == "2.0"
    assoc = root.xpath('//outline[@xmlUrl="https://assoc.example/feed.xml"]')[0]
    assert [o.get("text") for o in assoc.iterancestors("outline")] == ["Associations", "Industry"]
    assert assoc.get("text") == "Assoc news"

    # Round trip: the export imports into a fresh database with the same categories.
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    assert "imported 3 feeds" in feeds(fresh, "import", str(out)).stdout
    assert {u: r["category"] for u, r in listed(fresh).items()} == {
        u: r["category"] for u, r in rows.items()
    }


def test_import_of_a_bad_file_is_a_usage_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.opml"
    bad.write_text("<html>not opml")
    done = feeds(tmp_path, "import", str(bad))
    assert done.returncode == 2 and "feeds import" in done.stderr
