"""A Datadog dashboard: the Flask app's trace metrics beside its host's CPU, IO and network.

Trace metrics (https://docs.datadoghq.com/tracing/metrics/metrics_namespace/) are named
`trace.<SPAN_NAME>.<SUFFIX>` after the span, here ddtrace's `flask.request` root span:
`trace.flask.request.hits` and `.errors` are COUNTs (graphed `.as_count()`), and
`trace.flask.request` itself is the latency DISTRIBUTION (seconds), queried with the
percentile aggregators `p50:` / `p95:`. They are tagged env, service, version, resource
(`resource_name`) and http.status_code -- span tags such as `from_apm_route` are not.
Trace metrics also carry the `host` tag of the Agent that computed them, so the trace
widgets, like the host metrics from the Agent (`system.cpu.*`, `system.io.*`,
`system.net.*`), are scoped by the dashboard's `host` template variable (`$host`): every
widget shows the chosen host.
"""
from __future__ import annotations

import pulumi
import pulumi_datadog as datadog

from settings import Settings

TYPE = "datadog-stack:apm:ApmDashboard"
SPAN = "flask.request"  # the root span ddtrace's Flask integration opens per request


def trace_scope(settings: Settings) -> str:
    """The app's trace metrics on the host chosen in the `$host` template variable."""
    return f"service:{settings.apm.service},env:{settings.env},$host"


def _timeseries(title: str, *requests: tuple[str, str],
                display_type: str = "line") -> datadog.DashboardWidgetArgs:
    """A timeseries widget; each request is (alias, metric query)."""
    return datadog.DashboardWidgetArgs(
        timeseries_definition=datadog.DashboardWidgetTimeseriesDefinitionArgs(
            title=title,
            show_legend=True,
            requests=[
                datadog.DashboardWidgetTimeseriesDefinitionRequestArgs(
                    q=query,
                    display_type=display_type,
                    metadatas=[datadog.DashboardWidgetTimeseriesDefinitionRequestMetadataArgs(
                        expression=query, alias_name=alias)],
                )
                for alias, query in requests
            ],
        )
    )


def widgets(settings: Settings) -> list[datadog.DashboardWidgetArgs]:
    """APM widgets first (hits, errors, latency), then the host's CPU, IO and network."""
    scope = trace_scope(settings)
    svc = settings.apm.service
    return [
        _timeseries(f"{svc}: requests (hits) by resource on $host",
                    ("hits", f"sum:trace.{SPAN}.hits{{{scope}}} by {{resource_name}}.as_count()"),
                    display_type="bars"),
        _timeseries(f"{svc}: errors by resource on $host",
                    ("errors", f"sum:trace.{SPAN}.errors{{{scope}}} by {{resource_name}}.as_count()"),
                    display_type="bars"),
        _timeseries(f"{svc}: latency p50 / p95 (s) on $host",
                    ("p50", f"p50:trace.{SPAN}{{{scope}}}"),
                    ("p95", f"p95:trace.{SPAN}{{{scope}}}")),
        _timeseries("CPU user / system (%) on $host",
                    ("user", "avg:system.cpu.user{$host}"),
                    ("system", "avg:system.cpu.system{$host}"),
                    display_type="area"),
        _timeseries("Disk utilization (%) on $host",
                    ("io util", "avg:system.io.util{$host} by {device}")),
        _timeseries("Disk await (ms) on $host",
                    ("io await", "avg:system.io.await{$host} by {device}")),
        _timeseries("Network bytes received / sent (B/s) on $host",
                    ("received", "avg:system.net.bytes_rcvd{$host}"),
                    ("sent", "avg:system.net.bytes_sent{$host}")),
    ]


def template_variables(settings: Settings) -> list[datadog.DashboardTemplateVariableArgs]:
    """`$host`: one of the stack's hosts, the first by default."""
    names = [h.name for h in settings.hosts]
    return [datadog.DashboardTemplateVariableArgs(
        name="host", prefix="host", available_values=names, defaults=[names[0]])]


class ApmDashboard(pulumi.ComponentResource):
    """The APM + infrastructure dashboard of the exercise. Output: `url`."""

    url: pulumi.Output[str]

    def __init__(self, name: str, settings: Settings,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__(TYPE, name, None, opts)
        self.dashboard = datadog.Dashboard(
            f"{name}-dashboard",
            title=f"{settings.apm.service} ({settings.env}): APM and host metrics",
            description=(f"Trace metrics of {settings.apm.service} (flask.request spans) beside "
                         f"its host's CPU, IO and network. Managed by Pulumi: "
                         f"{' '.join(settings.resource_tags)}."),
            layout_type="ordered",
            reflow_type="auto",
            template_variables=template_variables(settings),
            widgets=widgets(settings),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.url = self.dashboard.id.apply(lambda id_: f"{settings.app_url}/dashboard/{id_}")
        self.register_outputs({"url": self.url})
