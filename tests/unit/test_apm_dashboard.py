"""Issue 4's APM dashboard: its graphs as pure data (rules/apm_dashboard.py), then the
component built alone from its Args under the mock runtime (tools/mock_engine.py)."""
from __future__ import annotations

import re

import pytest

from components.apm_dashboard import TYPE, ApmDashboard, ApmDashboardArgs
from rules.apm_dashboard import widgets
from tools import mock_engine

pytestmark = pytest.mark.unit

DASHBOARD = "datadog:index/dashboard:Dashboard"


def queries(service: str = "flask-app", env: str = "dev") -> list[str]:
    return [request.query for widget in widgets(service, env) for request in widget.requests]


# --- the graphs -----------------------------------------------------------------------------

def test_dashboard_counts_hits_and_errors_of_the_services_flask_request_spans():
    scope = "{service:flask-app,env:dev,$host}"
    # trace.<span>.hits / .errors are COUNT metrics: summed and shown as counts.
    assert f"sum:trace.flask.request.hits{scope} by {{resource_name}}.as_count()" in queries(), \
        "hits of flask.request spans (COUNT metric) per resource, for this service and env"
    assert f"sum:trace.flask.request.errors{scope} by {{resource_name}}.as_count()" in queries(), \
        "errors of flask.request spans (COUNT metric) per resource, for this service and env"


def test_dashboard_shows_p50_and_p95_latency_from_the_span_distribution():
    latency = [w for w in widgets("shop", "qa") if "latency" in w.title]
    assert len(latency) == 1
    # trace.<span> (no suffix) is the latency DISTRIBUTION: percentiles are p50:/p95: aggregators.
    assert [r.query for r in latency[0].requests] == [
        "p50:trace.flask.request{service:shop,env:qa,$host}",
        "p95:trace.flask.request{service:shop,env:qa,$host}"], \
        "latency percentiles come from the trace.flask.request distribution"


def test_dashboard_shows_the_hosts_cpu_io_and_network_scoped_by_host():
    host_queries = [q for q in queries() if q.split(":", 1)[1].startswith("system.")]
    metrics = sorted(re.match(r"\w+:([\w.]+)\{", q).group(1) for q in host_queries)
    assert metrics == ["system.cpu.system", "system.cpu.user", "system.io.await",
                       "system.io.util", "system.net.bytes_rcvd", "system.net.bytes_sent"]
    assert all("{$host}" in q for q in host_queries), \
        f"host metrics must follow the $host template variable: {host_queries}"


def test_dashboard_trace_metrics_follow_the_host_template_variable():
    trace_queries = [q for q in queries() if ":trace." in q]
    assert len(trace_queries) == 4  # hits, errors, p50, p95
    # Trace metrics carry the host tag; unscoped, they would sum every host's traffic
    # beside one host's CPU, IO and network.
    assert all(re.search(r"\{[^}]*,\$host\}", q) for q in trace_queries), trace_queries


# --- the component --------------------------------------------------------------------------

def args(host_names=("vm1",), app_url="https://app.datadoghq.com") -> ApmDashboardArgs:
    return ApmDashboardArgs(service="flask-app", env="dev", host_names=host_names,
                            resource_tags=("managed-by:pulumi", "stack:dev"), app_url=app_url)


@pytest.fixture
def engine():
    mocks = mock_engine.Mocks(ids={DASHBOARD: "abc-def-ghi"},
                              outputs={DASHBOARD: {"url": "/dashboard/abc-def-ghi/flask-app"}})
    return mocks, mock_engine.start(mocks, stack="dev", preview=False)


def dashboard_inputs(engine, **overrides) -> tuple[dict, str]:
    """The dashboard's inputs and the component's `url`."""
    mocks, _ = engine
    url = mock_engine.run(lambda: ApmDashboard("apm", args(**overrides)).url)
    return mocks.inputs["apm-dashboard"], url


def test_dashboard_is_an_ordered_layout_with_a_host_template_variable(engine):
    inputs, _ = dashboard_inputs(engine, host_names=("vm1", "vm2"))
    assert inputs["layoutType"] == "ordered"
    assert inputs["templateVariables"] == [{"name": "host", "prefix": "host",
                                            "availableValues": ["vm1", "vm2"],
                                            "defaults": ["vm1"]}]


def test_dashboard_widgets_are_typed_timeseries_not_json(engine):
    inputs, _ = dashboard_inputs(engine)
    assert len(inputs["widgets"]) == 7
    assert all(set(w) == {"timeseriesDefinition"} for w in inputs["widgets"])
    assert "dashboard" not in inputs  # DashboardJson's field


def test_dashboard_carries_no_tags_and_names_the_stacks_in_its_description(engine):
    inputs, _ = dashboard_inputs(engine)
    assert "tags" not in inputs, \
        "Datadog dashboards take only team:<name> tags; managed-by:/stack:/env: go in the description"
    assert "managed-by:pulumi stack:dev" in inputs["description"]


def test_dashboard_url_is_the_sites_web_app_and_the_dashboard_id(engine):
    _, url = dashboard_inputs(engine, app_url="https://app.datadoghq.eu")
    assert url == "https://app.datadoghq.eu/dashboard/abc-def-ghi"


def test_dashboard_component_type_and_parent(engine):
    _, monitor = engine
    mock_engine.run(lambda: ApmDashboard("apm", args()).url)
    component = monitor.requests["apm"]
    assert component.type == TYPE == "datadog-stack:index:ApmDashboard"
    assert monitor.requests["apm-dashboard"].parent == monitor.make_urn(
        component.parent, component.type, "apm")
