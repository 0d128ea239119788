"""Every input of the Datadog-side resources, against the Datadog semantics it stands for.

The program runs once per configuration under the SDK's mock runtime (tools.plan.run),
exactly as `pulumi up` would declare it; the tests read the recorded inputs.
"""
from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path

import pytest

from components.monitor import MetricMonitor, MetricMonitorArgs
from components.timeboard import Timeboard, TimeboardArgs
from domain import Thresholds
from tools import mock_engine
from tools.plan import StackConfig, run

DEV = Path(__file__).resolve().parents[2] / "Pulumi.dev.yaml"
MONITOR = "datadog:index/monitor:Monitor"
DASHBOARD = "datadog:index/dashboard:Dashboard"
DOWNTIME = "datadog:index/downtimeSchedule:DowntimeSchedule"


@lru_cache(maxsize=None)
def _plan(overrides: tuple = (), created: bool = True, now: datetime | None = None):
    config = StackConfig.from_file(DEV)
    for key, value in overrides:
        key = key if ":" in key else f"datadog-stack:{key}"
        if value is None:  # the key left out of the stack file
            config.values.pop(key, None)
        else:
            config.values[key] = value if isinstance(value, str) else json.dumps(value)
    return run(config, "dev", created=created, now=now)


def resources(type_: str, overrides: tuple = (), now: datetime | None = None) -> list[dict]:
    return [r for r in _plan(overrides, now=now).resources if r["type"] == type_]


def one(type_: str, overrides: tuple = ()) -> dict:
    (resource,) = resources(type_, overrides)
    return resource


def monitor_inputs(overrides: tuple = ()) -> dict:
    return one(MONITOR, overrides)["inputs"]


def timeboard_inputs(overrides: tuple = ()) -> dict:
    return next(r for r in resources(DASHBOARD, overrides) if r["name"] == "timeboard-dashboard")["inputs"]


def queries(dashboard: dict) -> list[str]:
    return [w["timeseriesDefinition"]["requests"][0]["q"] for w in dashboard["widgets"]]


# --- timeboard ---------------------------------------------------------------------

def test_timeboard_is_an_ordered_dashboard():
    assert timeboard_inputs()["layoutType"] == "ordered", \
        "a timeboard is an ordered-layout dashboard: widgets share one time frame"


def test_timeboard_has_a_host_template_variable_defaulting_to_the_host():
    (variable,) = timeboard_inputs()["templateVariables"]
    assert variable["name"] == "host" and variable["prefix"] == "host", \
        "$host must filter on the host tag"
    assert variable["defaults"] == ["vm1"], "the board opens scoped to the configured host"


def test_timeboard_graphs_my_metric_scoped_to_the_host():
    assert queries(timeboard_inputs())[0] == "avg:my_metric{$host}"


def test_timeboard_applies_anomalies_to_a_database_metric():
    assert queries(timeboard_inputs())[1] == \
        "anomalies(avg:postgresql.rows_fetched{$host}, 'basic', 2)", \
        "anomalies(<query>, 'basic', 2): the basic algorithm with a band of 2 deviations"


def test_timeboard_anomaly_graph_follows_the_database_kind():
    assert queries(timeboard_inputs((("databaseKind", "mysql"),)))[1].startswith(
        "anomalies(avg:mysql."), "a MySQL stack graphs a metric of the MySQL integration"


def test_timeboard_rolls_my_metric_up_into_hourly_sums():
    assert queries(timeboard_inputs())[2] == "sum:my_metric{$host}.rollup(sum, 3600)", \
        ".rollup(sum, 3600): each point sums every value of the past hour (time is seconds)"


def live_spans(dashboard: dict) -> list[str]:
    return [w["timeseriesDefinition"].get("liveSpan") for w in dashboard["widgets"]]


def test_timeboard_live_graphs_show_the_past_5_minutes():
    assert live_spans(timeboard_inputs())[:2] == ["5m", "5m"], \
        "the seeds' 5-minute view: my_metric and the anomaly graph slide over the last 5 minutes"


def test_timeboard_hourly_sums_show_the_past_day():
    assert live_spans(timeboard_inputs())[2] == "1d", \
        "a 5-minute span would hold at most part of one hourly sum"


