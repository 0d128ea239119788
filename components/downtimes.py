"""Two recurring downtimes that mute the monitor exactly outside office hours."""
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Optional

import pulumi
import pulumi_datadog as datadog

from components import package
from components.args import ArgsError, read
from domain import OfficeHours
from rules.downtimes import Schedule, content_key, first_start, off_hours_schedules, \
    schedule_inputs

TYPE = package.token("OffHoursDowntimes")
OLD_TYPE = "datadog-stack:monitoring:OffHoursDowntimes"  # deployed stacks' token (the alias)
# A schedule keeps the starts it was created with: sending them again on an update would
# send a past start, which Datadog rejects. Every other input is in the resource name
# (rules.downtimes.content_key), so a changed schedule is a new resource with new starts.
START = "recurringSchedule.recurrences[*].start"


@dataclass(frozen=True)
class OffHoursDowntimesArgs:
    office_hours: OfficeHours
    """Monday-Friday office hours, wall-clock time in `timezone`: never muted."""
    timezone: str
    """IANA timezone of the office; the schedules recur in it."""
    host_names: Sequence[str]
    """Datadog hostnames whose monitor groups are muted."""
    notify: str
    """@-handle that each downtime's message notifies."""
    monitor_tag: str
    """The tag that selects the muted monitor (rules.downtimes.off_hours_tag)."""
    now: str
    """The program's clock, ISO-8601 with a UTC offset (2027-01-04T10:00:00+00:00): each
    recurrence starts at its first occurrence after it."""
    host_tag: Optional[str] = None
    """A fleet's account stack: the tag every group's hosts carry (rules.fleet.fleet_tag),
    the scope instead of `host_names` (then empty)."""


class OffHoursDowntimes(pulumi.ComponentResource):
    """Two recurring Datadog downtime schedules (weekday nights, weekends) that mute the
    monitor exactly outside office hours, across DST changes."""

    ids: list[pulumi.Output[str]]
    """The two schedules' ids, weekday nights first."""

    def __init__(self, name: str, args: OffHoursDowntimesArgs,
                 opts: Optional[pulumi.ResourceOptions] = None):
        args = read(OffHoursDowntimesArgs, args)
        now = clock(args.now)
        super().__init__(TYPE, name, None, package.options(opts, OLD_TYPE))
        self.ids = [_downtime(name, schedule, args, now, self).id
                    for schedule in off_hours_schedules(args.office_hours)]
        self.register_outputs({"ids": self.ids})


def clock(now: str) -> datetime:
    """`now` as an aware datetime, or ArgsError naming the input."""
    try:
        moment = datetime.fromisoformat(now)
    except (TypeError, ValueError):
        moment = None
    if moment is None or moment.utcoffset() is None:
        raise ArgsError("args.now", f"{now!r} is not an ISO-8601 time with a UTC offset, "
                        "such as 2027-01-04T10:00:00+00:00")
    return moment


def _downtime(name: str, schedule: Schedule, args: OffHoursDowntimesArgs, now: datetime,
              parent: pulumi.Resource) -> datadog.DowntimeSchedule:
    inputs = schedule_inputs(schedule, args.timezone, args.host_names, args.notify,
                             args.monitor_tag, args.host_tag)
    return datadog.DowntimeSchedule(
        f"{name}-{schedule.key}-{content_key(inputs)}",
        monitor_identifier=datadog.DowntimeScheduleMonitorIdentifierArgs(
            monitor_tags=inputs["monitor_tags"]),
        scope=inputs["scope"],
        display_timezone=inputs["display_timezone"],
        message=inputs["message"],
        recurring_schedule=datadog.DowntimeScheduleRecurringScheduleArgs(
            timezone=inputs["timezone"],
            recurrences=[
                datadog.DowntimeScheduleRecurringScheduleRecurrenceArgs(
                    rrule=recurrence.rrule, duration=recurrence.duration,
                    start=first_start(recurrence, args.timezone, now))
                for recurrence in schedule.recurrences
            ],
        ),
        opts=pulumi.ResourceOptions(parent=parent, ignore_changes=[START]),
    )
