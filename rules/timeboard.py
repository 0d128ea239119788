"""The timeboard's three graphs over the `host` template variable, each with its time frame."""
from __future__ import annotations

from typing import NamedTuple

# A metric every installation of each integration reports, so the anomaly band has data.
DATABASE_METRICS = {
    "postgres": ("postgresql.rows_fetched", "PostgreSQL rows fetched"),
    "mysql": ("mysql.performance.queries", "MySQL queries"),
}
HOST_VARIABLE = "host"
# The seeds set the timeboard to the past 5 minutes. The provider's Dashboard has no time
# frame of its own, and the dashboard URL parameters Datadog documents (from_ts, to_ts,
# live: docs dashboards/guide/custom_time_frames) are epochs, fixed when the link is made,
# so an exported link would go stale and change on every `pulumi up`. A widget's
# `live_span` is a sliding window that an ordered dashboard accepts (cassette
# TestAccDatadogDashboardTimeseries.yaml: layout_type ordered, "time":{"live_span":"5m"},
# answered 200 with the same), so the live graphs carry it themselves.
PAST_5_MINUTES = "5m"
# Hourly sums need hours to show: a 5-minute span holds at most part of one.
PAST_DAY = "1d"


class Graph(NamedTuple):
    title: str
    query: str
    live_span: str


def host_scope(host_tag: str | None = None) -> str:
    """The graphs' scope: the host chosen in `$host`; in a fleet's account stack, among the
    hosts carrying its fleet tag (rules/fleet.py), so another team's hosts never show."""
    return f"${HOST_VARIABLE},{host_tag}" if host_tag else f"${HOST_VARIABLE}"


def graphs(database_kind: str, host_tag: str | None = None) -> list[Graph]:
    metric, label = DATABASE_METRICS[database_kind]
    scope = host_scope(host_tag)
    return [
        Graph("my_metric on the host, past 5 minutes", f"avg:my_metric{{{scope}}}",
              PAST_5_MINUTES),
        Graph(f"{label} with anomaly bands (basic algorithm, 2 deviations), past 5 minutes",
              f"anomalies(avg:{metric}{{{scope}}}, 'basic', 2)", PAST_5_MINUTES),
        # rollup(sum, 3600): each point is the sum of all my_metric values in its hour.
        Graph("my_metric summed over each hour, past day",
              f"sum:my_metric{{{scope}}}.rollup(sum, 3600)", PAST_DAY),
    ]
