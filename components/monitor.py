"""The metric monitor on my_metric: warning, critical and no-data, a message per state."""
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_datadog as datadog

from components import package
from components.args import read
from domain import Thresholds
from rules.monitor import monitor_message, monitor_name, monitor_query, monitor_thresholds

TYPE = package.token("MetricMonitor")
OLD_TYPE = "datadog-stack:monitoring:MetricMonitor"  # deployed stacks' token (the alias)


@dataclass(frozen=True)
class MetricMonitorArgs:
    stack: str
    """Stack name, at the start of the monitor's name (every notification's subject)."""
    host_names: Sequence[str]
    """Datadog hostnames watched; each alerts on its own average."""
    thresholds: Thresholds
    """Warning and critical thresholds, and the values at which each recovers."""
    no_data_minutes: int
    """Minutes without my_metric before the monitor notifies No Data."""
    notify: str
    """@-handle notified in every state."""
    tags: Sequence[str]
    """The stack's tags (`Settings.resource_tags`), so a search finds the monitor."""
    downtime_tag: str
    """The tag the off-hours downtimes select the monitor by (rules.downtimes.off_hours_tag)."""
    validate: bool
    """datadog:validate: off, the provider skips its plan-time call to Datadog."""
    app_url: str
    """The Datadog site's web app (`Settings.app_url`), where `url` points."""
    host_tag: Optional[str] = None
    """A fleet's account stack: the tag every group's hosts carry (rules.fleet.fleet_tag),
    watched instead of `host_names` (then empty)."""


class MetricMonitor(pulumi.ComponentResource):
    """A Datadog metric monitor on my_metric per host: warning and critical with recovery
    thresholds (hysteresis), No Data after a silence, a message for each state."""

    id: pulumi.Output[str]
    """The monitor's Datadog id."""
    url: pulumi.Output[str]
    """The monitor in the site's web app."""

    def __init__(self, name: str, args: MetricMonitorArgs,
                 opts: Optional[pulumi.ResourceOptions] = None):
        args = read(MetricMonitorArgs, args)
        super().__init__(TYPE, name, None, package.options(opts, OLD_TYPE))
        monitor = datadog.Monitor(
            f"{name}-monitor",
            name=monitor_name(args.stack),
            type="metric alert",
            query=monitor_query(args.host_names, args.thresholds, args.host_tag),
            message=monitor_message(args.thresholds, args.no_data_minutes, args.notify),
            monitor_thresholds=datadog.MonitorMonitorThresholdsArgs(
                **monitor_thresholds(args.thresholds)),
            notify_no_data=True,
            no_data_timeframe=args.no_data_minutes,
            # my_metric arrives every 45 s: Datadog advises against requiring a full
            # window for such sparse metrics, or the monitor would rarely evaluate.
            require_full_window=False,
            # Datadog's subject is "[Triggered on {host:vm1}] <name>" with include_tags,
            # "[Triggered] <name>" without (docs: monitors/guide/monitor_api_options). The
            # name already says "on vm1" through {{host.name}}: off, the host shows once.
            include_tags=False,
            tags=[*args.tags, args.downtime_tag],
            # The provider validates the monitor with Datadog during every preview
            # unless told not to: with datadog:validate off (an offline preview), off too.
            validate=args.validate,
            # Deployed stacks named the monitor like its component: the alias keeps that
            # monitor (its id, URL and history) instead of replacing it.
            opts=pulumi.ResourceOptions(parent=self, aliases=[pulumi.Alias(name=name)]),
        )
        self.id = monitor.id
        self.url = monitor.id.apply(lambda id_: f"{args.app_url}/monitors/{id_}")
        self.register_outputs({"id": self.id, "url": self.url})
