"""The stack's resources, built from validated settings. `__main__` and the offline plan share it."""
from __future__ import annotations

import pulumi

from components.downtimes import OffHoursDowntimes
from components.monitor import MetricMonitor
from components.timeboard import Timeboard
from settings import Settings


def build(settings: Settings) -> dict[str, pulumi.Input]:
    """Declare every resource; return the stack outputs."""
    timeboard = Timeboard("timeboard", settings)
    monitor = MetricMonitor("my-metric-high", settings)
    downtimes = OffHoursDowntimes("off-hours", settings, monitor_id=monitor.monitor.id)
    return {
        "dashboardId": timeboard.dashboard.id,
        "dashboardUrl": timeboard.url,
        "monitorId": monitor.monitor.id,
        "monitorUrl": monitor.url,
        "downtimeIds": downtimes.ids,
    }
