"""Two recurring downtimes that mute the monitor exactly outside office hours."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pulumi
import pulumi_datadog as datadog

from domain import OfficeHours
from rules.downtimes import Schedule, content_key, first_start, off_hours_schedules, \
    schedule_inputs

TYPE = "datadog-stack:monitoring:OffHoursDowntimes"
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
    host_names: tuple[str, ...]
    """Datadog hostnames whose monitor groups are muted."""
    notify: str
    """@-handle that each downtime's message notifies."""
    monitor_tag: str
    """The tag that selects the muted monitor (rules.downtimes.off_hours_tag)."""
    now: datetime
    """The program's clock: each recurrence starts at its first occurrence after it."""


class OffHoursDowntimes(pulumi.ComponentResource):
    ids: list[pulumi.Output[str]]
    """The two schedules' ids, weekday nights first."""

    def __init__(self, name: str, args: OffHoursDowntimesArgs,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__(TYPE, name, None, opts)
        self.ids = [_downtime(name, schedule, args, self).id
                    for schedule in off_hours_schedules(args.office_hours)]
        self.register_outputs({"ids": self.ids})


def _downtime(name: str, schedule: Schedule, args: OffHoursDowntimesArgs,
              parent: pulumi.Resource) -> datadog.DowntimeSchedule:
    inputs = schedule_inputs(schedule, args.timezone, args.host_names, args.notify,
                             args.monitor_tag)
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
                    start=first_start(recurrence, args.timezone, args.now))
                for recurrence in schedule.recurrences
            ],
        ),
        opts=pulumi.ResourceOptions(parent=parent, ignore_changes=[START]),
    )
