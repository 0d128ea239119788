"""The downtime proof's inputs: the office hours, the zones and the moments of change at which
the program's schedules are checked, and the recurrences the program sends at each moment.

Shared by the proof (tests/unit/test_downtime_rules.py), its run against the API stand-in
(tests/unit/test_downtimes_against_standin.py) and `make bench`, which prints the proof's count
(tests/bench/offline.py). What the recurrences mute is tests/downtime_reading.py.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from domain import OfficeHours
from rules.downtimes import DAY, clock_changes, first_start, off_hours_schedules

UTC = timezone.utc
# The zones the moments-of-change proof runs in: the dev stack's first.
CHANGE_ZONES = ["America/New_York", "Europe/Paris", "Australia/Sydney", "Australia/Lord_Howe",
                "Africa/Cairo", "America/Nuuk", "Asia/Kolkata", "UTC"]
NINE_TO_SEVEN = OfficeHours(9 * 60, 19 * 60)


def recurrences_at(hours: OfficeHours, zone: str, changed: datetime) -> list[dict]:
    """Both schedules' recurrences as the program sends them after a change at `changed`."""
    return [{"rrule": r.rrule, "duration": r.duration, "start": first_start(r, zone, changed)}
            for schedule in off_hours_schedules(hours) for r in schedule.recurrences]


def change_moments(zone: str, hours: OfficeHours = NINE_TO_SEVEN) -> list[datetime]:
    """Moments of a week (every 3 hours, and a minute or a few either side of each office
    boundary and midnight), every 3 hours of the week before each of 2027's clock changes
    (a change then starts windows just before it) and minutes around it, as UTC instants."""
    tz = ZoneInfo(zone)
    monday = datetime(2027, 1, 4, tzinfo=tz)
    moments = [monday + timedelta(hours=h) for h in range(0, 7 * 24, 3)]
    for day in range(7):
        for boundary in (hours.start_minutes, hours.end_minutes, DAY):
            for delta in (-6, -4, -1, 1):
                moments.append(monday + timedelta(days=day, minutes=boundary + delta))
    for before, _ in clock_changes(zone):
        if before.year == 2027:
            instant = before.astimezone(UTC)
            moments += [instant + timedelta(minutes=m) for m in (-60, -1, 2, 60)]
            moments += [instant - timedelta(hours=h) for h in range(2, 7 * 24, 3)]
    return [moment.astimezone(UTC) for moment in moments]