def test_timeboard_widgets_are_titled_timeseries():
    widgets = timeboard_inputs()["widgets"]
    assert len(widgets) == 3
    assert all(w["timeseriesDefinition"]["title"] for w in widgets), "each graph says what it shows"


# --- monitor -----------------------------------------------------------------------

def test_monitor_is_a_metric_alert_on_the_5_minute_average_grouped_by_host():
    inputs = monitor_inputs()
    assert inputs["type"] == "metric alert"
    assert inputs["query"] == "avg(last_5m):avg:my_metric{host:vm1} by {host} > 800", (
        "average of my_metric over the last 5 minutes, per host (Datadog fills {{host.ip}} "
        "only on a monitor grouped by host), alerting above the critical threshold")


def test_monitor_thresholds_come_from_config():
    assert monitor_inputs()["monitorThresholds"] == {
        "critical": "800", "warning": "500", "criticalRecovery": "650", "warningRecovery": "200"}, \
        "warn above 500, alert above 800; an alert clears at or below 650, a warning at 200"


def test_recovery_thresholds_come_from_config():
    inputs = monitor_inputs((("warningRecovery", "420.5"), ("criticalRecovery", "700")))
    assert (inputs["monitorThresholds"]["warningRecovery"],
            inputs["monitorThresholds"]["criticalRecovery"]) == ("420.5", "700")


def test_large_and_fractional_thresholds_are_written_out_in_full():
    inputs = monitor_inputs((("criticalThreshold", "1234567"), ("warningThreshold", "0.0000001"),
                             ("warningRecovery", "0.00000005")))
    assert inputs["query"].endswith("> 1234567"), "Datadog's query language takes no 1.23e+06"
    assert inputs["monitorThresholds"] == {"critical": "1234567", "warning": "0.0000001",
                                           "criticalRecovery": "650",
                                           "warningRecovery": "0.00000005"}


def test_monitor_query_threshold_matches_critical_threshold():
    inputs = monitor_inputs((("criticalThreshold", "900"), ("warningThreshold", "600")))
    assert inputs["query"].endswith("> 900"), "Datadog rejects a query whose threshold differs from critical"
    assert inputs["monitorThresholds"]["critical"] == "900"


def test_monitor_notifies_when_no_data_for_10_minutes():
    inputs = monitor_inputs()
    assert inputs["notifyNoData"] is True and inputs["noDataTimeframe"] == 10, \
        "no my_metric for 10 minutes puts the monitor in No Data and notifies"


def test_monitor_message_has_one_block_per_state():
    message = monitor_inputs()["message"]
    for state in ("is_alert", "is_warning", "is_no_data", "is_recovery"):
        assert f"{{{{#{state}}}}}" in message and f"{{{{/{state}}}}}" in message, \
            f"the message needs a {state} block so each state says something different"


def test_alert_block_shows_the_triggering_value_and_host_ip():
    message = monitor_inputs()["message"]
    alert = re.search(r"\{\{#is_alert\}\}(.*?)\{\{/is_alert\}\}", message, re.S).group(1)
    assert "{{value}}" in alert and "{{host.ip}}" in alert


def test_monitor_notifies_the_configured_handle_in_every_state():
    message = monitor_inputs()["message"]
    assert message.rstrip().endswith("@ops@example.com"), \
        "the @-handle outside the state blocks emails on every state"


def test_monitor_over_several_hosts_matches_exactly_those_hosts():
    hosts = [{"name": "vm1", "address": "10.0.0.1"}, {"name": "vm2", "address": "10.0.0.2"}]
    assert "{host:vm1 OR host:vm2} by {host}" in monitor_inputs((("hosts", json.dumps(hosts)),))["query"]


def test_monitor_is_tagged_with_owner_and_stack():
    assert {"managed-by:pulumi", "stack:dev"} <= set(monitor_inputs()["tags"]), \
        "a search for managed-by:pulumi or stack:dev finds the monitor (dashboards and " \
        "downtimes take no such tags)"


# --- downtimes ---------------------------------------------------------------------

