"""Relevance: both axes must agree; reasons say which term, where, how much."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from worker.model import Entry
from worker.pipeline.normalize import normalize
from worker.pipeline.profile import load_profile
from worker.pipeline.relevance import score

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2025, 1, 15, tzinfo=UTC)


@pytest.fixture(scope="module")
def profile():
    return load_profile(ROOT / "config" / "profile.toml")


def _score(profile, title: str, body: str):
    doc = normalize(Entry(source="t", guid=None, link=None, title=title, content=body), now=NOW)
    return score(doc, profile)


@pytest.mark.parametrize(
    ("title", "body", "relevant"),
    [
        ("智能制造高级研修班在苏州举办", "学员参加培训，专家授课。", True),
        ("Smart Factory Bootcamp in Stuttgart", "Engineers learned hands-on skills.", True),
        ("第24届中国国际工业博览会开幕", "智能制造展区吸引2800家展商参展。", False),
        ("护理骨干培训班开班", "护士参加培训，专家授课。", False),
        ("2024世界智能制造大会开幕", "院士作主旨演讲，举办平行论坛。", False),
        ("Smart manufacturing market report", "Market size CAGR forecast period.", False),
    ],
)
def test_both_axes_must_agree(profile, title: str, body: str, relevant: bool) -> None:
    assert _score(profile, title, body).relevant is relevant


def test_reasons_name_term_place_and_points(profile) -> None:
    result = _score(profile, "智能制造培训班", "工业互联网课程")
    assert "topic:智能制造@title(+6.0)" in result.reasons
    assert "event:培训班@title(+7.0)" in result.reasons
    assert any(r.startswith("topic:工业互联网@body") for r in result.reasons)
    assert result.topics[0] == "smart manufacturing"
    assert "industrial internet" in result.topics


def test_threshold_override(profile, tmp_path) -> None:
    strict = load_profile(ROOT / "config" / "profile.toml", threshold=1000.0)
    assert strict.threshold == 1000.0
    assert not _score(strict, "智能制造培训班", "学员").relevant


def test_english_terms_need_word_boundaries(profile) -> None:
    result = _score(profile, "Games and themes", "Programmes for gamers")
    assert not any("mes" in r.split(":")[1].split("@")[0].split("/") for r in result.reasons)


def test_another_topic_needs_no_code(tmp_path) -> None:
    path = tmp_path / "bakery.toml"
    path.write_text(
        'name = "baking classes"\nthreshold = 2.0\n[axes]\ntopic = 1.0\nevent = 1.0\n'
        '[[topic]]\nlabel = "bread"\nweight = 1.0\nterms = ["sourdough", "面包"]\n'
        '[[event]]\nlabel = "class"\nweight = 1.0\nterms = ["class"]\n',
        encoding="utf-8",
    )
    bakery = load_profile(path)
    result = _score(bakery, "Sourdough class", "")
    assert result.relevant and result.topics == ("bread",)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('name = "x"\n', "axes"),
        ('[axes]\ntopic = "a"\n', "axes.topic"),
        (
            '[axes]\ntopic = 1.0\n[[topic]]\nlabel = "a"\nweight = 1.0\nterms = []\n',
            "topic[0].terms",
        ),
        ('[axes]\ntopic = 1.0\n[[topic]]\nlabel = "a"\nterms = ["x"]\n', "topic[0].weight"),
        (
            '[axes]\ntopic = 1.0\n[[topic]]\nlabel = "a"\nweight = 1.0\nterms = ["x"]\n'
            '[[negative]]\nlabel = "n"\nweight = 1.0\nagainst = "nope"\nterms = ["y"]\n',
            "negative[0].against",
        ),
        ("[axes\n", "TOML"),
    ],
)
def test_malformed_profile_names_file_and_key(tmp_path, text: str, key: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError) as err:
        load_profile(path)
    assert str(path) in str(err.value) and key in str(err.value)
