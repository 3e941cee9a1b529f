"""The page at ``/`` in a real headless Chromium (Debian's package, driven by Selenium).

The events are listed, every subscribe and autodiscovery link resolves, the
page fits a phone's width, and screenshots are written to tests/artifacts/ for
a person to look at. Without Chromium the test skips, except where
REQUIRE_BROWSER=1 (CI), where it fails.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.publish_samples import NOW, sample_entries
from worker.config import PublishSettings
from worker.publish import Snapshot, render_all, write_all
from worker.publish.entries import entry_title, sources
from worker.server import FeedServer, make_app

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
ARTIFACTS = Path(__file__).parent / "artifacts"
#: A phone (an iPhone 12-15 viewport) and a desktop window, CSS pixels.
WIDTHS = {"phone": (390, 844), "desktop": (1280, 900)}
#: Flags for a quiet, sandbox-free, offline-safe Chromium: no updates, sync or QUIC probing.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
)


def _require_browser() -> None:
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if missing:
        reason = f"Chromium not installed ({', '.join(missing)} missing)"
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(f"REQUIRE_BROWSER=1 but {reason}")
        pytest.skip(reason)


@pytest.fixture
def site(tmp_path: Path) -> Iterator[str]:
    feeds = tmp_path / "feeds"
    snapshot = Snapshot(window=tuple(sample_entries()), today=NOW.date())
    write_all(render_all(snapshot, PublishSettings(base_url="http://feeds.test")), feeds)
    server = FeedServer(make_app(feeds), host="127.0.0.1", port=0)
    server.start()
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        server.stop()


@pytest.fixture
def browser() -> Iterator[object]:
    _require_browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    options = webdriver.ChromeOptions()
    # Both paths given: Selenium Manager has nothing to look up or download.
    options.binary_location = str(CHROMIUM)
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    driver = webdriver.Chrome(options=options, service=Service(executable_path=str(CHROMEDRIVER)))
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def test_the_page_lists_events_and_its_links_resolve(site: str, browser: object) -> None:
    from selenium.webdriver.common.by import By

    driver = browser
    driver.get(site + "/")  # type: ignore[attr-defined]
    page = driver.page_source  # type: ignore[attr-defined]
    assert "<script" not in page.lower(), "the page works without JavaScript"
    items = driver.find_elements(By.CSS_SELECTOR, "ol.events > li")  # type: ignore[attr-defined]
    entries = sample_entries()
    assert len(items) == len(entries)
    text = driver.find_element(By.TAG_NAME, "main").text  # type: ignore[attr-defined]
    for s in entries:
        assert entry_title(s) in text
        for city in filter(None, [s.item.event.city]):
            assert city in text
        for name in s.item.event.organizers:
            assert name in text
    upcoming = driver.find_element(By.ID, "upcoming").text  # type: ignore[attr-defined]
    recent = driver.find_element(By.ID, "recent").text  # type: ignore[attr-defined]
    today = NOW.date()
    for s in entries:
        facts = s.item.event
        ahead = facts.start is not None and max(facts.start, facts.end or facts.start) >= today
        assert (entry_title(s) in upcoming) is ahead
        assert (entry_title(s) in recent) is not ahead
    # Every source of every event is a link on the page.
    hrefs = {
        a.get_attribute("href")
        for a in driver.find_elements(By.CSS_SELECTOR, "ol.events a")  # type: ignore[attr-defined]
    }
    assert {u for s in entries for u in sources(s)} <= hrefs
    # The hostile title is shown as text, not run.
    assert 'Bootcamp <script>alert("t")</script>' in text

    links = [
        a.get_attribute("href")
        for a in driver.find_elements(By.CSS_SELECTOR, "nav.subscribe a")  # type: ignore[attr-defined]
    ]
    alternates = [
        (link.get_attribute("href"), link.get_attribute("type"))
        for link in driver.find_elements(By.CSS_SELECTOR, 'link[rel="alternate"]')  # type: ignore[attr-defined]
    ]
    assert len(links) == 13 and len(alternates) == 9
    webcal = [href for href in links if href.startswith("webcal://")]
    assert webcal == ["webcal://feeds.test/feeds/events.ics"]
    with httpx.Client() as client:
        for href in set(links) - set(webcal):
            assert href.startswith(site + "/feeds/")
            assert client.get(href).status_code == 200, href
        for href, mime in alternates:
            response = client.get(href)
            assert response.status_code == 200
            assert response.headers["Content-Type"].split(";")[0] == mime

    # A subscribe link followed in the browser itself opens the feed.
    json_link = driver.find_element(By.CSS_SELECTOR, 'nav.subscribe a[href="/feeds/feed.json"]')  # type: ignore[attr-defined]
    json_link.click()
    assert driver.current_url == site + "/feeds/feed.json"  # type: ignore[attr-defined]
    assert "https://jsonfeed.org/version/1.1" in driver.page_source  # type: ignore[attr-defined]


@pytest.mark.parametrize("device", sorted(WIDTHS))
def test_the_page_reads_well_at_phone_and_desktop_width(
    site: str, browser: object, device: str
) -> None:
    driver = browser
    width, height = WIDTHS[device]
    driver.set_window_size(width, height)  # type: ignore[attr-defined]
    driver.get(site + "/")  # type: ignore[attr-defined]
    inner = driver.execute_script("return window.innerWidth")  # type: ignore[attr-defined]
    scroll = driver.execute_script("return document.documentElement.scrollWidth")  # type: ignore[attr-defined]
    assert scroll <= inner, f"{device}: the page scrolls sideways ({scroll} > {inner})"
    font = driver.execute_script(  # type: ignore[attr-defined]
        "return parseFloat(getComputedStyle(document.querySelector('ol.events li')).fontSize)"
    )
    assert font >= 14, "text readable without zooming"
    # The whole page in one picture, for a person to look at.
    full = driver.execute_script("return document.documentElement.scrollHeight")  # type: ignore[attr-defined]
    driver.set_window_size(width, min(full + 140, 6000))  # type: ignore[attr-defined]
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / f"index-{device}.png"
    assert driver.save_screenshot(str(shot))  # type: ignore[attr-defined]
    assert shot.stat().st_size > 10_000
