"""What a set of downtime recurrences mutes, under every reading Datadog could apply.

A recurrence is (rrule, duration, start) in a timezone, as the provider sends it and
Datadog stores it. Two readings of `start`:

* "start-is-occurrence": the start is the first occurrence whether or not it matches the
  rule (RFC 5545's DTSTART; Datadog's own reading: TestAccDowntimeScheduleChanged.yaml
  answers a PATCH with an `active` downtime muting from its start);
* "rule-matches-only": only the rule's matches from the start on (python-dateutil's).

Two readings of a duration across a DST change: "elapsed" (start + N hours of real time)
and "wall-clock" (start + N hours on the office clock). Intervals are compared exactly.
"""
from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr

from domain import OfficeHours
from rules.downtimes import START_FORMAT, START_MARGIN

UTC = timezone.utc
READINGS = ("start-is-occurrence", "rule-matches-only")
SEMANTICS = ("elapsed", "wall-clock")
_UNITS = {"m": 1, "h": 60, "d": 24 * 60, "w": 7 * 24 * 60}


def duration(text: str) -> timedelta:
    """Datadog's duration syntax: an integer and one of m, h, d, w."""
    number, unit = re.fullmatch(r"(\d+)([mhdw])", text).groups()
    return timedelta(minutes=int(number) * _UNITS[unit])


def mute_intervals(recurrences: list[dict], zone: str, until: datetime, reading: str,
                   semantics: str) -> list[tuple[datetime, datetime]]:
    """UTC intervals muted by recurrences [{rrule, duration, start}] up to `until` (UTC)."""
    tz = ZoneInfo(zone)
    horizon = until.astimezone(tz).replace(tzinfo=None)
    intervals = []
    for recurrence in recurrences:
        start = datetime.strptime(recurrence["start"], START_FORMAT)
        locals_ = set(rrulestr(recurrence["rrule"], dtstart=start).between(start, horizon, inc=True))
        if reading == "start-is-occurrence":
            locals_.add(start)
        length = duration(recurrence["duration"])
        for local in locals_:
            begin = local.replace(tzinfo=tz).astimezone(UTC)
            end = begin + length if semantics == "elapsed" else \
                (local + length).replace(tzinfo=tz).astimezone(UTC)
            intervals.append((begin, end))
    return merged(intervals)


def office_intervals(hours: OfficeHours, zone: str, low: datetime, high: datetime):
    tz = ZoneInfo(zone)
    day = low.astimezone(tz).date() - timedelta(days=2)
    while day <= high.astimezone(tz).date() + timedelta(days=2):
        if day.weekday() < 5:
            yield _at(day, hours.start_minutes, tz), _at(day, hours.end_minutes, tz)
        day += timedelta(days=1)


def _at(day: date, minutes: int, tz: ZoneInfo) -> datetime:
    local = datetime.combine(day, time()) + timedelta(minutes=minutes)
    return local.replace(tzinfo=tz).astimezone(UTC)


def merged(intervals) -> list[tuple[datetime, datetime]]:
    result: list[list[datetime]] = []
    for start, end in sorted(intervals):
        if result and start <= result[-1][1]:
            result[-1][1] = max(result[-1][1], end)
        else:
            result.append([start, end])
    return [tuple(interval) for interval in result]


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


def intersect(first, second):
    return [(max(a, c), min(b, d)) for a, b in first for c, d in second if max(a, c) < min(b, d)]


def wrong_minutes(recurrences: list[dict], hours: OfficeHours, zone: str, changed: datetime,
                  weeks: int, reading: str, semantics: str) -> dict[str, list]:
    """Compare what the recurrences mute for `weeks` after `changed` with office hours.

    "office_muted": office time muted (never allowed). "off_hours_open": off-hours time
    left unmuted from the first off-hours period that begins at least START_MARGIN after
    the change (the earliest any new start can be: rules.downtimes.first_start).
    """
    high = changed + timedelta(weeks=weeks)
    muted = clip(mute_intervals(recurrences, zone, high + timedelta(days=2), reading,
                                semantics), changed, high)
    office = list(office_intervals(hours, zone, changed, high))
    off_hours = complement(office, changed - timedelta(days=7), high + timedelta(days=7))
    first = next(start for start, _ in off_hours if start >= changed + START_MARGIN)
    owed = clip(off_hours, first, high)
    return {"office_muted": intersect(muted, clip(office, changed, high)),
            "off_hours_open": intersect(owed, complement(muted, first, high))}
