"""The stack's resources, built from validated settings. `__main__` and the offline plan share it."""
from __future__ import annotations

import pulumi

from components.agent_host import AgentHost
from components.apm_dashboard import ApmDashboard
from components.apm_service import ApmService
from components.downtimes import OffHoursDowntimes
from components.monitor import MetricMonitor
from components.timeboard import Timeboard
from settings import Settings


def build(settings: Settings) -> dict[str, pulumi.Input]:
    """Declare every resource; return the stack outputs."""
    timeboard = Timeboard("timeboard", settings)
    monitor = MetricMonitor("my-metric-high", settings)
    downtimes = OffHoursDowntimes("off-hours", settings, monitor_id=monitor.monitor.id)
    apm_dashboard = ApmDashboard("apm", settings)
    agents = {host.name: AgentHost(f"{host.name}-agent", settings, host) for host in settings.hosts}
    # The app after its host's Agent: both may use apt, and traces need the trace agent.
    apps = {host.name: ApmService(f"{host.name}-app", settings, host,
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
