"""Relevance: a judgement of the report (learned weights over named features), with reasons."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from worker.cli import main
from worker.model import Entry
from worker.pipeline.learn import LinearModel, fit, models_from_json, models_to_json
from worker.pipeline.normalize import normalize
from worker.pipeline.profile import DEFAULT_PROFILE, load_profile
from worker.pipeline.relevance import features, mentions_topic_or_event, prior, score

NOW = datetime(2025, 1, 15, tzinfo=UTC)


@pytest.fixture(scope="module")
def profile():
    return load_profile(DEFAULT_PROFILE)


def _doc(title: str, body: str):
    return normalize(Entry(source="t", guid=None, link=None, title=title, content=body), now=NOW)


def _score(profile, title: str, body: str):
    return score(_doc(title, body), profile)


# One report of each class the judgement must tell apart (classes, not corpus documents).
@pytest.mark.parametrize(
    ("title", "body", "relevant"),
    [
        (
            "智能制造高级研修班在苏州举办",
            "6月12日，研修班开班。学员参加培训，专家授课，课程涵盖数字孪生。",
            True,
        ),
        (
            "Smart Factory Bootcamp in Stuttgart",
            "The bootcamp will run from 3 to 5 June 2025. Participants learned hands-on PLC and "
            "digital twin skills. Registration fee: 900 EUR.",
            True,
        ),
        (
            "Schulung: Industrie 4.0 in der Lernfabrik",
            "Die dreitägige Schulung findet vom 5. bis 7. Mai 2025 statt. Inhalte: OPC UA, "
            "digitaler Zwilling. Teilnehmende erhalten ein Zertifikat. Anmeldung bis 1. April.",
            True,
        ),
        ("第24届中国国际工业博览会开幕", "智能制造展区吸引2800家展商参展，展会为期五天。", False),
        ("护理骨干培训班开班", "护士参加培训，专家授课，讲解急救与护理技能。", False),
        ("2024世界智能制造大会开幕", "院士作主旨演讲，举办平行论坛，签署战略合作协议。", False),
        ("Smart manufacturing market report", "Market size CAGR forecast period revenue.", False),
        (
            "Industry 4.0 Training Specialist (full-time)",
            "We are looking for a trainer to deliver smart manufacturing courses. Salary and "
            "benefits. Job requirements: five years of experience.",
            False,
        ),
        (
            "智能工厂开展消防安全培训",
            "11月9日，公司在智能工厂开展消防安全培训暨应急疏散演练，讲解消防设施使用。",
            False,
        ),
    ],
)
def test_judges_the_report_not_its_words(profile, title: str, body: str, relevant: bool) -> None:
    result = _score(profile, title, body)
    assert result.relevant is relevant, (result.score, result.reasons)
    assert 0.0 <= result.score <= 1.0


def test_reasons_name_feature_word_and_weight(profile) -> None:
    result = _score(profile, "智能制造培训班", "工业互联网课程，学员实操。")
    assert result.reasons, result
    first = result.reasons[0]
    # "feature[word](+1.23)": the feature, the word that triggered it, its part of the score
    assert "[" in first and first.endswith(")") and ("(+" in first or "(-" in first)
    assert any("[智能制造]" in r or "[培训班]" in r for r in result.reasons)
    assert result.topics[0] == "smart manufacturing"
    assert "industrial internet" in result.topics


def test_event_subject_decides(profile) -> None:
    """The nearest subject word in the event's sentence says what the course is about."""
    on_topic = features(_doc("智能制造专题培训班", ""), profile)[0]
    other = features(_doc("智能工厂开展消防安全培训", ""), profile)[0]
    bank = features(_doc("某农商银行举办数字化转型专题培训班", ""), profile)[0]
    assert on_topic.get("subject:topic@title") == 1.0
    assert other.get("subject:other@title") == 1.0
    assert bank.get("subject:other@title") == 1.0  # digital transformation of a bank


def test_threshold_override(profile) -> None:
    strict = load_profile(DEFAULT_PROFILE, threshold=0.999999)
    assert strict.threshold == 0.999999
    assert not _score(strict, "智能制造培训班", "学员").relevant


def test_english_terms_need_word_boundaries(profile) -> None:
    values = features(_doc("Games and themes", "Programmes for gamers"), profile)[0]
    assert not values


def test_ignored_phrases_do_not_count(profile) -> None:
    doc = _doc("Of course", "A world-class plant; training data for models.")
    values = features(doc, profile)[0]
    assert not any(name.startswith(("event", "subject")) for name in values)


def test_prefilter(profile) -> None:
    assert mentions_topic_or_event("Robots", "A workshop on cobots", profile)
    assert mentions_topic_or_event("智能制造", "", profile)
    assert not mentions_topic_or_event("Weather", "Rain tomorrow in Berlin.", profile)


def test_fallback_without_weights_is_the_prior(tmp_path) -> None:
    source = DEFAULT_PROFILE.read_text(encoding="utf-8")
    path = tmp_path / "profile.toml"
    path.write_text(source.replace('# weights = "weights.json"', 'weights = "none.json"'))
    with pytest.raises(ValueError, match="weights"):
        load_profile(path)  # a weights file the profile names must exist
    path.write_text(source)
    own = load_profile(path)  # no weights.json beside it: the packaged weights
    assert own.models and own.weights_path == tmp_path / "weights.json"


