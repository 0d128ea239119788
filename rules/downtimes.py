"""Office hours -> recurring downtime windows that mute exactly the time outside them.

Two schedules, as the seeds asked: weekday nights (Monday-Friday, office end to office
start, including Monday before office hours) and weekends (all of Saturday and Sunday).

Two facts shape the windows:

* Datadog rejects a recurrence whose `start` is in the past, on create and on update.
  So no recurrence carries a `start`: Datadog starts it when it is created, and the
  wall-clock time of every occurrence is pinned in the RRULE itself (BYHOUR, BYMINUTE,
  BYSECOND). The program's inputs therefore never depend on the date they are applied.
* Datadog may count a recurrence's duration as elapsed time or as wall-clock time; the
  two differ by one hour for a window that contains a daylight-saving change. DST changes
  happen before 04:00 local, so every window that ends at the office boundary starts at
  04:00 or later (it contains no change), and every window that may contain a change ends
  at least an hour inside off-hours and overlaps its successor by at least an hour. Either
  way the union of the windows is exactly the off-hours. `clock_change_problem` rejects
  the few timezones whose clocks change otherwise (by two hours, or on a weekday morning).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:  # settings validates timezones with clock_change_problem below
    from settings import OfficeHours

WEEKDAYS = ("MO", "TU", "WE", "TH", "FR")
WEEKEND = ("SA", "SU")
DAY = 24 * 60
# Local time before which every DST change of the supported zones happens.
DST_CHANGES_BEFORE = 4 * 60
# The most a DST change moves a wall clock.
DST_SHIFT = 60


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


def weekday_nights(hours: "OfficeHours") -> Schedule:
    """Monday-Friday: office end to midnight, and midnight to office start."""
    early_end = DST_CHANGES_BEFORE + DST_SHIFT  # may shift by an hour either way
    recurrences = [
        # Midnight to 05:00 may contain a DST change: it then ends between 04:00 and
        # 06:00, still off-hours and still meeting the 04:00 window.
        Recurrence(WEEKDAYS, 0, early_end),
        # 04:00 to office start contains no DST change: it ends exactly at office start.
        Recurrence(WEEKDAYS, DST_CHANGES_BEFORE, hours.start_minutes - DST_CHANGES_BEFORE),
    ]
    if hours.end_minutes < DAY:
        # Office end to an hour past midnight: a DST change at midnight (Cairo, Beirut)
        # then still meets the midnight window.
        recurrences.insert(0, Recurrence(WEEKDAYS, hours.end_minutes,
                                         DAY - hours.end_minutes + DST_SHIFT))
    return Schedule(
        key="weekday-nights",
        title=(f"Weekday nights, {label(hours.end_minutes)} to "
               f"{label(hours.start_minutes)} Monday-Friday"),
        recurrences=tuple(recurrences),
    )


def weekends(hours: "OfficeHours") -> Schedule:
    """Saturday and Sunday, all day.

    Each day's window runs an hour past midnight so that a DST change inside it can
    neither leave the last hour of the day unmuted nor reach Monday's office hours.
    """
    return Schedule(
        key="weekends",
        title="Weekends, all day Saturday and Sunday",
        recurrences=(Recurrence(WEEKEND, 0, DAY + DST_SHIFT),),
    )


def off_hours_schedules(hours: "OfficeHours") -> tuple[Schedule, Schedule]:
    return weekday_nights(hours), weekends(hours)


def downtime_message(schedule: Schedule, timezone: str, notify: str) -> str:
    return (f"my_metric monitor muted: {schedule.title} ({timezone}), outside office "
            f"hours. {notify}")


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
            low, high = instant, step  # bisect to the minute of the change
            while high - low > timedelta(minutes=1):
                middle = low + (high - low) / 2
                if middle.astimezone(tz).utcoffset() == offset:
                    low = middle
                else:
                    high = middle
            new = high.astimezone(tz).utcoffset()
            yield (high - timedelta(seconds=1)).astimezone(tz), abs(new - offset)
            offset = new
        instant = step


def clock_change_problem(zone: str, hours: "OfficeHours") -> str | None:
    """Why the windows above cannot stay exact in this timezone, or None."""
    for before, shift in clock_changes(zone):
        minutes = before.hour * 60 + before.minute
        if shift > timedelta(minutes=DST_SHIFT):
            return f"its clocks change by {shift} on {before:%Y-%m-%d}"
        if before.weekday() < 5 and DST_CHANGES_BEFORE <= minutes < hours.start_minutes:
            return (f"its clocks change at {before:%H:%M} on a weekday ({before:%Y-%m-%d}), "
                    f"inside the {label(DST_CHANGES_BEFORE)}-{label(hours.start_minutes)} window")
    return None
