"""Office hours -> recurring downtime windows that mute exactly the time outside them.

Two schedules, as the seeds asked: weekday nights (Monday-Friday, office end to office
start, including Monday before office hours) and weekends (all of Saturday and Sunday).

Three facts shape the windows:

* Datadog counts a recurrence's `start` as its first occurrence, and a recurrence sent
  without one starts at the moment of the create or update (its own schema text, and
  `TestAccDowntimeScheduleChanged.yaml` in ../shared/datadog-cassettes: a PATCH with
  `"start": null` came back `active`, muting from the request time). So every
  recurrence carries a start: its first occurrence under the RRULE that begins at least
  `START_MARGIN` after the program's clock (`first_start`). The RRULE still pins the
  wall-clock time (BYHOUR, BYMINUTE, BYSECOND), so both readings of a start (an
  occurrence in itself, or only where it matches the rule) mute the same minutes.
* Datadog rejects a start in the past, on create and on update. The component therefore
  never updates a schedule in place: its resource name carries `content_key` of every
  other input, a changed schedule is a new resource created with a fresh start, and the
  start of an unchanged one is left as it was created (`ignore_changes`).
* Datadog may count a recurrence's duration as elapsed time or as wall-clock time; the
  two differ by one hour for a window that contains a daylight-saving change. DST changes
  happen before 04:00 local, so every window that ends at the office boundary starts at
  04:00 or later (it contains no change), and every window that may contain a change ends
  at least an hour inside off-hours and overlaps its successor by at least an hour. Either
  way the union of the windows is exactly the off-hours. `clock_change_problem` rejects
  the few timezones whose clocks change otherwise (by two hours, or on a weekday morning).
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Iterable
from zoneinfo import ZoneInfo

from domain import OfficeHours

WEEKDAYS = ("MO", "TU", "WE", "TH", "FR")
WEEKEND = ("SA", "SU")
WEEKDAY_CODES = WEEKDAYS + WEEKEND  # indexed by date.weekday(), Monday first
DAY = 24 * 60
# Local time before which every DST change of the supported zones happens.
DST_CHANGES_BEFORE = 4 * 60
# The most a DST change moves a wall clock.
DST_SHIFT = 60
# Night windows that may contain a DST change end at 05:00: 04:00 to 06:00 either way.
EARLY_END = DST_CHANGES_BEFORE + DST_SHIFT
# A start must still lie ahead when Datadog receives it, seconds after the program ran.
START_MARGIN = timedelta(minutes=5)
# Local times as Datadog takes a recurrence start: no UTC offset.
START_FORMAT = "%Y-%m-%dT%H:%M:%S"


@dataclass(frozen=True)
class Recurrence:
    """One recurrence of a Datadog downtime schedule, in the schedule's timezone."""

    days: tuple[str, ...]
    start_minutes: int  # local wall-clock time of day
    duration_minutes: int

    @property
    def rrule(self) -> str:
        hour, minute = divmod(self.start_minutes, 60)
        return (f"FREQ=WEEKLY;BYDAY={','.join(self.days)};"
                f"BYHOUR={hour};BYMINUTE={minute};BYSECOND=0")

    @property
    def duration(self) -> str:
        """Datadog's duration syntax: an integer and one of m, h, d, w."""
        hours, minutes = divmod(self.duration_minutes, 60)
        return f"{hours}h" if not minutes else f"{self.duration_minutes}m"


@dataclass(frozen=True)
class Schedule:
    key: str  # resource name suffix
    title: str
    recurrences: tuple[Recurrence, ...]


