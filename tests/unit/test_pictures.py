"""docs/*.svg are drawn by `make pictures` from rules/ and the dev stack, and kept fresh."""
from __future__ import annotations

from pathlib import Path

import pytest

from rules import downtimes as dt
from tools import pictures

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def dev():
    return pictures.dev_settings()


@pytest.fixture(scope="module")
def fresh(dev) -> dict[str, bytes]:
    return pictures.pictures(dev)


@pytest.mark.parametrize("name", sorted(pictures.figures(pictures.dev_settings())))
def test_the_committed_picture_is_fresh(fresh, name):
    path = ROOT / "docs" / name
    assert path.exists() and path.read_bytes() == fresh[name], \
        f"docs/{name} is stale: run `make pictures` (python -m tools.pictures)"


@pytest.mark.parametrize("monday", [pictures.ORDINARY_WEEK, pictures.CLOCK_CHANGE_WEEK], ids=str)
def test_the_pictured_week_mutes_exactly_outside_office_hours(dev, monday):
    # What the picture's "muted" row shows must be what the downtime proof proves.
    spans = [(start, min(elapsed, wall)) for schedule in dt.off_hours_schedules(dev.office_hours)
             for recurrence in schedule.recurrences
             for start, elapsed, wall in pictures.occurrences(recurrence, dev.timezone, monday)]
    muted = [(max(s, 0), min(s + length, 168)) for s, length in pictures._merged(spans)
             if s + length > 0 and s < 168]
    start, end = dev.office_hours.start_minutes / 60, dev.office_hours.end_minutes / 60
    outside = [(0, start)] + [(day * 24 + end, (day + 1) * 24 + start) for day in range(4)] + \
        [(4 * 24 + end, 168)]
    assert muted == outside, f"week of {monday}: the pictured downtimes must mute exactly off-hours"


def test_the_clock_change_week_marks_the_change(dev):
    x, label = pictures.clock_change_in(dev.timezone, pictures.CLOCK_CHANGE_WEEK)
    assert (x, label) == (6 * 24 + 2, "Sun 02:00: clocks forward to 03:00"), \
        "the DST picture must mark New York's spring-forward"


def test_a_stale_picture_is_reported_with_the_command_to_run(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(pictures, "DOCS", tmp_path)
    assert pictures.main(["--check"]) == 1, "--check must fail when a picture is missing"
    assert "run `make pictures`" in capsys.readouterr().err, "the failure names the command"
