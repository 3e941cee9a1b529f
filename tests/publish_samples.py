"""Entries the publishing tests render: real pipeline output on small English and
Chinese documents, plus hand-built records for the edges (hostile HTML, a mixed
document with further reports, a report without a date)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import cache
from pathlib import Path

from worker.model import Document, Entry, EventFacts, Item, Relevance, StoredItem
from worker.pipeline import process
from worker.pipeline.profile import Profile, load_profile

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2024, 5, 20, 8, 30, tzinfo=UTC)
BASE_URL = "http://feeds.test:8080"

EN_ENTRY = Entry(
    source="seed:en.txt",
    guid=None,
    link="https://events.example.com/smart-factory-workshop",
    title="Smart Manufacturing Workshop: Digital Twins for Factory Engineers",
    content=(
        "The Industrial Internet Alliance will hold a two-day smart manufacturing training "
        "workshop on digital twins and Industry 4.0 in Shanghai from June 12 to June 13, 2024. "
        "The training course is organized by the Shanghai Smart Manufacturing Association."
    ),
)
ZH_ENTRY = Entry(
    source="seed:zh.txt",
    guid=None,
    link="https://events.example.cn/zhineng-zhizao-peixun",
    title="智能制造高级研修班开班通知",
    content=(
        "为推动制造业数字化转型，中国机械工业联合会定于2024年7月8日至7月10日在北京举办"
        "智能制造与智能装备高级研修班。培训内容包括工业互联网、数字孪生和智能工厂建设。"
    ),
)


@cache
def profile() -> Profile:
    return load_profile(ROOT / "worker" / "pipeline" / "data" / "profile.toml")


def pipeline_item(entry: Entry) -> Item:
    return process(entry, profile(), now=NOW)


def hand_item(
    key: str,
    *,
    lang: str,
    title: str,
    html: str,
    link: str | None,
    start: date | None = None,
    end: date | None = None,
    city: str | None = None,
    organizers: tuple[str, ...] = (),
) -> Item:
    doc = Document(
        source=f"seed:{key}.html",
        guid=None,
        link=link,
        title=title,
        text=title,
        html=html,
        summary=title,
        published=None,
        lang=lang,
    )
    return Item(
        key=key,
        doc=doc,
        relevance=Relevance(True, 4.0, ("test",), ("smart manufacturing",)),
        event=EventFacts(
            title=title,
            start=start,
            end=end,
            city=city,
            country="China" if city else None,
            organizers=organizers,
            topics=("smart manufacturing", "industry 4.0"),
        ),
        content_hash=f"hash-{key}",
    )


def stored(
    ident: int, item: Item, *, days_ago: int, changed: bool = False, related: tuple[str, ...] = ()
) -> StoredItem:
    first = NOW - timedelta(days=days_ago)
    return StoredItem(
        id=f"00000000-0000-4000-8000-{ident:012d}",
        first_seen=first,
        updated=first + timedelta(hours=5) if changed else first,
        item=item,
        related=related,
    )


def sample_entries() -> list[StoredItem]:
    """Newest first, as the store returns them."""
    hostile = hand_item(
        "hostile",
        lang="en",
        title='Bootcamp <script>alert("t")</script> & "AI" for factories',
        html='<p onclick="x()">Join us <script>steal()</script><a href="javascript:x">here</a></p>',
        link="https://hostile.example/bootcamp?a=1&b=2",
        start=date(2024, 9, 2),
        end=date(2024, 9, 1),  # an extraction slip: end before start
        city="Shenzhen",
        organizers=("Factory <Academy>",),
    )
    mixed = hand_item(
        "mixed",
        lang="mixed",
        title="工业4.0 Smart Equipment Seminar 智能装备研讨会",
        html="<p>工业4.0 seminar on smart equipment.</p>",
        link="https://mixed.example/seminar",
        start=date(2024, 5, 10),
        city="Suzhou",
        organizers=("Suzhou Industrial Park",),
    )
    undated = hand_item(
        "undated",
        lang="zh",
        title="智能制造培训系列",
        html="<p>智能制造培训系列课程。</p>",
        link=None,
    )
    return [
        stored(5, hostile, days_ago=0),
        stored(
            4,
            mixed,
            days_ago=1,
            changed=True,
            related=("https://other.example/report", "https://mixed.example/seminar"),
        ),
        stored(3, pipeline_item(ZH_ENTRY), days_ago=2),
        stored(2, pipeline_item(EN_ENTRY), days_ago=3, related=("https://en.example/again",)),
        stored(1, undated, days_ago=4),
    ]
