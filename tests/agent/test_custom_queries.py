"""The rendered custom_queries, compiled and executed by datadog_checks.base's QueryManager
(the machinery the postgres and mysql integrations use for custom_queries)."""
from __future__ import annotations

import pytest
import yaml

pytest.importorskip("datadog_checks.base", reason="the Agent tier runs in venv-agent (requirements-agent.txt)")
from datadog_checks.base import AgentCheck
from datadog_checks.base.stubs import aggregator
from datadog_checks.base.utils.db import QueryManager

from agent_files import render
from tests.agent.helpers import API_KEY, HOST, PASSWORD, make_settings

pytestmark = pytest.mark.agent


@pytest.mark.parametrize("kind,metric", [("postgres", "postgresql.custom.seq_scans"),
                                         ("mysql", "mysql.custom.rows_read")])
def test_custom_query_yields_a_monotonic_count_per_table_tagged_with_the_table(kind, metric):
    """seq_scan and count_read are cumulative counters: submitted as monotonic_count, the
    Agent reports the increase between runs (a gauge would graph an ever-growing total)."""
    files = render.render_host_files(make_settings(kind), HOST, API_KEY, PASSWORD)
    instance = yaml.safe_load(files[render.DB_CONF[kind]])["instances"][0]
    check = AgentCheck(kind, {}, [instance])
    rows = [("public.orders", 7), ("public.users", 3)]
    seen = []
    manager = QueryManager(check, lambda q: seen.append(q) or rows, tags=instance["tags"])
    aggregator.reset()
    manager.compile_queries()  # raises on an invalid custom_queries shape
    manager.execute()
    assert seen == [instance["custom_queries"][0]["query"]]
    query_tag = instance["custom_queries"][0]["tags"][0]
    for table, value in rows:
        aggregator.assert_metric(metric, value=value, metric_type=aggregator.MONOTONIC_COUNT,
                                 tags=instance["tags"] + [query_tag, f"table:{table}"])
    aggregator.assert_all_metrics_covered()
