"""The seeds' timeboard: an ordered dashboard of three graphs scoped by a host variable."""
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_datadog as datadog

from components import package
from components.args import read
from rules.timeboard import HOST_VARIABLE, Graph, graphs

TYPE = package.token("Timeboard")
OLD_TYPE = "datadog-stack:dashboards:Timeboard"  # deployed stacks' token (the alias)


@dataclass(frozen=True)
class TimeboardArgs:
    stack: str
    """Stack name, in the board's title."""
    database_kind: str
    """`postgres` or `mysql`: which integration's metric the anomaly graph shows."""
    host_names: Sequence[str]
    """Datadog hostnames the `$host` variable offers; the first is its default (empty:
    any host, `*` by default)."""
    app_url: str
    """The Datadog site's web app (`Settings.app_url`), where `url` points."""
    host_tag: Optional[str] = None
    """A fleet's account stack: the tag every group's hosts carry (rules.fleet.fleet_tag);
    the graphs show only hosts carrying it (then `host_names` is empty)."""


class Timeboard(pulumi.ComponentResource):
    """A Datadog timeboard: my_metric, its anomalies and the database's load, one time frame,
    scoped by a `$host` variable."""

    id: pulumi.Output[str]
    """The dashboard's Datadog id."""
    url: pulumi.Output[str]
    """The dashboard in the site's web app."""

    def __init__(self, name: str, args: TimeboardArgs,
                 opts: Optional[pulumi.ResourceOptions] = None):
        args = read(TimeboardArgs, args)
        super().__init__(TYPE, name, None, package.options(opts, OLD_TYPE))
        dashboard = datadog.Dashboard(
            f"{name}-dashboard",
            title=f"my_metric and {args.database_kind} ({args.stack})",
            description="Managed by Pulumi (datadog-stack): the custom check and the database.",
            layout_type="ordered",  # a timeboard: widgets flow in order, one time frame
            template_variables=[host_variable(args.host_names)],
            widgets=[_timeseries(graph) for graph in graphs(args.database_kind, args.host_tag)],
            # Deployed stacks named the dashboard like its component: the alias keeps that
            # dashboard (its id and URL) instead of replacing it.
            opts=pulumi.ResourceOptions(parent=self, aliases=[pulumi.Alias(name=name)]),
        )
        self.id = dashboard.id
        self.url = dashboard.url.apply(lambda path: f"{args.app_url}{path}")
        self.register_outputs({"id": self.id, "url": self.url})


def host_variable(host_names: Sequence[str]) -> datadog.DashboardTemplateVariableArgs:
    """`$host`: one of the stack's hosts, the first by default (both dashboards use it).
    Without host names (a fleet's account stack, whose hosts live in group stacks): any
    host, `*` by default, so the boards cover every group without listing its hosts."""
    if not host_names:
        return datadog.DashboardTemplateVariableArgs(name=HOST_VARIABLE, prefix="host",
                                                     defaults=["*"])
    return datadog.DashboardTemplateVariableArgs(
        name=HOST_VARIABLE, prefix="host", defaults=[host_names[0]],
        available_values=list(host_names))


def _timeseries(graph: Graph) -> datadog.DashboardWidgetArgs:
    return datadog.DashboardWidgetArgs(
        timeseries_definition=datadog.DashboardWidgetTimeseriesDefinitionArgs(
            title=graph.title,
            show_legend=False,
            live_span=graph.live_span,
            requests=[datadog.DashboardWidgetTimeseriesDefinitionRequestArgs(
                q=graph.query, display_type="line",
            )],
        ),
    )