def test_another_topic_needs_no_code(tmp_path) -> None:
    """A baking profile keeps the roles, so the packaged weights judge it; then it is refitted."""
    profile_path = tmp_path / "bakery.toml"
    profile_path.write_text(
        'name = "baking classes"\n'
        '[[topic]]\nlabel = "bread"\nterms = ["sourdough", "bread", "面包"]\n'
        '[[event]]\nlabel = "class"\nterms = ["baking class", "workshop"]\n'
        '[[cue]]\nlabel = "held"\nkind = "act"\nterms = ["held", "will run"]\n'
        '[[lookalike]]\nlabel = "shop"\nterms = ["opening hours", "price list"]\n',
        encoding="utf-8",
    )
    bakery = load_profile(profile_path)
    hit = _score(bakery, "Sourdough baking class", "The sourdough workshop will run on 3 May 2025.")
    miss = _score(bakery, "Bread price list", "Opening hours and the price list of our bread.")
    assert hit.relevant and hit.topics == ("bread",)
    assert not miss.relevant

    corpus = tmp_path / "labelled"
    (corpus / "docs").mkdir(parents=True)
    labels = ['now = "2025-06-01T00:00:00+00:00"']
    for i in range(6):
        (corpus / "docs" / f"c{i}.txt").write_text(
            f"Sourdough baking class {i}\nThe bread workshop will run on {i + 1} May 2025.\n"
        )
        (corpus / "docs" / f"s{i}.txt").write_text(
            f"Bread shop {i}\nOpening hours and price list of our bread and sourdough.\n"
        )
        labels += [f"[docs.c{i}]\nrelevant = true", f"[docs.s{i}]\nrelevant = false"]
    (corpus / "labels.toml").write_text("\n".join(labels) + "\n")
    config = tmp_path / "worker.toml"
    config.write_text(f'[relevance]\nprofile = "{profile_path}"\n')
    assert main(["--config", str(config), "train", str(corpus)]) == 0
    written = json.loads((tmp_path / "weights.json").read_text())
    assert written["relevance"]["weights"]
    refitted = load_profile(profile_path)
    assert refitted.weights_path == tmp_path / "weights.json"
    assert _score(refitted, "Sourdough baking class", "The workshop will run on 3 May.").relevant


def test_fit_learns_and_keeps_priors_where_data_say_nothing() -> None:
    rows = [{"a": 1.0}, {"a": 1.0}, {"b": 1.0}, {"b": 1.0}, {"a": 1.0, "b": 1.0}]
    labels = [True, True, False, False, True]
    model = fit(rows, labels, l2=0.1, prior=LinearModel({"never_seen": -2.0}))
    assert model.weights["a"] > 0 > model.weights["b"]
    assert model.weights["never_seen"] == pytest.approx(-2.0)
    assert model.score({"a": 1.0}) > 0 > model.score({"b": 1.0})
    again = models_from_json(models_to_json({"m": model}), where="test")["m"]
    both = {"a": 1.0, "b": 1.0}
    assert again.score(both) == pytest.approx(model.score(both), 1e-4)


def test_prior_covers_every_lookalike_class(profile) -> None:
    model = prior(profile)
    for group in profile.groups:
        if group.role == "lookalike":
            assert model.weights[f"{group.feature}@title"] < 0


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('name = "x"\n', "topic"),
        ('[[topic]]\nlabel = "a"\nterms = []\n', "topic[0].terms"),
        ('[[topic]]\nlabel = ""\nterms = ["x"]\n', "topic[0].label"),
        (
            '[[topic]]\nlabel = "a"\nterms = ["x"]\n[[event]]\nlabel = "e"\nterms = ["y"]\n'
            '[[cue]]\nlabel = "c"\nkind = "nope"\nterms = ["z"]\n',
            "cue[0].kind",
        ),
        (
            '[[topic]]\nlabel = "a"\nterms = ["x"]\n[[event]]\nlabel = "e"\nterms = ["x"]\n',
            "repeats",
        ),
        (
            'threshold = 7.0\n[[topic]]\nlabel = "a"\nterms = ["x"]\n[[event]]\nlabel = "e"\n'
            'terms = ["y"]\n',
            "threshold",
        ),  # fmt: skip
        ("[axes]\ntopic = 1.0\n", "old profile format"),
        ("[axes\n", "TOML"),
    ],
)
def test_malformed_profile_names_file_and_key(tmp_path, text: str, key: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError) as err:
        load_profile(path)
    assert str(path) in str(err.value) and key in str(err.value)


def test_general_topic_words_said_of_another_field(profile) -> None:
    """A digital twin of a city is not our topic; of a factory line it is."""
    city = features(_doc("Digital twin workshop for smart city planners", ""), profile)[0]
    plant = features(_doc("Digital twin workshop for factory engineers", ""), profile)[0]
    assert city.get("subject:other@title") == 1.0 and "subject:topic@title" not in city
    assert plant.get("subject:topic@title") == 1.0


def test_profile_version_follows_words_and_weights(tmp_path) -> None:
    """Items made with other words or weights are made again: the version is in the raw hash."""
    from worker.pipeline import raw_hash

    path = tmp_path / "profile.toml"
    path.write_text(DEFAULT_PROFILE.read_text(encoding="utf-8"), encoding="utf-8")
    first = load_profile(path)
    assert first.version == load_profile(path).version
    (tmp_path / "weights.json").write_text(json.dumps({"relevance": {"bias": 1, "weights": {}}}))
    weighed = load_profile(path)
    path.write_text(path.read_text(encoding="utf-8") + "\n# another word\n", encoding="utf-8")
    reworded = load_profile(path)
    assert len({first.version, weighed.version, reworded.version}) == 3
    entry = Entry(source="s", guid="g", link=None, title="t", content="c")
    assert raw_hash(entry, first.version) != raw_hash(entry, reworded.version)