def label(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def weekday_nights(hours: OfficeHours) -> Schedule:
    """Monday-Friday nights: office end to 05:00 the next day, and 04:00 to office start.

    No window starts at midnight: a DST change there (Cairo, Havana, Beirut, Santiago)
    would skip or repeat its start. The evening window may contain a change, so it ends
    at 05:00 give or take an hour, always inside the 04:00 window that follows.
    """
    evening = (Recurrence(WEEKDAYS, hours.end_minutes, DAY - hours.end_minutes + EARLY_END)
               if hours.end_minutes < DAY
               # Office hours to midnight: the night starts at 00:00 the next day.
               else Recurrence(WEEKDAYS[1:] + WEEKEND[:1], 0, EARLY_END))
    # 04:00 to office start contains no DST change: it ends exactly at office start.
    morning = Recurrence(WEEKDAYS, DST_CHANGES_BEFORE, hours.start_minutes - DST_CHANGES_BEFORE)
    return Schedule(
        key="weekday-nights",
        title=(f"Weekday nights, {label(hours.end_minutes)} to "
               f"{label(hours.start_minutes)} Monday-Friday"),
        recurrences=(evening, morning),
    )


def weekends(hours: OfficeHours) -> Schedule:
    """Saturday and Sunday: 04:00 to 05:00 the next day, each day.

    Friday's evening window runs to Saturday 05:00 and Monday's morning window starts at
    04:00, so these two meet both; a DST change inside a window moves its end by an hour,
    never past the next window's start.
    """
    return Schedule(
        key="weekends",
        title="Weekends, Saturday and Sunday",
        recurrences=(Recurrence(WEEKEND, DST_CHANGES_BEFORE, DAY + DST_SHIFT),),
    )


def off_hours_schedules(hours: OfficeHours) -> tuple[Schedule, Schedule]:
    return weekday_nights(hours), weekends(hours)


def downtime_message(schedule: Schedule, timezone: str, notify: str) -> str:
    return (f"my_metric monitor muted: {schedule.title} ({timezone}), outside office "
            f"hours. {notify}")


def downtime_scope(host_names: Iterable[str], host_tag: str | None = None) -> str:
    """The hosts' groups in Datadog's downtime scope syntax: `host:a` or `host:(a OR b)`;
    with `host_tag` (a fleet's account stack, rules/fleet.py), that tag instead.

    Datadog's downtime docs: "Top level ORs are not supported", so several hosts are
    one `host:(... OR ...)` term, not `(host:a OR host:b)`.
    """
    if host_tag:
        return host_tag
    names = list(host_names)
    return f"host:{names[0]}" if len(names) == 1 else f"host:({' OR '.join(names)})"


def off_hours_tag(project: str, stack: str) -> str:
    """The monitor tag the downtimes select their monitor by: one per project and stack,
    so two projects' `dev` stacks in one Datadog org never mute each other's monitors.

    A tag, not the monitor's id: a monitor recreated with a new id (deleted by hand,
    then `pulumi up`) would otherwise force an update of the downtimes, and an update
    would send their creation-time starts, now in the past, which Datadog rejects.
    """
    return f"off-hours-downtimes:{project}/{stack}"


def first_start(recurrence: Recurrence, zone: str, now: datetime) -> str:
    """The recurrence's first occurrence at least START_MARGIN after `now`, local time.

    Occurrences whose wall-clock time a DST change skips or repeats are passed over,
    so the start is one unambiguous instant that matches the RRULE.
    """
    tz = ZoneInfo(zone)
    earliest = now + START_MARGIN
    day = earliest.astimezone(tz).date() - timedelta(days=1)
    while True:
        if WEEKDAY_CODES[day.weekday()] in recurrence.days:
            local = datetime.combine(day, datetime.min.time()) + timedelta(
                minutes=recurrence.start_minutes)
            if _exists_once(local, tz) and local.replace(tzinfo=tz) >= earliest:
                return local.strftime(START_FORMAT)
        day += timedelta(days=1)


def _exists_once(local: datetime, tz: ZoneInfo) -> bool:
    """The wall-clock time happens exactly once that day: in a DST gap or overlap the
    two folds (PEP 495) give different UTC offsets."""
    return local.replace(tzinfo=tz, fold=0).utcoffset() == local.replace(tzinfo=tz, fold=1).utcoffset()


def schedule_inputs(schedule: Schedule, zone: str, host_names: Iterable[str], notify: str,
                    monitor_tag: str, host_tag: str | None = None) -> dict[str, Any]:
    """Every input of one schedule but its starts: only this monitor, only our hosts."""
    return {
        "monitor_tags": [monitor_tag],
        "scope": downtime_scope(host_names, host_tag),
        "display_timezone": zone,
        "message": downtime_message(schedule, zone, notify),
        "timezone": zone,
        "recurrences": [{"rrule": r.rrule, "duration": r.duration} for r in schedule.recurrences],
    }


def content_key(inputs: Any) -> str:
    """A short digest of a schedule's inputs other than its starts: its resource name
    changes with them, so a changed schedule is created anew, never updated."""
    text = json.dumps(inputs, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:8]


# The clock changes checked: fixed years, so validation never depends on today's date.
CHECKED_YEARS = range(2020, 2046)


def clock_changes(zone: str):
    """(local wall time just before, shift) of each clock change in CHECKED_YEARS."""
    tz = ZoneInfo(zone)
    instant = datetime(CHECKED_YEARS.start, 1, 1, tzinfo=timezone.utc)
    end = datetime(CHECKED_YEARS.stop, 1, 1, tzinfo=timezone.utc)
    offset = instant.astimezone(tz).utcoffset()
    while instant < end:
        step = instant + timedelta(days=1)
        if step.astimezone(tz).utcoffset() != offset:
            # Bisect to the second: `high - 1 s` is then no later than `low`, on the old
            # offset (a bound of a minute put it up to 59 s after the change: Athens's
            # spring change, at 03:00, was reported at 04:00).
            low, high = instant, step
            while high - low > timedelta(seconds=1):
                middle = low + (high - low) / 2
                if middle.astimezone(tz).utcoffset() == offset:
                    low = middle
                else:
                    high = middle
            new = high.astimezone(tz).utcoffset()
            yield (high - timedelta(seconds=1)).astimezone(tz), abs(new - offset)
            offset = new
        instant = step


def clock_change_problem(zone: str, hours: OfficeHours) -> str | None:
    """Why the windows above cannot stay exact in this timezone, or None."""
    for before, shift in clock_changes(zone):
        minutes = before.hour * 60 + before.minute
        if shift > timedelta(minutes=DST_SHIFT):
            return f"its clocks change by {shift} on {before:%Y-%m-%d}"
        if before.weekday() < 5 and DST_CHANGES_BEFORE <= minutes < hours.start_minutes:
            return (f"its clocks change at {before:%H:%M} on a weekday ({before:%Y-%m-%d}), "
                    f"inside the {label(DST_CHANGES_BEFORE)}-{label(hours.start_minutes)} window")
        skipped = _start_skipped_by(before, ZoneInfo(zone), hours)
        if skipped:
            return (f"its clock change on {before:%Y-%m-%d} skips or repeats {skipped}, "
                    "when a downtime window starts")
    return None


def _start_skipped_by(before: datetime, tz: ZoneInfo, hours: OfficeHours) -> str | None:
    """A window start (a local time) that the clock change after `before` skips or repeats.

    RFC 5545 ignores an occurrence at a time that does not exist, and one that exists
    twice is ambiguous: either would leave off-hours unmuted.
    """
    for day in (before.date() + timedelta(days=offset) for offset in (-1, 0, 1)):
        for schedule in off_hours_schedules(hours):
            for recurrence in schedule.recurrences:
                local = datetime.combine(day, datetime.min.time()) + timedelta(
                    minutes=recurrence.start_minutes)
                if WEEKDAY_CODES[day.weekday()] in recurrence.days and not _exists_once(local, tz):
                    return f"{local:%a %H:%M}"
    return None
