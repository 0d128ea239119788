"""The stack's resources, built from validated settings. `__main__` and the offline plan share it."""
from __future__ import annotations

import os
from datetime import datetime, timezone
from typing import Mapping

import pulumi

from components.agent_host import AgentHost, AgentHostArgs
from components.apm_dashboard import ApmDashboard
from components.apm_service import ApmService, ApmServiceArgs
from components.downtimes import OffHoursDowntimes, OffHoursDowntimesArgs
from components.monitor import MetricMonitor
from components.timeboard import Timeboard
from rules.downtimes import off_hours_tag
from settings import ConfigError, Settings

# Runs the program as if at another moment (ISO-8601 with a UTC offset): for the tests
# and demos that move a stand-in's clock; unset, the program uses the real clock.
CLOCK_VARIABLE = "DATADOG_STACK_NOW"


def clock(environ: Mapping[str, str] = os.environ) -> datetime:
    """The program's clock: the only input besides config, so a run is reproducible."""
    value = environ.get(CLOCK_VARIABLE)
    if not value:
        return datetime.now(timezone.utc)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        moment = None
    if moment is None or moment.utcoffset() is None:
        raise ConfigError(CLOCK_VARIABLE, f"{value!r} is not an ISO-8601 time with a UTC "
                          "offset, such as 2027-01-04T10:00:00+00:00")
    return moment


def build(settings: Settings, now: datetime) -> dict[str, pulumi.Input]:
    """Declare every resource; return the stack outputs. `now` sets the downtimes' starts."""
    timeboard = Timeboard("timeboard", settings)
    downtime_tag = off_hours_tag(pulumi.get_project(), settings.stack)
    monitor = MetricMonitor("my-metric-high", settings, downtime_tag)
    downtimes = OffHoursDowntimes("off-hours", OffHoursDowntimesArgs(
        office_hours=settings.office_hours, timezone=settings.timezone,
        host_names=tuple(host.name for host in settings.hosts), notify=settings.notify,
        monitor_tag=downtime_tag, now=now))
    apm_dashboard = ApmDashboard("apm", settings)
    agents = {host.name: AgentHost(f"{host.name}-agent", AgentHostArgs.from_settings(settings, host))
              for host in settings.hosts}
    # The app after its host's Agent: both may use apt, and traces need the trace agent.
    apps = {host.name: ApmService(f"{host.name}-app", ApmServiceArgs.from_settings(settings, host),
                                  after=[agents[host.name].install])
            for host in settings.hosts}
    return {
        "dashboardId": timeboard.dashboard.id,
        "dashboardUrl": timeboard.url,
        "monitorId": monitor.monitor.id,
        "monitorUrl": monitor.url,
        "downtimeIds": downtimes.ids,
        "apmDashboardUrl": apm_dashboard.url,
        "hosts": {name: {"files": agent.files, "fileHashes": agent.file_hashes,
                         "checkResult": agent.check_result, "appUrl": apps[name].url}
                  for name, agent in agents.items()},
    }
