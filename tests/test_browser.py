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
    yield from _chromium(javascript=True)


@pytest.fixture
def browser_without_js() -> Iterator[object]:
    """Chromium with the page's JavaScript turned off: the page must work without it."""
    yield from _chromium(javascript=False)


def _chromium(*, javascript: bool) -> Iterator[object]:
    _require_browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    options = webdriver.ChromeOptions()
    if not javascript:
        options.add_experimental_option(
            "prefs", {"profile.managed_default_content_settings.javascript": 2}
        )
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


@pytest.fixture
def live_site(tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """The page served with its views on a real store: filters, subscribe links, event pages."""
    from datetime import timedelta

    from tests.publish_samples import EN_ENTRY, ZH_ENTRY, pipeline_item
    from worker.publish import Snapshot, render_all, write_all
    from worker.server.views import StoreViews
    from worker.store import Store, connect, migrate

    engine = connect(f"sqlite:///{tmp_path / 'worker.db'}")
    migrate(engine)
    store = Store(engine)
    ids = {}
    for n, (name, entry) in enumerate((("en", EN_ENTRY), ("zh", ZH_ENTRY))):
        ids[name] = store.save_item(pipeline_item(entry), now=NOW - timedelta(days=n)).id
    settings = PublishSettings(base_url="http://feeds.test")
    feeds = tmp_path / "feeds"
    window = tuple(store.items(relevant_only=True, limit=settings.window))
    write_all(render_all(Snapshot(window=window, today=NOW.date()), settings), feeds)
    views = StoreViews(store, settings, today=lambda: NOW.date())
    server = FeedServer(make_app(feeds, views=views), host="127.0.0.1", port=0)
    server.start()
    try:
        yield f"http://127.0.0.1:{server.port}", ids
    finally:
        server.stop()
        engine.dispose()


def test_filter_the_page_subscribe_to_the_view_and_open_an_event(
    live_site: tuple[str, dict[str, str]], browser_without_js: object
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    site, ids = live_site
    driver = browser_without_js
    driver.get(site + "/")  # type: ignore[attr-defined]
    titles = driver.find_elements(By.CSS_SELECTOR, "ol.events a.title")  # type: ignore[attr-defined]
    assert len(titles) == 2
    # Filter: Chinese events, upcoming, by the form alone (no JavaScript runs).
    form = driver.find_element(By.CSS_SELECTOR, "form[role=search]")  # type: ignore[attr-defined]
    Select(form.find_element(By.NAME, "lang")).select_by_value("zh")
    Select(form.find_element(By.NAME, "upcoming")).select_by_value("1")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    assert "lang=zh" in driver.current_url and "upcoming=1" in driver.current_url  # type: ignore[attr-defined]
    titles = driver.find_elements(By.CSS_SELECTOR, "ol.events a.title")  # type: ignore[attr-defined]
    assert [t.get_attribute("href") for t in titles] == [f"{site}/events/{ids['zh']}"]
    # The form shows the filter it applied.
    form = driver.find_element(By.CSS_SELECTOR, "form[role=search]")  # type: ignore[attr-defined]
    assert Select(form.find_element(By.NAME, "lang")).first_selected_option.text == "中文"
    # Labels in the entry's language on the list.
    labels = [dt.text for dt in driver.find_elements(By.CSS_SELECTOR, "ol.events dt")]  # type: ignore[attr-defined]
    assert labels[:1] == ["地点"]
    # "Subscribe to this view": the Atom link gives the filtered feed.
    atom = driver.find_element(  # type: ignore[attr-defined]
        By.CSS_SELECTOR, 'nav[aria-label="Subscribe to this view"] a[type="application/atom+xml"]'
    )
    href = atom.get_attribute("href")
    assert href == f"{site}/feeds/atom.xml?lang=zh&upcoming=1"
    feed = httpx.get(href)
    assert feed.status_code == 200
    parsed = __import__("feedparser").parse(feed.content)
    assert [e.id for e in parsed.entries] == [f"urn:uuid:{ids['zh']}"]
    webcal = driver.find_element(By.LINK_TEXT, "webcal").get_attribute("href")  # type: ignore[attr-defined]
    assert webcal == "webcal://feeds.test/feeds/events.ics?lang=zh&upcoming=1"
    # Open the event's page: every fact with Chinese labels, its sources, add to calendar.
    driver.find_element(By.CSS_SELECTOR, "ol.events a.title").click()  # type: ignore[attr-defined]
    assert driver.current_url == f"{site}/events/{ids['zh']}"  # type: ignore[attr-defined]
    terms = [dt.text for dt in driver.find_elements(By.CSS_SELECTOR, "dl.facts dt")]  # type: ignore[attr-defined]
    assert terms[:2] == ["时间", "地点"]
    assert driver.find_element(By.TAG_NAME, "article").get_attribute("lang") == "zh"  # type: ignore[attr-defined]
    sources = driver.find_elements(By.CSS_SELECTOR, "ol.sources a")  # type: ignore[attr-defined]
    assert [a.get_attribute("href") for a in sources] == [ZH_LINK]
    calendar = driver.find_element(By.CSS_SELECTOR, "a.calendar").get_attribute("href")  # type: ignore[attr-defined]
    assert httpx.get(calendar).headers["Content-Type"].startswith("text/calendar")


def test_the_page_is_usable_with_a_keyboard_and_a_screen_reader(
    live_site: tuple[str, dict[str, str]], browser: object
) -> None:
    """Landmarks, a label for every control, the language declared, text contrast ≥ 4.5:1
    (WCAG 2.1 AA), and a keyboard focus that shows."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    site, ids = live_site
    driver = browser
    for path in ("/", "/?lang=zh", f"/events/{ids['en']}"):
        driver.get(site + path)  # type: ignore[attr-defined]
        landmarks = driver.execute_script(  # type: ignore[attr-defined]
            "return [...document.querySelectorAll('main, nav, header, [role=search]')]"
            ".map(e => e.tagName + ':' + (e.getAttribute('aria-label') || ''))"
        )
        assert "MAIN:" in landmarks and any(m.startswith("NAV:") for m in landmarks), path
        assert driver.find_element(By.TAG_NAME, "html").get_attribute("lang")  # type: ignore[attr-defined]
        unlabelled = driver.execute_script(  # type: ignore[attr-defined]
            "return [...document.querySelectorAll('input, select')]"
            ".filter(e => !e.labels || e.labels.length === 0).map(e => e.name)"
        )
        assert unlabelled == [], path
        worst = driver.execute_script(CONTRAST_JS)  # type: ignore[attr-defined]
        assert worst >= 4.5, f"{path}: text contrast {worst:.2f} below 4.5:1"
    driver.get(site + "/")  # type: ignore[attr-defined]
    body = driver.find_element(By.TAG_NAME, "body")  # type: ignore[attr-defined]
    body.send_keys(Keys.TAB)
    focused = driver.switch_to.active_element  # type: ignore[attr-defined]
    assert focused.text == "Skip to the events"
    outline = driver.execute_script(  # type: ignore[attr-defined]
        "return getComputedStyle(document.activeElement).outlineStyle"
    )
    assert outline != "none"


ZH_LINK = "https://events.example.cn/zhineng-zhizao-peixun"
#: The lowest contrast ratio (WCAG 2.1 relative luminance) of any visible text on the page.
CONTRAST_JS = r"""
function lum(c) {
  const v = c.match(/[\d.]+/g).slice(0, 3).map(Number).map(x => x / 255)
    .map(x => x <= 0.03928 ? x / 12.92 : Math.pow((x + 0.055) / 1.055, 2.4));
  return 0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2];
}
function background(e) {
  for (; e; e = e.parentElement) {
    const c = getComputedStyle(e).backgroundColor;
    if (!c.startsWith('rgba') || !c.endsWith(', 0)')) return c;
  }
  return 'rgb(255, 255, 255)';
}
let worst = 21;
for (const e of document.querySelectorAll('body *')) {
  const own = [...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
  if (!own || !e.offsetParent) continue;
  const a = lum(getComputedStyle(e).color), b = lum(background(e));
  worst = Math.min(worst, (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05));
}
return worst;
"""
