"""Every file of feedparser's own test corpus, served over HTTP with the content
type the corpus implies, goes through ``worker once`` without the worker failing.

Per file: it yielded items, or an error was recorded against it, or (counted
apart) it is a well-formed feed with no entries, which feedparser itself agrees
has none.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import feedparser
import pytest

from tests.conftest import CORPORA, LocalServer, Response, worker_env
from worker.store import Store, connect

CORPUS = CORPORA / "feedparser-tests"
HEADER = re.compile(rb"^Header:\s+([A-Za-z-]+):\s*(.*?)\s*$", re.MULTILINE)
LISTEN_BACKLOG = 1024


def corpus_files() -> list[Path]:
    return sorted(p for p in CORPUS.rglob("*") if p.suffix in (".xml", ".json"))


def response_for(path: Path) -> Response:
    body = path.read_bytes()
    headers = {}
    for name, value in HEADER.findall(body[:2000]):
        headers[name.decode()] = value.decode("latin-1")
    if not any(k.lower() == "content-type" for k in headers):
        kind = "application/feed+json" if path.suffix == ".json" else "application/xml"
        headers["Content-Type"] = kind
    return Response(200, body, headers)


@pytest.mark.slow
def test_every_corpus_file_goes_through_a_cycle(tmp_path: Path, http_server: LocalServer) -> None:
    files = corpus_files()
    if not files:
        pytest.skip(f"corpus not found at {CORPUS}")
    http_server.httpd.socket.listen(LISTEN_BACKLOG)
    urls: dict[str, Path] = {}
    for n, path in enumerate(files):
        route = f"/{n}/{path.name}"
        http_server.routes[route] = response_for(path)
        urls[f"{http_server.url}{route}"] = path
    config = tmp_path / "worker.toml"
    feeds = "".join(f'[[feeds]]\nurl = "{url}"\n' for url in urls)
    config.write_text(
        f'data_dir = "{tmp_path / "data"}"\nseeds_dir = "{tmp_path / "seeds"}"\n'
        f'feeds_dir = "{tmp_path / "feeds"}"\n[fetch]\nper_host = 50\n\n{feeds}'
    )
    done = subprocess.run(
        [sys.executable, "-m", "worker", "--config", str(config), "once"],
        cwd=tmp_path,
        env=worker_env(),
        capture_output=True,
        text=True,
        timeout=110,
    )
    assert done.returncode == 0, done.stderr[-3000:]

    store = Store(connect(f"sqlite:///{tmp_path / 'data' / 'worker.db'}"))
    states = {f.url: f for f in store.feeds()}
    store.engine.dispose()
    counts = {"items": 0, "error": 0, "items+error": 0, "empty": 0}
    for url, path in urls.items():
        state = states[url]
        assert state.last_checked_at is not None, f"{path} was not checked"
        if state.items_seen and state.last_error:
            counts["items+error"] += 1
        elif state.items_seen:
            counts["items"] += 1
        elif state.last_error:
            assert state.last_status == "error", path
            counts["error"] += 1
        else:
            # No entries and no error: feedparser must agree the document is a clean,
            # empty feed (e.g. a test of channel-level elements only).
            parsed = feedparser.parse(
                path.read_bytes(), response_headers=response_for(path).headers
            )
            assert not parsed.entries, f"{path}: feedparser found entries the worker did not"
            counts["empty"] += 1
    total = sum(counts.values())
    print(f"corpus: {total} files: {counts}")
    assert total == len(files)
    assert counts["items"] + counts["items+error"] > len(files) // 2
    json_feed = next(url for url, p in urls.items() if p.suffix == ".json")
    assert states[json_feed].items_seen > 0 and states[json_feed].last_status == "ok"