def test_two_recurring_downtimes_mute_only_this_monitor():
    downtimes = resources(DOWNTIME)
    assert sorted(re.sub(r"-[0-9a-f]{8}$", "", d["name"]) for d in downtimes) == \
        ["off-hours-weekday-nights", "off-hours-weekends"]
    tags = monitor_inputs()["tags"]
    for downtime in downtimes:
        assert downtime["inputs"]["monitorIdentifier"] == {"monitorTags": ["off-hours-downtimes:datadog-stack/dev"]}, \
            "scoped by this stack's monitor tag: a downtime without a monitor would mute every monitor"
        assert downtime["inputs"]["scope"] == "host:vm1", "only this stack's hosts' groups"
    assert "off-hours-downtimes:datadog-stack/dev" in tags, "the monitor carries the tag its downtimes select"


def test_downtimes_recur_in_the_configured_timezone():
    for downtime in resources(DOWNTIME):
        schedule = downtime["inputs"]["recurringSchedule"]
        assert schedule["timezone"] == "America/New_York", \
            "recurrences are read in the office's timezone, so 19:00 means 19:00 there"
        assert downtime["inputs"]["displayTimezone"] == "America/New_York"


def test_each_recurrence_starts_at_its_first_occurrence_after_the_clock():
    # The unit tier's clock: Monday 2027-01-04 10:00 in New York (tests/unit/conftest.py).
    starts = {r["rrule"]: r["start"] for d in resources(DOWNTIME)
              for r in d["inputs"]["recurringSchedule"]["recurrences"]}
    assert starts == {
        "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;BYHOUR=19;BYMINUTE=0;BYSECOND=0": "2027-01-04T19:00:00",
        "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;BYHOUR=4;BYMINUTE=0;BYSECOND=0": "2027-01-05T04:00:00",
        "FREQ=WEEKLY;BYDAY=SA,SU;BYHOUR=4;BYMINUTE=0;BYSECOND=0": "2027-01-09T04:00:00",
    }, ("Datadog counts a start as the first occurrence, and an absent one as 'now': "
        "each start is the rule's next occurrence, so nothing is muted before it")


# The component's schedules, as the program declares them, at clocks and in zones where UTC
# and office time disagree by up to a day: a start computed in the wrong zone, from the wrong
# clock, or for the wrong recurrence leaves a night unmuted or mutes office hours.
COMPONENT_ZONES = ["America/New_York", "Asia/Kolkata", "Australia/Lord_Howe", "Pacific/Auckland", "UTC"]
COMPONENT_CLOCKS = [
    datetime(2027, 1, 4, 15, 0, tzinfo=timezone.utc),    # Monday morning in New York
    datetime(2027, 1, 8, 22, 30, tzinfo=timezone.utc),   # Friday evening UTC, Saturday in Asia
    datetime(2027, 1, 10, 13, 10, tzinfo=timezone.utc),  # Sunday UTC, Monday in Auckland
    datetime(2027, 3, 14, 6, 55, tzinfo=timezone.utc),   # New York's spring-forward night
]


@pytest.mark.parametrize("zone", COMPONENT_ZONES)
@pytest.mark.parametrize("clock", COMPONENT_CLOCKS, ids=lambda c: f"{c:%a-%m%d-%H%M}Z")
def test_the_components_downtimes_mute_exactly_off_hours_from_any_clock_in_any_zone(zone, clock):
    from domain import OfficeHours
    from tests.downtime_reading import wrong_minutes

    downtimes = resources(DOWNTIME, (("timezone", zone),), now=clock)
    assert {d["inputs"]["recurringSchedule"]["timezone"] for d in downtimes} == {zone}
    recurrences = [r for d in downtimes for r in d["inputs"]["recurringSchedule"]["recurrences"]]
    wrong = wrong_minutes(recurrences, OfficeHours(9 * 60, 19 * 60), zone, clock, 2,
                          "start-is-occurrence", "elapsed")
    assert wrong == {"office_muted": [], "off_hours_open": []}, (
        f"declared at {clock:%a %Y-%m-%d %H:%M} UTC in {zone}, the off-hours downtimes must mute "
        f"every night and weekend after the clock and no office minute: {wrong}")


