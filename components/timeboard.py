"""The seeds' timeboard: an ordered dashboard of three graphs scoped by a host variable."""
from __future__ import annotations

import pulumi
import pulumi_datadog as datadog

from rules.timeboard import HOST_VARIABLE, Graph, graphs
from settings import Settings


class Timeboard(pulumi.ComponentResource):
    def __init__(self, name: str, settings: Settings, opts: pulumi.ResourceOptions | None = None):
        super().__init__("datadog-stack:dashboards:Timeboard", name, None, opts)
        self.dashboard = datadog.Dashboard(
            name,
            title=f"my_metric and {settings.database.kind} ({settings.stack})",
            description="Managed by Pulumi (datadog-stack): the custom check and the database.",
            layout_type="ordered",  # a timeboard: widgets flow in order, one time frame
            template_variables=[datadog.DashboardTemplateVariableArgs(
                name=HOST_VARIABLE, prefix="host",
                defaults=[settings.hosts[0].name],
                available_values=[host.name for host in settings.hosts],
            )],
            widgets=[_timeseries(graph) for graph in graphs(settings)],
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.url = self.dashboard.url.apply(lambda path: f"{settings.app_url}{path}")
        self.register_outputs({"id": self.dashboard.id, "url": self.url})


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
