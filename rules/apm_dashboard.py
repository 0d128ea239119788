"""The APM dashboard's graphs: the Flask app's trace metrics beside its host's CPU, IO and network.

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

from typing import NamedTuple

from rules.timeboard import host_scope

SPAN = "flask.request"  # the root span ddtrace's Flask integration opens per request


class Request(NamedTuple):
    alias: str
    query: str


class Widget(NamedTuple):
    """A timeseries widget: its title, its requests and how they are drawn."""

    title: str
    requests: tuple[Request, ...]
    display_type: str = "line"


def trace_scope(service: str, env: str, host_tag: str | None = None) -> str:
    """The app's trace metrics on the host chosen in the `$host` template variable."""
    return f"service:{service},env:{env},{host_scope(host_tag)}"


def widgets(service: str, env: str, host_tag: str | None = None) -> list[Widget]:
    """APM widgets first (hits, errors, latency), then the host's CPU, IO and network.
    With `host_tag` (a fleet's account stack), only among the hosts carrying it."""
    scope = trace_scope(service, env, host_tag)
    hosts = host_scope(host_tag)
    return [
        Widget(f"{service}: requests (hits) by resource on $host", (Request(
            "hits", f"sum:trace.{SPAN}.hits{{{scope}}} by {{resource_name}}.as_count()"),),
            "bars"),
        Widget(f"{service}: errors by resource on $host", (Request(
            "errors", f"sum:trace.{SPAN}.errors{{{scope}}} by {{resource_name}}.as_count()"),),
            "bars"),
        Widget(f"{service}: latency p50 / p95 (s) on $host",
               (Request("p50", f"p50:trace.{SPAN}{{{scope}}}"),
                Request("p95", f"p95:trace.{SPAN}{{{scope}}}"))),
        Widget("CPU user / system (%) on $host",
               (Request("user", f"avg:system.cpu.user{{{hosts}}}"),
                Request("system", f"avg:system.cpu.system{{{hosts}}}")), "area"),
        Widget("Disk utilization (%) on $host",
               (Request("io util", f"avg:system.io.util{{{hosts}}} by {{device}}"),)),
        Widget("Disk await (ms) on $host",
               (Request("io await", f"avg:system.io.await{{{hosts}}} by {{device}}"),)),
        Widget("Network bytes received / sent (B/s) on $host",
               (Request("received", f"avg:system.net.bytes_rcvd{{{hosts}}}"),
                Request("sent", f"avg:system.net.bytes_sent{{{hosts}}}"))),
    ]


def title(service: str, env: str) -> str:
    return f"{service} ({env}): APM and host metrics"


def description(service: str, resource_tags: tuple[str, ...]) -> str:
    # Datadog dashboards take only team:<name> tags: the stack's tags go in the text.
    return (f"Trace metrics of {service} ({SPAN} spans) beside its host's CPU, IO and "
            f"network. Managed by Pulumi: {' '.join(resource_tags)}.")