def test_downtimes_keep_the_start_they_were_created_with():
    for downtime in resources(DOWNTIME):
        assert downtime["ignoreChanges"] == ["recurringSchedule.recurrences[*].start"], (
            "a later run computes a later start; sending it, or the old one, on an update "
            "would be a perpetual diff or a past start Datadog rejects")


def test_a_later_clock_changes_only_the_starts():
    a_year_later = datetime(2028, 2, 7, 15, tzinfo=timezone.utc)
    later = sorted(resources(DOWNTIME, now=a_year_later), key=lambda d: d["name"])
    now = sorted(resources(DOWNTIME), key=lambda d: d["name"])
    assert [d["name"] for d in later] == [d["name"] for d in now], \
        "same config, same resource names: no downtime is recreated because time passed"
    assert [_without_starts(d["inputs"]) for d in later] == [_without_starts(d["inputs"]) for d in now]
    assert [d["inputs"] for d in later] != [d["inputs"] for d in now]


def test_a_changed_schedule_is_a_new_resource_never_an_update():
    before = {d["name"] for d in resources(DOWNTIME)}
    after = {d["name"] for d in resources(DOWNTIME, (("officeHoursEnd", "18:00"),))}
    assert len(after - before) == 1 and len(before - after) == 1, (
        "an update would send the creation-time starts, past by then: a changed schedule "
        "must get a new name (a create with fresh starts), the unchanged one keeps its own")


def _without_starts(inputs: dict) -> dict:
    schedule = inputs["recurringSchedule"]
    return {**inputs, "recurringSchedule": {**schedule, "recurrences": [
        {k: v for k, v in r.items() if k != "start"} for r in schedule["recurrences"]]}}


def test_offline_stack_skips_the_monitors_plan_time_validation():
    assert monitor_inputs()["validate"] is False, (
        "with datadog:validate false (the dev stack) a preview must make no network call; "
        "the provider validates a monitor with Datadog on every diff unless `validate` is false")


@pytest.mark.parametrize("value", ["true", None])
def test_a_real_stack_keeps_the_monitors_plan_time_validation(value):
    assert monitor_inputs((("datadog:validate", value),))["validate"] is True, \
        "a real stack (validate on, or unset as the provider defaults) validates monitors at preview"


def test_downtime_messages_notify_the_handle():
    for downtime in resources(DOWNTIME):
        assert "@ops@example.com" in downtime["inputs"]["message"]


def test_weekday_night_recurrences_follow_office_hours():
    nights = next(d for d in resources(DOWNTIME) if "weekday-nights" in d["name"])
    rrules = [r["rrule"] for r in nights["inputs"]["recurringSchedule"]["recurrences"]]
    assert "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;BYHOUR=19;BYMINUTE=0;BYSECOND=0" in rrules, \
        "the evening window starts when the office closes at 19:00"


# --- outputs -----------------------------------------------------------------------

def test_stack_outputs_ids_and_urls():
    outputs = _plan().outputs
    assert outputs["dashboardUrl"] == f"https://app.datadoghq.com/dashboard/{outputs['dashboardId']}"
    assert outputs["monitorUrl"] == f"https://app.datadoghq.com/monitors/{outputs['monitorId']}"
    assert len(outputs["downtimeIds"]) == 2


@pytest.fixture
def engine():
    mocks = mock_engine.Mocks(ids={DASHBOARD: "abc-def-ghi"},
                              outputs={DASHBOARD: {"url": "/dashboard/abc-def-ghi/my-board"}})
    return mocks, mock_engine.start(mocks, stack="dev", preview=False)


def id_and_url(component) -> dict:
    return {"id": component.id, "url": component.url}


def test_a_timeboard_built_alone_from_its_args_exports_its_id_and_url(engine):
    outputs = mock_engine.run(lambda: id_and_url(Timeboard("board", TimeboardArgs(
        stack="qa", database_kind="mysql", host_names=("db1",), app_url="https://app.datadoghq.eu"))))
    assert outputs == {"id": "abc-def-ghi",
                       "url": "https://app.datadoghq.eu/dashboard/abc-def-ghi/my-board"}, \
        "the provider's url is a path: the site's web app goes in front"


