"""The Datadog-side components honour the options their caller gives, and register outputs.

A component is used from other programs and languages too (its Args are the package's
schema): `opts` carries what the caller decides (depends_on, protect, aliases for deployed
URNs, a provider). A component that dropped them would, for example, leave a protected
dashboard deletable or recreate a renamed one. The mock engine records each registration
as the engine receives it (tools/mock_engine.py, RecordingMonitor).
"""
from __future__ import annotations

from datetime import datetime, timezone

import pulumi
import pytest

from components.apm_dashboard import ApmDashboard, ApmDashboardArgs
from components.catalog import Catalog, CatalogArgs
from components.downtimes import OffHoursDowntimes, OffHoursDowntimesArgs
from components.monitor import MetricMonitor, MetricMonitorArgs
from components.timeboard import Timeboard, TimeboardArgs
from domain import OfficeHours, Thresholds
from tools import mock_engine

NOW = datetime(2027, 1, 8, 22, 30, tzinfo=timezone.utc)


def timeboard(opts):
    return Timeboard("board", TimeboardArgs(stack="qa", database_kind="mysql", host_names=("db1",),
                                            app_url="https://app.datadoghq.eu"), opts)


def monitor(opts):
    return MetricMonitor("high", MetricMonitorArgs(
        stack="qa", host_names=("db1",), thresholds=Thresholds(5, 8, 2, 6), no_data_minutes=3,
        notify="@a@example.com", tags=("stack:qa",), downtime_tag="off-hours-downtimes:p/qa",
        validate=True, app_url="https://us3.datadoghq.com"), opts)


def downtimes(opts):
    return OffHoursDowntimes("quiet", OffHoursDowntimesArgs(
        office_hours=OfficeHours(9 * 60, 19 * 60), timezone="Europe/Paris", host_names=("db1",),
        notify="@a@example.com", monitor_tag="off-hours-downtimes:p/qa", now=NOW.isoformat()), opts)


def apm_dashboard(opts):
    return ApmDashboard("apm", ApmDashboardArgs(
        service="flask-app", env="qa", host_names=("db1",), resource_tags=("resource_name:get_/",),
        app_url="https://app.datadoghq.eu"), opts)


def catalog(opts):
    board = '{"title": "t", "layout_type": "ordered", "widgets": []}'
    return Catalog("catalog", CatalogArgs(monitors={}, dashboards={"dashboard-t": board},
                                          app_url="https://app.datadoghq.eu"), opts)


COMPONENTS = {"timeboard": (timeboard, "board"), "monitor": (monitor, "high"),
              "downtimes": (downtimes, "quiet"), "apm-dashboard": (apm_dashboard, "apm"),
              "catalog": (catalog, "catalog")}


@pytest.fixture
def recorded():
    mocks = mock_engine.Mocks()
    return mock_engine.start(mocks, stack="qa", preview=False)


@pytest.mark.parametrize("component", COMPONENTS)
def test_a_component_keeps_the_options_its_caller_gives(recorded, component):
    build, name = COMPONENTS[component]
    mock_engine.run(lambda: build(pulumi.ResourceOptions(protect=True)) and None)
    assert recorded.requests[name].protect is True, (
        f"{component}: the caller's options (protect, depends_on, aliases, providers) must reach "
        "the engine with the component's registration")


def test_the_downtimes_component_registers_its_two_schedule_ids(recorded):
    mock_engine.run(lambda: downtimes(None) and None)
    outputs = recorded.outputs[recorded.urns["quiet"]]
    assert sorted(outputs) == ["ids"] and len(outputs["ids"]) == 2, \
        "the component's outputs name its two schedules' ids, weekday nights first"
    assert outputs["ids"][0].startswith("quiet-weekday-nights-") and \
        outputs["ids"][1].startswith("quiet-weekends-")


@pytest.mark.parametrize("component, outputs", [("timeboard", ["id", "url"]), ("monitor", ["id", "url"]),
                                                ("apm-dashboard", ["url"])])
def test_a_datadog_component_registers_its_id_and_url(recorded, component, outputs):
    build, name = COMPONENTS[component]
    mock_engine.run(lambda: build(None) and None)
    assert sorted(recorded.outputs[recorded.urns[name]]) == outputs, \
        f"{component}: a consumer reads the object's id and its link in the web app from the component"


MONITOR_FILE = ('{"name": "m", "type": "query alert", "query": "avg(last_5m):avg:a{*} > 2", '
                '"message": "x", "tags": [], "options": {}}')
BOARD_FILE = '{"title": "t", "layout_type": "ordered", "widgets": []}'


@pytest.mark.parametrize("monitors, dashboards, ids, urls", [
    ({"monitor-m": MONITOR_FILE}, {"dashboard-t": BOARD_FILE},
     {"monitor-m": "m-id", "dashboard-t": "t-id"},
     {"monitor-m": "https://app.datadoghq.eu/monitors/m-id",
      "dashboard-t": "https://app.datadoghq.eu/dashboard/t-id/t"}),
    ({"monitor-m": MONITOR_FILE}, {}, {"monitor-m": "m-id"},
     {"monitor-m": "https://app.datadoghq.eu/monitors/m-id"}),
    ({}, {}, {}, {}),
], ids=["monitor and dashboard", "monitors only", "empty"])
def test_the_catalog_registers_each_objects_id_and_link(monitors, dashboards, ids, urls):
    """A monitor's link is built from its id; a dashboard's from the `url` path Datadog
    answers (resource_datadog_dashboard_json.go reads it into state)."""
    recorded = mock_engine.start(mock_engine.Mocks(
        ids={"datadog:index/monitorJson:MonitorJson": "m-id", "datadog:index/dashboardJson:DashboardJson": "t-id"},
        outputs={"datadog:index/dashboardJson:DashboardJson": {"url": "/dashboard/t-id/t"}}),
        stack="qa", preview=False)
    mock_engine.run(lambda: Catalog("catalog", CatalogArgs(
        monitors=monitors, dashboards=dashboards, app_url="https://app.datadoghq.eu")) and None)
    assert recorded.outputs[recorded.urns["catalog"]] == {"ids": ids, "urls": urls}, \
        "the stack's catalogUrls output links each catalog object in the web app"
