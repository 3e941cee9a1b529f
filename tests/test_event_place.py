"""The event's place: the venue and the event sentence over passing mentions, footers,
location tags, organizers' home cities and other editions; online events; the ranking
learned from labelled documents."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from worker.model import Document, Entry
from worker.pipeline import event_place as ep
from worker.pipeline.learn import fit
from worker.pipeline.normalize import normalize
from worker.pipeline.profile import DEFAULT_PROFILE, Profile, load_profile

NOW = datetime(2025, 6, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def profile() -> Profile:
    """The packaged profile, with the hand-set place weights (no learned model)."""
    loaded = load_profile(DEFAULT_PROFILE)
    models = {k: v for k, v in loaded.models.items() if k != ep.MODEL}
    return replace(loaded, models=models)


def document(text: str, title: str = "培训通知") -> Document:
    return normalize(Entry(source="t", guid=None, link=None, title=title, content=text), now=NOW)


def place(profile: Profile, text: str, title: str = "培训通知") -> tuple[str | None, str | None]:
    doc = document(text, title)
    city, country, _ = ep.event_place(doc, profile, ())
    return city, country


# One case per class of documents; each names the class it stands for.
CASES = [
    # the labelled venue line over a city named in passing before it
    ("Partners from Chennai joined.\nVenue: Seminar Hall, BIET Campus, Erode, Tamil Nadu", "Erode"),
    (
        "- **Ort:** Tagungszentrum am Tiergarten, 90480 Nürnberg\nNach dem Termin in München",
        "Nuremberg",
    ),
    ("**Where:** The Hub Training Centre, Manchester Science Park, Manchester M15", "Manchester"),
    ("三、培训地点\n北京经济技术开发区（亦庄）科创十三街18号\n第二期拟于9月在重庆举办", "Beijing"),
    ("会場：名古屋市中小企業振興会館（吹上ホール）", "Nagoya"),
    ("- **Lugar:** Centro de Innovación, Monterrey, Nuevo León", "Monterrey"),
    ("- **Local:** Senai, Curitiba (PR)", "Curitiba"),
    ("Địa điểm: Khu công nghệ cao Hòa Lạc, Hà Nội", "Hanoi"),
    # the event sentence over another edition of the same course
    (
        "The course will be held in Chennai on 8-10 April at the CII office in Chennai. "
        "It follows the first edition held in Pune in February.",
        "Chennai",
    ),
    # a district or zone resolves to its city
    ("11月23日，专题培训在顺德区举办。", "Foshan"),
    ("本次实训营在苏州工业园区举办。", "Suzhou"),
    # the organizer's home city is not the venue of an in-person event
    ("A Pune-based training provider will run the workshop at its lab in Nagpur.", "Nagpur"),
    # a street named after a city is not the city
    ("培训在上海市南京路100号举行。", "Shanghai"),
    # the dateline is not the venue when the text says otherwise
    (
        "KUALA LUMPUR, 15 September 2025 – The four-day programme will be held at the "
        "centre in Shah Alam.",
        "Shah Alam",
    ),
    # a WeChat post's location tag is where it was posted, not the event
    (
        "原创 某某自动化 2025年06月10日 10:00 上海\n"
        "训练营在深圳职业技术大学西丽湖校区举办，地点：深圳市南山区",
        "Shenzhen",
    ),
    # a footer's address is the publisher's
    (
        "智能制造研修班在杭州举办，为期三天。\n"
        + "课程内容包括数字孪生。\n" * 12
        + "联系人：王老师\n地址：北京市海淀区",
        "Hangzhou",
    ),
]


@pytest.mark.parametrize(("text", "city"), CASES)
def test_the_events_city(profile: Profile, text: str, city: str) -> None:
    assert place(profile, text)[0] == city


@pytest.mark.parametrize(
    ("text", "city"),
    [
        # online, the host named only inside an organizer's name: no city
        ("中国仿真学会定于4月24日以线上直播方式举办研修班。承办单位：北京航空航天大学", None),
        ("This live online course is delivered entirely via Zoom by Acme Academy.", None),
        # online, the host's seat stated: that city
        (
            "Merlion Academy, a Singapore-based provider, will run a live online course via Zoom.",
            "Singapore",
        ),
        (
            "**Centro de Productividad (CPV)** · Cali, Colombia\nCurso virtual de Industria 4.0",
            "Cali",
        ),
        (
            "北九州ものづくり推進機構（北九州市八幡東区）は研修をオンラインで開催します。",
            "Kitakyushu",
        ),
    ],
)
def test_online_events(profile: Profile, text: str, city: str | None) -> None:
    assert place(profile, text, title="Course")[0] == city


def test_everyday_words_need_a_place_cue(profile: Profile) -> None:
    assert place(profile, "Reading the data from the machine is the first module.", "Course") == (
        None,
        None,
    )
    assert place(profile, "The workshop is held in Reading, UK.", "Course")[0] == "Reading"


def test_a_name_of_several_cities_takes_the_countrys_the_text_names(profile: Profile) -> None:
    assert place(profile, "Held in Birmingham.", "Course") == ("Birmingham", "United Kingdom")
    text = "Held in Birmingham, United States, at the community college."
    assert place(profile, text, "Course") == ("Birmingham", "United States")


def test_a_country_without_a_city(profile: Profile) -> None:
    assert place(profile, "The training was held in Vietnam for 40 engineers.", "Course") == (
        None,
        "Vietnam",
    )


def test_venue_text(profile: Profile) -> None:
    doc = document("培训地点：上海市浦东新区张江科学会堂\n报名方式：邮件")
    assert ep.event_place(doc, profile, ())[2] == "上海市浦东新区张江科学会堂"


def test_training_rows_rank_the_labelled_city_first(profile: Profile) -> None:
    docs = [
        ("Venue: Hall 3, Erode\nSponsored by the Academy, New Delhi.", "Erode"),
        ("地点：苏州工业园区\n联系人：王老师 地址：上海市", "Suzhou"),
        ("The bootcamp will be held in Detroit by a Chicago-based firm.", "Detroit"),
        ("This webinar is run online by the Beijing Institute of Technology.", ""),
    ]
    rows = []
    for text, city in docs:
        rows += ep.training_rows(document(text), profile, {"relevant": True, "city": city})
    # one pair of rows for each wrong option against the right one
    assert rows and sum(y for _, y in rows) * 2 == len(rows)
    assert not ep.training_rows(document(docs[0][0]), profile, {"relevant": False})
    model = fit([r for r, _ in rows], [y for _, y in rows])
    learned = replace(profile, models={**profile.models, ep.MODEL: model})
    for text, city in docs:
        assert (place(learned, text)[0] or "") == city


def test_a_learned_model_is_used_when_the_profile_has_one(profile: Profile) -> None:
    text = "Venue: Hall 3, Erode"
    always_none = fit([{"none": 1.0}, {"none": -1.0}], [True, False])
    learned = replace(profile, models={**profile.models, ep.MODEL: always_none})
    assert place(profile, text)[0] == "Erode"
    assert place(learned, text)[0] is None
