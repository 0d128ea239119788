"""The rendered custom_queries, compiled and executed by datadog_checks.base's QueryManager
(the machinery the postgres and mysql integrations use for custom_queries), on given rows.
tests/agent/test_database_sql.py runs the same queries on real servers."""
from __future__ import annotations

import pytest
import yaml

pytest.importorskip("datadog_checks.base", reason="the Agent tier runs in venv-agent (tests/requirements/agent.txt)")
from datadog_checks.base.stubs import aggregator

from agent_files import render
from tests.agent.helpers import API_KEY, HOST, PASSWORD, make_settings
from tests.agent.standins.datadog_agent import run_custom_queries

pytestmark = pytest.mark.agent


def rendered_instance(kind: str) -> dict:
    files = render.render_host_files(make_settings(kind), HOST, API_KEY, PASSWORD)
    return yaml.safe_load(files[render.DB_CONF[kind]])["instances"][0]


def run_on_rows(kind: str, rows: list) -> tuple[dict, list]:
    instance, seen = rendered_instance(kind), []
    aggregator.reset()
    run_custom_queries(kind, instance, lambda q: seen.append(q) or rows)
    return instance, seen


def test_postgres_query_yields_a_connections_gauge_and_a_transactions_count():
    """xact_commit + xact_rollback is cumulative: as monotonic_count the Agent reports the
    increase between runs; numbackends is a level, a gauge."""
    instance, seen = run_on_rows("postgres", [("3", "1042")])
    assert seen == [instance["custom_queries"][0]["query"]]
    tags = instance["tags"] + ["query:database_activity"]
    aggregator.assert_metric("postgresql.custom.connections", value=3,
                             metric_type=aggregator.GAUGE, tags=tags)
    aggregator.assert_metric("postgresql.custom.transactions", value=1042,
                             metric_type=aggregator.MONOTONIC_COUNT, tags=tags)
    aggregator.assert_all_metrics_covered()


def test_mysql_query_yields_a_threads_gauge_per_command():
    instance, _ = run_on_rows("mysql", [("Daemon", "5"), ("Query", "1"), ("Sleep", "2")])
    for command, value in (("Daemon", 5), ("Query", 1), ("Sleep", 2)):
        aggregator.assert_metric("mysql.custom.threads", value=value, metric_type=aggregator.GAUGE,
                                 tags=instance["tags"] + ["query:threads_by_command",
                                                          f"command:{command}"])
    aggregator.assert_all_metrics_covered()


@pytest.mark.parametrize("kind", ["postgres", "mysql"])
def test_the_metric_install_sh_verifies_is_a_gauge_of_the_query(kind):
    """install.sh greps `datadog-agent check` for it; a single run shows gauges only."""
    query = render.POSTGRES_CUSTOM_QUERY if kind == "postgres" else render.MYSQL_CUSTOM_QUERY
    gauges = [f"{query['metric_prefix']}.{c['name']}" for c in query["columns"] if c["type"] == "gauge"]
    assert render.CUSTOM_METRIC[kind] in gauges
