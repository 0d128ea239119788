"""Proof that the two downtime schedules mute exactly the time outside office hours.

The RRULEs are expanded with python-dateutil over more than a year, in timezones with
and without daylight saving, under both readings of a recurrence's duration: elapsed
time (start + N hours on the clock of the universe) and wall-clock time (start + N hours
on the office clock). Intervals are compared exactly, not sampled.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from dateutil.rrule import rrulestr

from rules.downtimes import DAY, clock_change_problem, off_hours_schedules, weekday_nights, weekends
from settings import OfficeHours

UTC = timezone.utc
# DST at 02:00/03:00 (New York, Paris, Sydney, London), a 30-minute change (Lord Howe),
# at midnight (Cairo, Beirut, Havana, Santiago), on Saturday night (Nuuk), none (Tokyo,
# Kolkata, UTC).
ZONES = ["America/New_York", "Europe/Paris", "Australia/Sydney", "Europe/London",
         "Australia/Lord_Howe", "Africa/Cairo", "Asia/Beirut", "America/Havana",
         "America/Santiago", "America/Nuuk", "Asia/Tokyo", "Asia/Kolkata", "UTC"]
SEMANTICS = ["elapsed", "wall-clock"]
NINE_TO_SEVEN = OfficeHours(9 * 60, 19 * 60)
# Created mid-morning on an arbitrary day: Datadog starts a recurrence without `start`
# at its creation, so occurrences begin then.
CREATED = datetime(2026, 1, 7, 10, 37, 12)
UNTIL = CREATED + timedelta(days=400)


def mute_windows(hours: OfficeHours, tz: ZoneInfo, semantics: str):
    for schedule in off_hours_schedules(hours):
        for recurrence in schedule.recurrences:
            duration = timedelta(minutes=recurrence.duration_minutes)
            rule = rrulestr(recurrence.rrule, dtstart=CREATED)
            for local in rule.between(CREATED, UNTIL, inc=True):
                start = local.replace(tzinfo=tz).astimezone(UTC)
                if semantics == "elapsed":
                    end = start + duration
                else:
                    end = (local + duration).replace(tzinfo=tz).astimezone(UTC)
                yield start, end


def merged(intervals):
    result: list[list[datetime]] = []
    for start, end in sorted(intervals):
        if result and start <= result[-1][1]:
            result[-1][1] = max(result[-1][1], end)
        else:
            result.append([start, end])
    return [tuple(interval) for interval in result]


def office_intervals(hours: OfficeHours, tz: ZoneInfo):
    day = CREATED.date() - timedelta(days=2)
    while day <= UNTIL.date() + timedelta(days=2):
        if day.weekday() < 5:
            yield _at(day, hours.start_minutes, tz), _at(day, hours.end_minutes, tz)
        day += timedelta(days=1)


def _at(day: date, minutes: int, tz: ZoneInfo) -> datetime:
    local = datetime.combine(day, time()) + timedelta(minutes=minutes)
    return local.replace(tzinfo=tz).astimezone(UTC)


def clip(intervals, low, high):
    return [(max(s, low), min(e, high)) for s, e in intervals if e > low and s < high]


def complement(intervals, low, high):
    gaps, cursor = [], low
    for start, end in clip(merged(intervals), low, high):
        if start > cursor:
            gaps.append((cursor, start))
        cursor = max(cursor, end)
    if cursor < high:
        gaps.append((cursor, high))
    return gaps


def check_exact(hours: OfficeHours, zone: str, semantics: str):
    tz = ZoneInfo(zone)
    # Compare from a week after creation (the first night after creation is partial:
    # occurrences start at creation) to a few days before the expansion ends.
    low = (CREATED + timedelta(days=7)).replace(tzinfo=tz).astimezone(UTC)
    high = (UNTIL - timedelta(days=3)).replace(tzinfo=tz).astimezone(UTC)
    muted = clip(merged(mute_windows(hours, tz, semantics)), low, high)
    expected = complement(office_intervals(hours, tz), low, high)
    assert high - low > timedelta(days=365)
    return muted, expected


@pytest.mark.parametrize("semantics", SEMANTICS)
@pytest.mark.parametrize("zone", ZONES)
def test_downtimes_mute_exactly_the_time_outside_office_hours(zone, semantics):
    muted, expected = check_exact(NINE_TO_SEVEN, zone, semantics)
    assert muted == expected, (
        f"in {zone}, reading durations as {semantics} time, the union of the downtime "
        "windows must equal the time outside Monday-Friday 09:00-19:00: first difference "
        f"{next(((m, e) for m, e in zip(muted, expected) if m != e), None)}")


@pytest.mark.parametrize("semantics", SEMANTICS)
def test_office_hours_with_minutes_are_muted_exactly(semantics):
    hours = OfficeHours(8 * 60 + 30, 17 * 60 + 45)
    muted, expected = check_exact(hours, "Europe/Paris", semantics)
    assert muted == expected, "08:30-17:45 office hours: downtimes must end at 08:30 and start at 17:45"


@pytest.mark.parametrize("semantics", SEMANTICS)
def test_office_hours_until_midnight_leave_no_zero_length_window(semantics):
    hours = OfficeHours(6 * 60, DAY)
    nights = weekday_nights(hours)
    assert all(r.duration_minutes > 0 for r in nights.recurrences), \
        "Datadog rejects a zero-length recurrence"
    muted, expected = check_exact(hours, "America/New_York", semantics)
    assert muted == expected


def test_monday_before_office_hours_is_muted():
    tz = ZoneInfo("America/New_York")
    monday_8am = datetime(2026, 3, 9, 8, 0, tzinfo=tz).astimezone(UTC)  # the day after DST starts
    muted = merged(mute_windows(NINE_TO_SEVEN, tz, "elapsed"))
    assert any(s <= monday_8am < e for s, e in muted), \
        "Monday 00:00-09:00 is outside office hours: a seed noticed a naive weekend downtime leaves it unmuted"


def test_recurrences_pin_their_time_of_day_in_the_rrule_and_carry_no_start():
    for schedule in off_hours_schedules(NINE_TO_SEVEN):
        for recurrence in schedule.recurrences:
            assert "BYHOUR=" in recurrence.rrule and "BYMINUTE=" in recurrence.rrule \
                and recurrence.rrule.endswith("BYSECOND=0"), (
                    "without a start, Datadog begins a recurrence when it is created: the "
                    "RRULE itself must fix the wall-clock time of each occurrence")
            assert "DTSTART" not in recurrence.rrule and "DURATION" not in recurrence.rrule, \
                "Datadog does not support DTSTART or DURATION inside an RRULE"


def test_weekday_nights_run_monday_to_friday_and_weekends_saturday_and_sunday():
    nights, weekend = off_hours_schedules(NINE_TO_SEVEN)
    assert {r.days for r in nights.recurrences} == {("MO", "TU", "WE", "TH", "FR")}
    assert {r.days for r in weekend.recurrences} == {("SA", "SU")}


def test_durations_use_datadog_duration_syntax():
    durations = [r.duration for s in off_hours_schedules(OfficeHours(510, 1065)) for r in s.recurrences]
    assert all(d[:-1].isdigit() and d[-1] in "mhdw" for d in durations), \
        f"Datadog durations are an integer and one of m, h, d, w: {durations}"
    assert "25h" in [r.duration for r in weekends(NINE_TO_SEVEN).recurrences]


def test_zones_whose_clocks_jump_two_hours_are_rejected():
    problem = clock_change_problem("Antarctica/Troll", NINE_TO_SEVEN)
    assert problem and "2:00:00" in problem, \
        "a two-hour change would shift a window past its one-hour overlap"


def test_every_zone_of_the_proof_is_supported():
    assert [zone for zone in ZONES if clock_change_problem(zone, NINE_TO_SEVEN)] == []
