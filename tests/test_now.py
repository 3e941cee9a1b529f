"""``--now``: the pipeline's clock is pinned, so a figure does not change with the day it runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import run_worker

#: A course page that states no year and no date of its own: its year comes from the clock.
YEARLESS = (
    "Smart Manufacturing Workshop in Pune\n"
    "The hands-on smart manufacturing workshop will run from 3 to 5 June in Pune. "
    "Participants learn PLC programming and digital twins. Registration fee: INR 5,000.\n"
)


@pytest.fixture
def yearless(tmp_path: Path) -> Path:
    (tmp_path / "seeds").mkdir()
    (tmp_path / "seeds" / "workshop.txt").write_text(YEARLESS, encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize(
    ("now", "start"), [("2023-12-01", "2023-06-03"), ("2026-03-01T10:00:00Z", "2026-06-03")]
)
def test_inspect_now_sets_the_year_of_yearless_dates(yearless: Path, now: str, start: str) -> None:
    result = run_worker("inspect", "--now", now, "seeds/workshop.txt", cwd=yearless)
    assert result.returncode == 0, result.stderr
    event = json.loads(result.stdout)["event"]
    assert (event["start"], event["end"]) == (start, start[:-2] + "05")


def test_bad_now_is_bad_usage(yearless: Path) -> None:
    result = run_worker("inspect", "--now", "yesterday", "seeds/workshop.txt", cwd=yearless)
    assert result.returncode == 2
    assert "--now" in result.stderr and "ISO 8601" in result.stderr


@pytest.mark.slow
def test_once_now_pins_the_pipeline_clock(yearless: Path) -> None:
    result = run_worker("once", "--now", "2023-12-01T00:00:00Z", cwd=yearless)
    assert result.returncode == 0, result.stderr
    feed = json.loads((yearless / "feeds" / "feed.json").read_text(encoding="utf-8"))
    [item] = feed["items"]
    assert item["_event"]["start"] == "2023-06-03"
