"""Extraction: date ranges, organizers, participants, places, and the seed document."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from worker.model import Entry
from worker.pipeline import process
from worker.pipeline.dates import find_dates, parse_range
from worker.pipeline.orgs import find_organizers, find_participants
from worker.pipeline.profile import load_profile
from worker.pipeline.text import fold

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "seeds" / "000_a0ab093aa17c1e6e.txt"
NOW = datetime(2025, 1, 15, tzinfo=UTC)
REF = date(2024, 5, 20)


@pytest.fixture(scope="module")
def profile():
    return load_profile(ROOT / "worker" / "pipeline" / "data" / "profile.toml")


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("From June 5 to 6, 2024, the first session", date(2024, 6, 5), date(2024, 6, 6)),
        ("held on 5–6 June 2024 in Berlin", date(2024, 6, 5), date(2024, 6, 6)),
        ("will run from Nov. 3 to 5 at the centre", date(2024, 11, 3), date(2024, 11, 5)),
        ("June 28 to July 2, 2024", date(2024, 6, 28), date(2024, 7, 2)),
        ("28 June – 2 July 2024", date(2024, 6, 28), date(2024, 7, 2)),
        ("December 30, 2024 to January 2, 2025", date(2024, 12, 30), date(2025, 1, 2)),
        ("30 December 2024 - 2 January 2025", date(2024, 12, 30), date(2025, 1, 2)),
        ("on Wednesday, September 18, 2024", date(2024, 9, 18), date(2024, 9, 18)),
        ("the 12th of March", date(2024, 3, 12), date(2024, 3, 12)),
        ("Sept. 9-11", date(2024, 9, 9), date(2024, 9, 11)),
        ("2024年6月5日至6日", date(2024, 6, 5), date(2024, 6, 6)),
        ("6月5日-6日", date(2024, 6, 5), date(2024, 6, 6)),
        ("11月3日—5日", date(2024, 11, 3), date(2024, 11, 5)),
        ("6月5-6日", date(2024, 6, 5), date(2024, 6, 6)),
        ("6月28日至7月2日", date(2024, 6, 28), date(2024, 7, 2)),
        ("2024年12月30日至2025年1月2日", date(2024, 12, 30), date(2025, 1, 2)),
        ("12月30日至1月2日", date(2023, 12, 30), date(2024, 1, 2)),
        ("6月5日（周三）至6日（周四）", date(2024, 6, 5), date(2024, 6, 6)),
        ("2024年7月18日", date(2024, 7, 18), date(2024, 7, 18)),
        ("2024-06-05至2024-06-07", date(2024, 6, 5), date(2024, 6, 7)),
        ("2024.9.10-12", date(2024, 9, 10), date(2024, 9, 12)),
        ("培训时间：9月10日～12日", date(2024, 9, 10), date(2024, 9, 12)),
        # dates written out in Chinese numerals, as formal notices do
        ("六月五日至六日", date(2024, 6, 5), date(2024, 6, 6)),
        ("二〇二四年六月五日", date(2024, 6, 5), date(2024, 6, 5)),
        ("二〇二四年十二月三十日至二〇二五年一月二日", date(2024, 12, 30), date(2025, 1, 2)),
        ("定于十月二十一日至二十三日举办", date(2024, 10, 21), date(2024, 10, 23)),
        ("二零二四年十一月三十一日", None, None),  # no such day
        # English ordinals
        ("5th–6th June 2024", date(2024, 6, 5), date(2024, 6, 6)),
        ("June 5th to 6th", date(2024, 6, 5), date(2024, 6, 6)),
        ("from the 21st to 23rd of October 2024", date(2024, 10, 21), date(2024, 10, 23)),
        ("Nov. 3rd-5th, 2024", date(2024, 11, 3), date(2024, 11, 5)),
    ],
)
def test_date_ranges(text: str, start: date | None, end: date | None) -> None:
    assert parse_range(fold(text), REF) == ((start, end) if start else None)


@pytest.mark.parametrize(
    ("text", "reference", "start"),
    [
        # a missing year takes the one that puts the date nearest the publication date
        ("1月8日至10日", date(2024, 12, 20), date(2025, 1, 8)),
        ("12月28日", date(2025, 1, 3), date(2024, 12, 28)),
        ("March 3 to 5", date(2024, 2, 1), date(2024, 3, 3)),
    ],
)
def test_year_inference(text: str, reference: date, start: date) -> None:
    assert find_dates(fold(text), reference)[0].start == start


@pytest.mark.parametrize(
    "text",
    ["version 2024.6", "5:30 to 6:00", "Made in China 2025", "第6期", "统一月度计划", "十二五规划"],
)
def test_no_false_dates(text: str) -> None:
    assert find_dates(fold(text), REF) == []


@pytest.mark.parametrize(
    ("text", "organizers"),
    [
        (
            "The event, co-hosted by the A Innovation Platform and the B Technology and "
            "Economy Research Institute, welcomed X.",
            ("A Innovation Platform", "B Technology and Economy Research Institute"),
        ),
        (
            "The workshop was organized by the Fraunhofer Institute for Production Technology "
            "and RWTH Aachen University in Aachen.",
            ("Fraunhofer Institute for Production Technology", "RWTH Aachen University"),
        ),
        ("Organisers: Siemens AG; TÜV SÜD Academy", ("Siemens AG", "TÜV SÜD Academy")),
        ("The ceremony was hosted by Mei Ke, Deputy Director.", ()),
        (
            "The course is jointly organised by the Manufacturing Technology Centre, "
            "the High Value Manufacturing Catapult and Coventry University.",
            (
                "Manufacturing Technology Centre",
                "High Value Manufacturing Catapult",
                "Coventry University",
            ),
        ),
        (
            "主办单位：工业和信息化部人才交流中心\n承办单位：中国电子技术标准化研究院、苏州工业园区管委会",
            ("工业和信息化部人才交流中心", "中国电子技术标准化研究院", "苏州工业园区管委会"),
        ),
        (
            "本次培训由中国机械工业联合会与北京机械工业自动化研究所联合主办，江苏省智能制造协会承办。",
            ("中国机械工业联合会", "北京机械工业自动化研究所", "江苏省智能制造协会"),
        ),
        (
            "中国信通院主办、深圳市工业互联网协会承办的培训班",
            ("中国信通院", "深圳市工业互联网协会"),
        ),
        ("协办单位：上海电气集团股份有限公司", ("上海电气集团股份有限公司",)),
        ("由于时间紧张，会议由主持人宣布开始。", ()),
        # "and" between two whole names splits them; a field word keeps one name
        (
            "The bootcamp is co-organised by Automation Alley and Wayne State University.",
            ("Automation Alley", "Wayne State University"),
        ),
        (
            "It is organised by the Sheffield Advanced Manufacturing Research Centre and "
            "Made Smarter.",
            ("Sheffield Advanced Manufacturing Research Centre", "Made Smarter"),
        ),
        (
            "hosted by the Zhejiang Institute of Mechanical and Electrical Engineering.",
            ("Zhejiang Institute of Mechanical and Electrical Engineering",),
        ),
        (
            "The course is sponsored by the Ministry of Commerce and hosted by Ningbo "
            "Polytechnic, with the Zhejiang Robotics Society as co-organizer.",
            ("Ningbo Polytechnic", "Zhejiang Robotics Society"),
        ),
        (
            "The course is run by the University of Manchester in collaboration with the "
            "Henry Royce Institute.",
            ("University of Manchester", "Henry Royce Institute"),
        ),
        (
            "Co-organised by A Vocational Institute and the B Provincial Department, the "
            "program is designed for engineers.",
            ("A Vocational Institute", "B Provincial Department"),
        ),
        (
            "主办单位：苏州市智能制造协会\n承办单位：甲职业学院；乙咨询有限公司\n协办单位：丙学会",
            ("苏州市智能制造协会", "甲职业学院", "乙咨询有限公司", "丙学会"),
        ),
        (
            "主办单位：湖南省机械工业协会\n承办单位：湖南大学机械学院\n长沙智能制造研究总院\n二、研修内容",
            ("湖南省机械工业协会", "湖南大学机械学院", "长沙智能制造研究总院"),
        ),
        (
            "湖北省智能制造创新联盟联合武汉理工大学继续教育学院开展职业技能等级认定培训。",
            ("湖北省智能制造创新联盟", "武汉理工大学继续教育学院"),
        ),
    ],
)
def test_organizer_patterns(text: str, organizers: tuple[str, ...]) -> None:
    assert find_organizers(fold(text)) == organizers


@pytest.mark.parametrize(
    ("text", "participants"),
    [
        ("The event welcomed MEZOLEN as an invited participant.", ("MEZOLEN",)),
        ("特邀华为技术有限公司专家授课", ("华为技术有限公司",)),
        ("西门子(中国)有限公司应邀参加了本次培训", ("西门子(中国)有限公司",)),
        ("Invited participants included ABB, KUKA and Festo.", ("ABB", "KUKA", "Festo")),
    ],
)
def test_participants(text: str, participants: tuple[str, ...]) -> None:
    assert find_participants(fold(text)) == participants


def test_seed_document(profile) -> None:
    entry = Entry(
        source="seed:000_a0ab093aa17c1e6e.txt",
        guid=None,
        link=None,
        title=None,
        content=SEED.read_text(encoding="utf-8"),
        content_type="text/plain",
    )
    item = process(entry, profile, now=NOW, extract_all=True)
    name = "2024 Public Training Series on Smart Manufacturing and Smart Equipment Development"
    assert item.relevance.relevant
    assert name in (item.event.title or "")
    assert name in item.doc.title
    assert item.event.start == date(2024, 6, 5)
    assert item.event.end == date(2024, 6, 6)
    assert (item.event.city, item.event.country) == ("Beijing", "China")
    assert item.event.organizers == (
        "Central Enterprise Smart Manufacturing Collaborative Innovation Platform",
        "Machinery Industry Instrumentation Technology and Economy Research Institute",
    )
    assert "MEZOLEN" in item.event.participants
    assert "smart manufacturing" in item.event.topics
    out = item.to_json()
    assert out["event"]["start"] == "2024-06-05" and out["relevant"] is True
    assert any(r.startswith(("topic", "subject:topic")) and "@title" in r for r in out["reasons"])


@pytest.mark.parametrize(
    ("text", "city", "country"),
    [
        ("中国机械工业联合会在北京举办智能制造培训班。", "Beijing", "China"),
        ("北京机械工业自动化研究所在苏州举办数字孪生研修班。", "Suzhou", "China"),
        (
            "The bootcamp was held in Stuttgart, Germany, by a Beijing-based platform.",
            "Stuttgart",
            "Germany",
        ),
        ("培训地点：上海市浦东新区张江科学会堂", "Shanghai", "China"),
        # a street or university named after a city is not the city
        ("Venue: Model Factory, 73 Nanyang Drive, Singapore 637662", "Singapore", "Singapore"),
    ],
)
def test_places(profile, text: str, city: str, country: str) -> None:
    entry = Entry(source="t", guid=None, link=None, title="培训", content=text)
    item = process(entry, profile, now=NOW, extract_all=True)
    assert (item.event.city, item.event.country) == (city, country)


def test_facts_are_extracted_for_kept_items_only_unless_asked(profile) -> None:
    text = "The quarterly sales meeting was held in Shanghai on 5 June 2024."
    entry = Entry(source="t", guid=None, link=None, title="Sales", content=text)
    dropped = process(entry, profile, now=NOW)
    assert not dropped.relevance.relevant and dropped.event.city is None
    inspected = process(entry, profile, now=NOW, extract_all=True)
    assert inspected.event.city == "Shanghai" and inspected.event.start is not None
