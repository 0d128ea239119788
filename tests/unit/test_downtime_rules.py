"""Proof that the two downtime schedules mute exactly the time outside office hours.

The recurrences, with the starts the program gives them at a moment of change, are
expanded with python-dateutil in timezones with and without daylight saving, under both
readings of a start and both readings of a duration (tests/downtime_reading.py), and
compared exactly with office hours: no office minute muted, and every off-hours minute
muted from the first off-hours period that begins after the change (the moments and zones:
tests/downtime_moments.py).
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from rules.downtimes import (DAY, START_FORMAT, Recurrence, clock_change_problem, clock_changes,
                             first_start, off_hours_schedules, weekday_nights, weekends)
from domain import OfficeHours
from tests.downtime_moments import CHANGE_ZONES, NINE_TO_SEVEN, change_moments, recurrences_at
from tests.downtime_reading import READINGS, SEMANTICS, mute_intervals, wrong_minutes

UTC = timezone.utc
# DST at 02:00/03:00 (New York, Paris, Sydney, London), a 30-minute change (Lord Howe),
# at midnight (Cairo, Beirut, Havana, Santiago), on Saturday night (Nuuk), none (Tokyo,
# Kolkata, UTC).
ZONES = ["America/New_York", "Europe/Paris", "Australia/Sydney", "Europe/London",
         "Australia/Lord_Howe", "Africa/Cairo", "Asia/Beirut", "America/Havana",
         "America/Santiago", "America/Nuuk", "Asia/Tokyo", "Asia/Kolkata", "UTC"]
def check_changes(zone: str, hours: OfficeHours, reading: str, semantics: str) -> list[str]:
    problems = []
    for changed in change_moments(zone, hours):
        wrong = wrong_minutes(recurrences_at(hours, zone, changed), hours, zone, changed,
                              3, reading, semantics)
        problems += [f"changed {changed:%a %Y-%m-%d %H:%M} UTC: {kind} {wrong[kind][:2]}"
                     for kind in wrong if wrong[kind]]
    return problems


@pytest.mark.parametrize("zone", CHANGE_ZONES)
def test_a_change_at_any_moment_never_mutes_office_hours_and_mutes_every_later_night(zone):
    problems = [f"{reading}, {semantics}: {problem}"
                for reading in READINGS for semantics in SEMANTICS
                for problem in check_changes(zone, NINE_TO_SEVEN, reading, semantics)]
    assert problems == [], f"in {zone}: {len(problems)} wrong cases, first: {problems[:3]}"


@pytest.mark.parametrize("semantics", SEMANTICS)
@pytest.mark.parametrize("zone", ZONES)
def test_downtimes_mute_exactly_the_time_outside_office_hours_for_a_year(zone, semantics):
    changed = datetime(2026, 1, 7, 15, 37, 12, tzinfo=UTC)
    wrong = wrong_minutes(recurrences_at(NINE_TO_SEVEN, zone, changed), NINE_TO_SEVEN, zone,
                          changed, 57, "start-is-occurrence", semantics)
    assert wrong == {"office_muted": [], "off_hours_open": []}, (
        f"in {zone}, reading durations as {semantics} time, the windows must mute exactly "
        f"the time outside Monday-Friday 09:00-19:00 for 57 weeks: {wrong}")


@pytest.mark.parametrize("semantics", SEMANTICS)
def test_office_hours_with_minutes_are_muted_exactly(semantics):
    hours = OfficeHours(8 * 60 + 30, 17 * 60 + 45)
    assert check_changes("Europe/Paris", hours, "start-is-occurrence", semantics) == [], \
        "08:30-17:45 office hours: downtimes must end at 08:30 and start at 17:45"


@pytest.mark.parametrize("semantics", SEMANTICS)
def test_office_hours_until_midnight_leave_no_zero_length_window(semantics):
    hours = OfficeHours(6 * 60, DAY)
    nights = weekday_nights(hours)
    assert all(r.duration_minutes > 0 for r in nights.recurrences), \
        "Datadog rejects a zero-length recurrence"
    assert check_changes("America/New_York", hours, "start-is-occurrence", semantics) == []


def test_no_window_starts_at_midnight_where_clocks_change_then():
    starts = {r.start_minutes for s in off_hours_schedules(NINE_TO_SEVEN) for r in s.recurrences}
    assert 0 not in starts, ("Cairo, Havana, Beirut and Santiago change their clocks at "
                             "midnight: a window starting then would be skipped or doubled")


def test_a_start_is_never_a_wall_clock_time_a_clock_change_skips():
    # Cairo moves its clocks from 00:00 to 01:00 on the last Friday of April 2027.
    midnight = Recurrence(("FR", "SA"), 0, 300)
    thursday_noon = datetime(2027, 4, 29, 10, tzinfo=UTC)
    assert first_start(midnight, "Africa/Cairo", thursday_noon) == "2027-05-01T00:00:00", \
        "Friday 00:00 does not exist that day: the first start is Saturday's"


@pytest.mark.parametrize("end, problem", [
    # Autumn 2023: Thursday 24:00 back to 23:00, so Thursday 23:30 happens twice.
    (23 * 60 + 30, "its clock change on 2023-10-26 skips or repeats Thu 23:30, when a "
     "downtime window starts"),
    # Spring 2023: Thursday 24:00 on to Friday 01:00, so Friday 00:00 never happens.
    (DAY, "its clock change on 2023-04-27 skips or repeats Fri 00:00, when a downtime "
     "window starts"),
])
def test_office_hours_ending_where_the_clock_changes_are_refused(end, problem):
    assert clock_change_problem("Africa/Cairo", OfficeHours(9 * 60, end)) == problem, (
        "Cairo's clocks go from 00:00 to 01:00 in spring and from 24:00 back to 23:00 in "
        "autumn: an evening window starting then would be skipped or doubled")


@pytest.mark.parametrize("zone", ["America/Nuuk", "Pacific/Easter"])
def test_a_saturday_clock_change_never_refuses_office_hours_however_late_they_start(zone):
    # Nuuk changes on Saturday at 22:00 and 23:00, Easter Island at 22:00 and 24:00: before
    # a 23:30 office start, but on a weekend, which is muted all day.
    assert clock_change_problem(zone, OfficeHours(23 * 60 + 30, DAY)) is None, \
        "only a weekday change between 04:00 and office start shifts a window's end"


@pytest.mark.parametrize("zone, year, before, shift", [
    ("Europe/Athens", 2027, "2027-03-28 02:59:59 +0200", 60),  # 03:00 on to 04:00
    ("America/New_York", 2027, "2027-03-14 01:59:59 -0500", 60),  # 02:00 on to 03:00
    ("Africa/Cairo", 2027, "2027-04-29 23:59:59 +0200", 60),  # Friday 00:00 on to 01:00
    ("Australia/Lord_Howe", 2027, "2027-04-04 01:59:59 +1100", 30),  # back to 01:30
    ("Antarctica/Troll", 2027, "2027-03-28 00:59:59 +0000", 120),  # 01:00 on to 03:00
])
def test_a_clock_change_is_reported_at_the_last_second_before_it(zone, year, before, shift):
    first = next((moment, change) for moment, change in clock_changes(zone)
                 if moment.year == year)
    assert (f"{first[0]:%Y-%m-%d %H:%M:%S %z}", first[1]) == \
        (before, timedelta(minutes=shift)), (
            "the local time just before the change decides whether it falls inside a "
            "window; a moment after it reads Athens's 03:00 change as 04:00")


def test_a_start_is_at_least_five_minutes_ahead_of_the_clock():
    evening = next(r for r in weekday_nights(NINE_TO_SEVEN).recurrences if r.start_minutes == 19 * 60)
    three_to_seven = datetime(2027, 1, 4, 18, 57, tzinfo=ZoneInfo("America/New_York"))
    start = first_start(evening, "America/New_York", three_to_seven)
    assert start == "2027-01-05T19:00:00", \
        "Datadog must still see the start ahead of it when the create arrives"
    assert datetime.strptime(start, START_FORMAT) > three_to_seven.replace(tzinfo=None)


def test_monday_before_office_hours_is_muted():
    zone = "America/New_York"
    monday_8am = datetime(2026, 3, 9, 8, 0, tzinfo=ZoneInfo(zone)).astimezone(UTC)  # after DST starts
    changed = datetime(2026, 3, 4, 15, tzinfo=UTC)
    muted = mute_intervals(recurrences_at(NINE_TO_SEVEN, zone, changed), zone,
                           changed + timedelta(days=7), "rule-matches-only", "elapsed")
    assert any(s <= monday_8am < e for s, e in muted), \
        "Monday 00:00-09:00 is outside office hours: a seed noticed a naive weekend downtime leaves it unmuted"


def test_recurrences_pin_their_time_of_day_in_the_rrule():
    for schedule in off_hours_schedules(NINE_TO_SEVEN):
        for recurrence in schedule.recurrences:
            assert "BYHOUR=" in recurrence.rrule and "BYMINUTE=" in recurrence.rrule \
                and recurrence.rrule.endswith("BYSECOND=0"), (
                    "the RRULE fixes the wall-clock time of each occurrence, so the start "
                    "and the rule agree under either reading of the start")
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