def test_a_monitor_built_alone_from_its_args_exports_its_id_and_url(engine):
    mocks, _ = engine
    outputs = mock_engine.run(lambda: id_and_url(MetricMonitor("high", MetricMonitorArgs(
        stack="qa", host_names=("db1",), thresholds=Thresholds(5, 8, 2, 6), no_data_minutes=3,
        notify="@a@example.com", tags=("stack:qa",), downtime_tag="off-hours-downtimes:p/qa",
        validate=True, app_url="https://us3.datadoghq.com"))))
    assert outputs == {"id": "high-monitor-id",
                       "url": "https://us3.datadoghq.com/monitors/high-monitor-id"}
    assert mocks.inputs["high-monitor"]["tags"] == ["stack:qa", "off-hours-downtimes:p/qa"], \
        "the stack's tags, then the tag its downtimes select it by"


@pytest.mark.parametrize("site, app", [("datadoghq.eu", "https://app.datadoghq.eu"),
                                       ("us3.datadoghq.com", "https://us3.datadoghq.com")])
def test_urls_follow_the_datadog_site(site, app):
    plan = _plan((("site", site), ("datadog:apiUrl", f"https://api.{site}/")))
    assert plan.outputs["monitorUrl"].startswith(f"{app}/monitors/")


# --- the remaining inputs ----------------------------------------------------------

def test_monitor_name_carries_the_stack_and_the_host_variable():
    assert monitor_inputs()["name"] == "[dev] my_metric 5-minute average on {{host.name}}", \
        "a multi-alert monitor names each host's notification through {{host.name}}"


@pytest.mark.parametrize("prefix", ["[Triggered]", "[Warn]", "[Recovered]", "[No Data]"])
def test_monitor_name_reads_right_after_each_state_prefix(prefix):
    subject = f"{prefix} {monitor_inputs()['name']}".lower()
    states = ("high", "low", "alert", "warn", "recover", "no data", "triggered")
    assert [word for word in states if word in subject[len(prefix):]] == [], \
        f"Datadog's subject {subject!r} must not contradict its state prefix"


def test_monitor_evaluates_without_a_full_window():
    assert monitor_inputs()["requireFullWindow"] is False, \
        "a point every 45 s is sparse: requiring a full 5-minute window would delay evaluation"


def test_notification_subjects_name_the_host_once():
    inputs = monitor_inputs()
    assert inputs["includeTags"] is False and "{{host.name}}" in inputs["name"], \
        "the name says the host; include_tags would add `on {host:vm1}` a second time"


def test_timeboard_title_and_description_say_what_it_is():
    inputs = timeboard_inputs()
    assert inputs["title"] == "my_metric and postgres (dev)"
    assert "Pulumi" in inputs["description"], "readers learn the board is managed as code"


def test_timeboard_graphs_are_lines():
    for widget in timeboard_inputs()["widgets"]:
        assert widget["timeseriesDefinition"]["requests"][0]["displayType"] == "line"


def test_downtime_messages_say_which_schedule_muted_the_monitor():
    messages = {re.sub(r"-[0-9a-f]{8}$", "", d["name"]): d["inputs"]["message"]
                for d in resources(DOWNTIME)}
    assert "Weekday nights, 19:00 to 09:00 Monday-Friday" in messages["off-hours-weekday-nights"]
    assert "Weekends, Saturday and Sunday" in messages["off-hours-weekends"]


def test_downtime_scope_over_several_hosts_covers_each_of_them():
    hosts = json.dumps([{"name": "vm1", "address": "a"}, {"name": "vm2", "address": "b"}])
    for downtime in resources(DOWNTIME, (("hosts", hosts),)):
        assert downtime["inputs"]["scope"] == "host:(vm1 OR vm2)", \
            "Datadog's downtime scope supports no top-level OR"


def test_apm_dashboard_is_ordered_with_the_services_request_metrics():
    apm = next(r for r in resources(DASHBOARD) if r["name"] == "apm-dashboard")["inputs"]
    assert apm["layoutType"] == "ordered"
    assert any("trace.flask.request.hits{service:flask-app,env:dev" in q for q in queries(apm)), \
        "hits of the service's flask.request spans, in this env"
