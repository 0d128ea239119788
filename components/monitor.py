"""The metric monitor on my_metric: warning, critical and no-data, a message per state."""
from __future__ import annotations

import pulumi
import pulumi_datadog as datadog

from rules.downtimes import off_hours_tag
from rules.monitor import monitor_message, monitor_name, monitor_query, number
from settings import Settings


class MetricMonitor(pulumi.ComponentResource):
    def __init__(self, name: str, settings: Settings, opts: pulumi.ResourceOptions | None = None):
        super().__init__("datadog-stack:monitoring:MetricMonitor", name, None, opts)
        self.monitor = datadog.Monitor(
            name,
            name=monitor_name(settings),
            type="metric alert",
            query=monitor_query(settings),
            message=monitor_message(settings),
            monitor_thresholds=datadog.MonitorMonitorThresholdsArgs(
                warning=number(settings.thresholds.warning),
                critical=number(settings.thresholds.critical),
            ),
            notify_no_data=True,
            no_data_timeframe=settings.no_data_minutes,
            # my_metric arrives every 45 s: Datadog advises against requiring a full
            # window for such sparse metrics, or the monitor would rarely evaluate.
            require_full_window=False,
            include_tags=True,
            # The off-hours downtimes select this monitor by that tag.
            tags=[*settings.resource_tags, off_hours_tag(settings.stack)],
            # The provider validates the monitor with Datadog during every preview
            # unless told not to: with datadog:validate off (an offline preview), off too.
            validate=settings.validate,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.url = self.monitor.id.apply(lambda id_: f"{settings.app_url}/monitors/{id_}")
        self.register_outputs({"id": self.monitor.id, "url": self.url})
