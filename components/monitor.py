"""The metric monitor on my_metric: warning, critical and no-data, a message per state."""
from __future__ import annotations

import pulumi
import pulumi_datadog as datadog

from rules.monitor import monitor_message, monitor_name, monitor_query, monitor_thresholds
from settings import Settings


class MetricMonitor(pulumi.ComponentResource):
    def __init__(self, name: str, settings: Settings, downtime_tag: str,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("datadog-stack:monitoring:MetricMonitor", name, None, opts)
        self.monitor = datadog.Monitor(
            name,
            name=monitor_name(settings),
            type="metric alert",
            query=monitor_query(settings),
            message=monitor_message(settings),
            monitor_thresholds=datadog.MonitorMonitorThresholdsArgs(
                **monitor_thresholds(settings)),
            notify_no_data=True,
            no_data_timeframe=settings.no_data_minutes,
            # my_metric arrives every 45 s: Datadog advises against requiring a full
            # window for such sparse metrics, or the monitor would rarely evaluate.
            require_full_window=False,
            # Datadog's subject is "[Triggered on {host:vm1}] <name>" with include_tags,
            # "[Triggered] <name>" without (docs: monitors/guide/monitor_api_options). The
            # name already says "on vm1" through {{host.name}}: off, the host shows once.
            include_tags=False,
            # The off-hours downtimes select this monitor by that tag.
            tags=[*settings.resource_tags, downtime_tag],
            # The provider validates the monitor with Datadog during every preview
            # unless told not to: with datadog:validate off (an offline preview), off too.
            validate=settings.validate,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.url = self.monitor.id.apply(lambda id_: f"{settings.app_url}/monitors/{id_}")
        self.register_outputs({"id": self.monitor.id, "url": self.url})
