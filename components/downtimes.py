"""Two recurring downtimes that mute the monitor exactly outside office hours."""
from __future__ import annotations

import pulumi
import pulumi_datadog as datadog

from rules.downtimes import Schedule, downtime_message, off_hours_schedules
from rules.monitor import host_filter
from settings import Settings


class OffHoursDowntimes(pulumi.ComponentResource):
    def __init__(self, name: str, settings: Settings, monitor_id: pulumi.Input[str],
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("datadog-stack:monitoring:OffHoursDowntimes", name, None, opts)
        self.schedules = [
            _downtime(f"{name}-{schedule.key}", schedule, settings, monitor_id, self)
            for schedule in off_hours_schedules(settings.office_hours)
        ]
        self.ids = [schedule.id for schedule in self.schedules]
        self.register_outputs({"ids": self.ids})


def _downtime(name: str, schedule: Schedule, settings: Settings,
              monitor_id: pulumi.Input[str], parent: pulumi.Resource) -> datadog.DowntimeSchedule:
    return datadog.DowntimeSchedule(
        name,
        # Only this monitor, only our hosts' groups: never a global mute.
        monitor_identifier=datadog.DowntimeScheduleMonitorIdentifierArgs(
            monitor_id=pulumi.Output.from_input(monitor_id).apply(int),
        ),
        scope=_scope(settings),
        display_timezone=settings.timezone,
        message=downtime_message(schedule, settings.timezone, settings.notify),
        recurring_schedule=datadog.DowntimeScheduleRecurringScheduleArgs(
            timezone=settings.timezone,
            # No `start`: see rules.downtimes for why the RRULE pins the time instead.
            recurrences=[
                datadog.DowntimeScheduleRecurringScheduleRecurrenceArgs(
                    rrule=recurrence.rrule, duration=recurrence.duration,
                )
                for recurrence in schedule.recurrences
            ],
        ),
        opts=pulumi.ResourceOptions(parent=parent),
    )


def _scope(settings: Settings) -> str:
    hosts = host_filter(settings.hosts)
    return hosts if len(settings.hosts) == 1 else f"({hosts})"
