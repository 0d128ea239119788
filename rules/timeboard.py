"""The timeboard's three graphs, as (title, query) pairs over the `host` template variable."""
from __future__ import annotations

from settings import Settings

# A metric every installation of each integration reports, so the anomaly band has data.
DATABASE_METRICS = {
    "postgres": ("postgresql.rows_fetched", "PostgreSQL rows fetched"),
    "mysql": ("mysql.performance.queries", "MySQL queries"),
}
HOST_VARIABLE = "host"


def widget_queries(settings: Settings) -> list[tuple[str, str]]:
    metric, label = DATABASE_METRICS[settings.database.kind]
    scope = f"${HOST_VARIABLE}"
    return [
        ("my_metric on the host", f"avg:my_metric{{{scope}}}"),
        (f"{label} with anomaly bands (basic algorithm, 2 deviations)",
         f"anomalies(avg:{metric}{{{scope}}}, 'basic', 2)"),
        # rollup(sum, 3600): each point is the sum of all my_metric values in its hour.
        ("my_metric summed over each hour", f"sum:my_metric{{{scope}}}.rollup(sum, 3600)"),
    ]
