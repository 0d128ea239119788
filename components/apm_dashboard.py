"""A Datadog dashboard: the Flask app's trace metrics beside its host's CPU, IO and network.

What it graphs, and why those queries, is in rules/apm_dashboard.py.
"""
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_datadog as datadog

from components import package
from components.args import read
from components.timeboard import host_variable
from rules.apm_dashboard import Widget, description, title, widgets

TYPE = package.token("ApmDashboard")
OLD_TYPE = "datadog-stack:apm:ApmDashboard"  # deployed stacks' token (the alias)


@dataclass(frozen=True)
class ApmDashboardArgs:
    service: str
    """The app's Datadog service name (`apm.service`)."""
    env: str
    """Its `env` tag: the trace metrics of this environment only."""
    host_names: Sequence[str]
    """Datadog hostnames the `$host` variable offers; the first is its default (empty:
    any host, `*` by default)."""
    resource_tags: Sequence[str]
    """The stack's tags (`Settings.resource_tags`), named in the description."""
    app_url: str
    """The Datadog site's web app (`Settings.app_url`), where `url` points."""
    host_tag: Optional[str] = None
    """A fleet's account stack: the tag every group's hosts carry (rules.fleet.fleet_tag);
    the graphs show only hosts carrying it (then `host_names` is empty)."""


class ApmDashboard(pulumi.ComponentResource):
    """The APM + infrastructure dashboard of the exercise."""

    url: pulumi.Output[str]
    """The dashboard in the site's web app."""

    def __init__(self, name: str, args: ApmDashboardArgs,
                 opts: Optional[pulumi.ResourceOptions] = None):
        args = read(ApmDashboardArgs, args)
        super().__init__(TYPE, name, None, package.options(opts, OLD_TYPE))
        dashboard = datadog.Dashboard(
            f"{name}-dashboard",
            title=title(args.service, args.env),
            description=description(args.service, args.resource_tags),
            layout_type="ordered",
            reflow_type="auto",
            template_variables=[host_variable(args.host_names)],
            widgets=[_timeseries(widget) for widget in widgets(args.service, args.env, args.host_tag)],
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.url = dashboard.id.apply(lambda id_: f"{args.app_url}/dashboard/{id_}")
        self.register_outputs({"url": self.url})


def _timeseries(widget: Widget) -> datadog.DashboardWidgetArgs:
    return datadog.DashboardWidgetArgs(
        timeseries_definition=datadog.DashboardWidgetTimeseriesDefinitionArgs(
            title=widget.title,
            show_legend=True,
            requests=[
                datadog.DashboardWidgetTimeseriesDefinitionRequestArgs(
                    q=request.query,
                    display_type=widget.display_type,
                    metadatas=[datadog.DashboardWidgetTimeseriesDefinitionRequestMetadataArgs(
                        expression=request.query, alias_name=request.alias)],
                )
                for request in widget.requests
            ],
        )
    )
