"""Tests of the Datadog API stand-in (tests/standins/datadog_api).

In-process server on a free port, stdlib urllib as the client.  Request bodies
are the ones the Terraform provider sends (taken from its recorded cassettes
TestAccDatadogMonitor_Basic, TestAccDatadogDashboardTimeseries,
TestAccDowntimeScheduleBasicRecurring and TestAccDowntimeScheduleChanged).
"""
from __future__ import annotations

import copy
import datetime as dt
import json
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.standins.datadog_api import start_server

pytestmark = pytest.mark.unit

API_KEY = "test-api-key-0123456789"
APP_KEY = "test-app-key-9876543210"
REPO = Path(__file__).resolve().parents[2]

MONITOR = {
    "message": "some message Notify: @hipchat-channel",
    "name": "tf-TestAccDatadogMonitor_Basic-local",
    "options": {"escalation_message": "the situation has escalated @pagerduty", "evaluation_delay": 700,
                "include_tags": True, "new_group_delay": 500, "new_host_delay": 300,
                "notification_preset_name": "hide_query", "notify_no_data": False, "renotify_interval": 60,
                "renotify_occurrences": 5, "renotify_statuses": ["alert", "warn"], "require_full_window": True,
                "thresholds": {"critical": 2, "critical_recovery": 1.5, "warning": 1, "warning_recovery": 0.5},
                "timeout_h": 1},
    "priority": 3,
    "query": "avg(last_1h):avg:aws.ec2.cpu{environment:foo,host:foo} by {host} > 2",
    "restricted_roles": None,
    "tags": ["foo:bar", "baz"],
    "type": "metric alert",
}

DASHBOARD = {
    "description": "Created using the Datadog provider in Terraform", "id": "", "layout_type": "ordered",
    "notify_list": [], "tags": [], "template_variable_presets": [],
    "template_variables": [{"name": "env", "prefix": "env", "defaults": ["prod"]},
                           {"name": "service", "prefix": "service", "defaults": ["*"]}],
    "title": "tf-TestAccDatadogDashboardTimeseries-local",
    "widgets": [{"definition": {
        "events": [{"q": "sources:test tags:1", "tags_execution": "and"}],
        "legend_columns": ["value", "min", "max"], "legend_layout": "horizontal", "legend_size": "2",
        "markers": [{"display_type": "error dashed", "label": "y=500000", "value": "y=500000"}],
        "requests": [{"display_type": "line", "on_right_yaxis": True, "q": "avg:system.cpu.user{$env,$service} by {app}",
                      "style": {"line_type": "solid", "line_width": "thin", "palette": "dog_classic"}}],
        "show_legend": True, "time": {"live_span": "5m"}, "title": "system.cpu.user", "title_align": "left",
        "title_size": "16", "type": "timeseries", "yaxis": {"include_zero": True, "max": "599999", "min": "0"}}}],
}

RECURRING = {"data": {"attributes": {
    "display_timezone": "America/New_York", "message": "Message about the downtime",
    "monitor_identifier": {"monitor_tags": ["cat:hat", "mat:sat"]}, "mute_first_recovery_notification": True,
    "notify_end_states": ["warn", "alert"], "notify_end_types": ["expired"],
    "schedule": {"recurrences": [{"duration": "1d", "rrule": "FREQ=DAILY;INTERVAL=1", "start": "2042-07-13T01:02:03"},
                                 {"duration": "1w", "rrule": "FREQ=DAILY;INTERVAL=12", "start": "2042-07-15T01:02:03"}],
                 "timezone": "America/New_York"},
    "scope": "env:(staging OR tf-TestAccDowntimeScheduleBasicRecurring-local)"}, "type": "downtime"}}

ONE_TIME = {"data": {"attributes": {
    "display_timezone": "UTC", "monitor_identifier": {"monitor_tags": ["cat:hat"]},
    "mute_first_recovery_notification": False, "schedule": {"end": None, "start": "2050-01-02T03:04:05Z"},
    "scope": "env:tf-TestAccDowntimeScheduleChanged-local"}, "type": "downtime"}}

START_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$")


# ----------------------------------------------------------------------------- helpers

class Client:
    def __init__(self, url):
        self.url = url

    def call(self, method, path, body=None, keys=True, headers=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method)
        req.add_header("Accept", "application/json")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        if keys:
            req.add_header("DD-API-KEY", API_KEY)
            req.add_header("DD-APPLICATION-KEY", APP_KEY)
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                raw = r.read()
                return r.status, (json.loads(raw) if raw else None), dict(r.headers)
        except urllib.error.HTTPError as e:
            raw = e.read()
            return e.code, (json.loads(raw) if raw else None), dict(e.headers)


@pytest.fixture
def server(tmp_path):
    h = start_server(0, tmp_path / "state")
    yield h
    h.stop()


@pytest.fixture
def api(server):
    return Client(server.url)


def deep(obj):
    return copy.deepcopy(obj)


def assert_dd_error(status, body, expected_status, contains=None):
    assert status == expected_status, body
    assert isinstance(body, dict) and isinstance(body.get("errors"), list) and body["errors"], body
    assert all(isinstance(e, str) for e in body["errors"])
    if contains:
        assert any(contains in e for e in body["errors"]), body


# ----------------------------------------------------------------------------- auth / configure

def test_validate_endpoint(api):
    status, body, _ = api.call("GET", "/api/v1/validate")
    assert (status, body) == (200, {"valid": True})


def test_validate_needs_only_the_api_key(api):
    """The provider calls GET /api/v1/validate with DD-API-KEY alone."""
    status, body, _ = api.call("GET", "/api/v1/validate", keys=False, headers={"DD-API-KEY": API_KEY})
    assert (status, body) == (200, {"valid": True})


@pytest.mark.parametrize("headers", [{}, {"DD-APPLICATION-KEY": APP_KEY}])
def test_validate_without_api_key_is_forbidden(api, headers):
    assert_dd_error(*api.call("GET", "/api/v1/validate", keys=False, headers=headers)[:2], 403, "Forbidden")


@pytest.mark.parametrize("headers", [{}, {"DD-API-KEY": API_KEY}, {"DD-APPLICATION-KEY": APP_KEY}])
@pytest.mark.parametrize("method,path", [("POST", "/api/v1/monitor"),
                                         ("GET", "/api/v2/downtime/00000000-0000-0000-0000-000000000000")])
def test_missing_keys_are_forbidden(api, server, headers, method, path):
    status, body, _ = api.call(method, path, MONITOR if method == "POST" else None, keys=False, headers=headers)
    assert_dd_error(status, body, 403, "Forbidden")
    assert server.objects()["monitors"] == {}


def test_expected_keys_enforced_when_configured(tmp_path):
    h = start_server(0, tmp_path, api_key="right", app_key="right-app")
    try:
        c = Client(h.url)
        status, _, _ = c.call("GET", "/api/v1/validate", keys=False,
                              headers={"DD-API-KEY": "wrong", "DD-APPLICATION-KEY": "right-app"})
        assert status == 403
        status, body, _ = c.call("GET", "/api/v1/validate", keys=False,
                                 headers={"DD-API-KEY": "right", "DD-APPLICATION-KEY": "right-app"})
        assert (status, body) == (200, {"valid": True})
    finally:
        h.stop()


# ----------------------------------------------------------------------------- monitors

def test_monitor_crud(api, server):
    assert api.call("POST", "/api/v1/monitor/validate", MONITOR)[:2] == (200, {})
    status, m, _ = api.call("POST", "/api/v1/monitor", MONITOR)
    assert status == 200, m
    assert isinstance(m["id"], int)
    assert m["type"] == "metric alert" and m["query"] == MONITOR["query"]
    assert m["tags"] == ["baz", "foo:bar"]
    assert m["options"]["thresholds"] == {"critical": 2.0, "critical_recovery": 1.5, "warning": 1.0,
                                          "warning_recovery": 0.5}
    assert m["options"]["notify_audit"] is False and m["options"]["silenced"] == {}
    assert m["overall_state"] == "No Data" and m["multi"] is True and m["deleted"] is None
    assert set(m["creator"]) == {"name", "handle", "email", "id"}
    for k in ("created", "modified"):
        assert dt.datetime.fromisoformat(m[k]).tzinfo is not None
    assert isinstance(m["created_at"], int)
    mid = m["id"]

    status, got, _ = api.call("GET", f"/api/v1/monitor/{mid}?group_states=all&with_downtimes=true")
    assert status == 200 and got["id"] == mid and got["name"] == MONITOR["name"]

    assert api.call("POST", f"/api/v1/monitor/{mid}/validate", MONITOR)[:2] == (200, {})
    upd = deep(MONITOR)
    upd["name"] = "renamed"
    upd["query"] = upd["query"].replace("> 2", "> 3")
    upd["options"]["thresholds"]["critical"] = 3
    status, u, _ = api.call("PUT", f"/api/v1/monitor/{mid}", upd)
    assert status == 200, u
    assert u["name"] == "renamed" and u["options"]["thresholds"]["critical"] == 3.0
    assert u["created"] == m["created"] and u["id"] == mid

    status, body, _ = api.call("DELETE", f"/api/v1/monitor/{mid}?force=true")
    assert (status, body) == (200, {"deleted_monitor_id": mid})
    assert_dd_error(*api.call("GET", f"/api/v1/monitor/{mid}")[:2], 404, "Monitor not found")
    assert_dd_error(*api.call("DELETE", f"/api/v1/monitor/{mid}")[:2], 404)
    assert_dd_error(*api.call("PUT", f"/api/v1/monitor/{mid}", upd)[:2], 404)


@pytest.mark.parametrize("path", ["/api/v1/monitor", "/api/v1/monitor/validate"])
def test_monitor_unknown_enum_rejected(api, server, path):
    bad = deep(MONITOR)
    bad["type"] = "metrc alert"
    assert_dd_error(*api.call("POST", path, bad)[:2], 400, "'metrc alert'")
    assert server.objects()["monitors"] == {}


@pytest.mark.parametrize("mutate,needle", [
    (lambda b: b.__setitem__("name", 5), "name"),
    (lambda b: b["options"]["thresholds"].__setitem__("critical", "two"), "critical"),
    (lambda b: b.__setitem__("priority", "high"), "priority"),
    (lambda b: b.__setitem__("tags", "foo:bar"), "tags"),
    (lambda b: b["options"].__setitem__("renotify_statuses", ["alrt"]), "alrt"),
    (lambda b: b.pop("type"), "type"),
    (lambda b: b.pop("query"), "query"),
])
def test_monitor_invalid_bodies_rejected(api, server, mutate, needle):
    bad = deep(MONITOR)
    mutate(bad)
    assert_dd_error(*api.call("POST", "/api/v1/monitor", bad)[:2], 400, needle)
    assert server.objects()["monitors"] == {}


def test_monitor_update_rejects_unknown_enum(api):
    mid = api.call("POST", "/api/v1/monitor", MONITOR)[1]["id"]
    bad = deep(MONITOR)
    bad["options"]["renotify_statuses"] = ["warning"]
    assert_dd_error(*api.call("PUT", f"/api/v1/monitor/{mid}", bad)[:2], 400, "'warning'")


def test_monitor_threshold_must_match_query(api):
    bad = deep(MONITOR)
    bad["options"]["thresholds"]["critical"] = 5
    status, body, _ = api.call("POST", "/api/v1/monitor/validate", bad)
    assert_dd_error(status, body, 400, "does not match that used in the query")
    assert_dd_error(*api.call("POST", "/api/v1/monitor", bad)[:2], 400, "does not match")
    noq = deep(MONITOR)
    noq["query"] = "avg(last_1h):avg:aws.ec2.cpu{*}"
    assert_dd_error(*api.call("POST", "/api/v1/monitor", noq)[:2], 400, "query")


def test_monitor_critical_filled_from_query(api):
    body = deep(MONITOR)
    body["options"]["thresholds"] = {"warning": 1}
    status, m, _ = api.call("POST", "/api/v1/monitor", body)
    assert status == 200 and m["options"]["thresholds"] == {"warning": 1.0, "critical": 2.0}


# ----------------------------------------------------------------------------- dashboards

def test_dashboard_crud(api):
    status, d, _ = api.call("POST", "/api/v1/dashboard", DASHBOARD)
    assert status == 200, d
    assert re.fullmatch(r"[a-z0-9]{3}-[a-z0-9]{3}-[a-z0-9]{3}", d["id"])
    assert d["url"].startswith(f"/dashboard/{d['id']}/")
    assert d["layout_type"] == "ordered" and d["template_variables"] == DASHBOARD["template_variables"]
    assert isinstance(d["widgets"][0]["id"], int)
    assert d["widgets"][0]["definition"] == DASHBOARD["widgets"][0]["definition"]
    for k in ("author_handle", "author_name", "created_at", "modified_at", "notify_list", "tags"):
        assert k in d
    did = d["id"]
    status, got, _ = api.call("GET", f"/api/v1/dashboard/{did}")
    assert status == 200 and got == d

    upd = deep(DASHBOARD)
    upd["id"] = did
    upd["title"] = "renamed"
    upd["widgets"].append({"definition": {"type": "timeseries", "requests": [{"q": "avg:system.load.1{$env}"}]}})
    status, u, _ = api.call("PUT", f"/api/v1/dashboard/{did}", upd)
    assert status == 200, u
    assert u["title"] == "renamed" and len(u["widgets"]) == 2 and u["created_at"] == d["created_at"]
    assert u["url"].endswith("/renamed")

    assert api.call("DELETE", f"/api/v1/dashboard/{did}")[:2] == (200, {"deleted_dashboard_id": did})
    assert_dd_error(*api.call("GET", f"/api/v1/dashboard/{did}")[:2], 404, "not found")
    assert_dd_error(*api.call("DELETE", f"/api/v1/dashboard/{did}")[:2], 404)
    assert_dd_error(*api.call("PUT", f"/api/v1/dashboard/{did}", upd)[:2], 404)


@pytest.mark.parametrize("mutate,needle", [
    (lambda b: b.__setitem__("layout_type", "orderd"), "'orderd'"),
    (lambda b: b["widgets"][0]["definition"].__setitem__("type", "timeserie"), "'timeserie'"),
    (lambda b: b["widgets"][0]["definition"]["requests"][0].__setitem__("display_type", "lines"), "'lines'"),
    (lambda b: b["widgets"][0]["definition"].__setitem__("title_align", "middle"), "'middle'"),
    (lambda b: b.__setitem__("title", 42), "title"),
    (lambda b: b["template_variables"][0].__setitem__("defaults", "prod"), "defaults"),
    (lambda b: b.pop("layout_type"), "layout_type"),
])
def test_dashboard_invalid_bodies_rejected(api, server, mutate, needle):
    bad = deep(DASHBOARD)
    mutate(bad)
    assert_dd_error(*api.call("POST", "/api/v1/dashboard", bad)[:2], 400, needle)
    assert server.objects()["dashboards"] == {}


def test_dashboard_update_rejects_unknown_widget_type(api):
    did = api.call("POST", "/api/v1/dashboard", DASHBOARD)[1]["id"]
    bad = deep(DASHBOARD)
    bad["widgets"][0]["definition"]["type"] = "timeserie"
    assert_dd_error(*api.call("PUT", f"/api/v1/dashboard/{did}", bad)[:2], 400, "'timeserie'")


# ----------------------------------------------------------------------------- downtimes

def test_downtime_recurring_crud_and_cancel(api):
    status, body, _ = api.call("POST", "/api/v2/downtime", RECURRING)
    assert status == 200, body
    data = body["data"]
    assert data["type"] == "downtime" and re.fullmatch(r"[0-9a-f-]{36}", data["id"])
    a = data["attributes"]
    assert a["schedule"]["timezone"] == "America/New_York"
    assert [r["start"] for r in a["schedule"]["recurrences"]] == ["2042-07-13T01:02:03", "2042-07-15T01:02:03"]
    assert a["schedule"]["current_downtime"] == {"start": "2042-07-13T05:02:03+00:00",
                                                 "end": "2042-07-14T05:02:03+00:00"}
    assert a["status"] == "scheduled" and a["canceled"] is None
    assert a["monitor_identifier"] == {"monitor_tags": ["cat:hat", "mat:sat"]}
    assert data["relationships"]["created_by"]["data"]["type"] == "users"
    assert body["included"][0]["type"] == "users"
    did = data["id"]

    status, got, _ = api.call("GET", f"/api/v2/downtime/{did}")
    assert status == 200 and got["data"]["attributes"] == a and "relationships" not in got["data"]

    upd = deep(RECURRING)
    upd["data"]["id"] = ""
    upd["data"]["attributes"]["message"] = "Updated message"
    upd["data"]["attributes"]["schedule"] = {"recurrences": [
        {"duration": "1m", "rrule": "FREQ=WEEKLY;INTERVAL=123", "start": "3022-07-15T01:02:03"}], "timezone": "UTC"}
    status, u, _ = api.call("PATCH", f"/api/v2/downtime/{did}", upd)
    assert status == 200, u
    ua = u["data"]["attributes"]
    assert ua["message"] == "Updated message" and ua["schedule"]["timezone"] == "UTC"
    assert ua["schedule"]["recurrences"] == [{"duration": "1m", "rrule": "FREQ=WEEKLY;INTERVAL=123",
                                              "start": "3022-07-15T01:02:03"}]
    assert ua["created"] == a["created"]

    status, body, _ = api.call("DELETE", f"/api/v2/downtime/{did}")
    assert (status, body) == (204, None)
    status, got, _ = api.call("GET", f"/api/v2/downtime/{did}")
    assert status == 200
    assert got["data"]["attributes"]["status"] == "canceled"
    assert dt.datetime.fromisoformat(got["data"]["attributes"]["canceled"]).tzinfo is not None
    assert_dd_error(*api.call("PATCH", f"/api/v2/downtime/{did}", upd)[:2], 400, "canceled")


def test_downtime_one_time(api):
    status, body, _ = api.call("POST", "/api/v2/downtime", ONE_TIME)
    assert status == 200, body
    a = body["data"]["attributes"]
    assert a["schedule"] == {"start": "2050-01-02T03:04:05+00:00", "end": None}
    assert a["status"] == "scheduled" and a["notify_end_types"] == ["expired"]
    assert sorted(a["notify_end_states"]) == ["alert", "no data", "warn"]
    assert a["message"] is None


def test_downtime_one_time_update_start_null_is_now(api, server):
    did = api.call("POST", "/api/v2/downtime", ONE_TIME)[1]["data"]["id"]
    upd = deep(ONE_TIME)
    upd["data"]["id"] = ""
    upd["data"]["attributes"]["schedule"] = {"end": "3000-01-02T03:04:05Z", "start": None}
    status, body, _ = api.call("PATCH", f"/api/v2/downtime/{did}", upd)
    assert status == 200, body
    s = dt.datetime.fromisoformat(body["data"]["attributes"]["schedule"]["start"])
    assert abs((s - server.app.now()).total_seconds()) < 60
    assert body["data"]["attributes"]["status"] == "active"


@pytest.mark.parametrize("given,expected", [
    ("2042-07-13T01:02", "2042-07-13T01:02:00"),
    ("2042-07-13T01:02:03", "2042-07-13T01:02:03"),
    ("2042-07-13T01:02:03.456789", "2042-07-13T01:02:03"),
    ("2042-07-13T05:02:03Z", "2042-07-13T01:02:03"),          # converted into the schedule timezone
    ("2042-07-13T07:02:03+02:00", "2042-07-13T01:02:03"),
])
def test_downtime_start_normalized(api, given, expected):
    body = deep(RECURRING)
    body["data"]["attributes"]["schedule"]["recurrences"] = [
        {"duration": "1d", "rrule": "FREQ=DAILY;INTERVAL=1", "start": given}]
    status, resp, _ = api.call("POST", "/api/v2/downtime", body)
    assert status == 200, resp
    start = resp["data"]["attributes"]["schedule"]["recurrences"][0]["start"]
    assert start == expected and START_RE.match(start)
    did = resp["data"]["id"]
    assert api.call("GET", f"/api/v2/downtime/{did}")[1]["data"]["attributes"]["schedule"]["recurrences"][0][
        "start"] == expected


@pytest.mark.parametrize("method", ["POST", "PATCH"])
@pytest.mark.parametrize("start", ["absent", None, ""])
def test_downtime_recurrence_without_start_means_now_in_timezone(api, server, method, start):
    body = deep(RECURRING)
    rec = {"duration": "1d", "rrule": "FREQ=DAILY;INTERVAL=11"}
    if start != "absent":
        rec["start"] = start
    body["data"]["attributes"]["schedule"] = {"recurrences": [rec], "timezone": "Asia/Tokyo"}
    if method == "POST":
        status, resp, _ = api.call("POST", "/api/v2/downtime", body)
    else:
        did = api.call("POST", "/api/v2/downtime", RECURRING)[1]["data"]["id"]
        body["data"]["id"] = ""
        status, resp, _ = api.call("PATCH", f"/api/v2/downtime/{did}", body)
    assert status == 200, resp
    got = resp["data"]["attributes"]["schedule"]["recurrences"][0]["start"]
    assert START_RE.match(got), got
    local = dt.datetime.strptime(got, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=ZoneInfo("Asia/Tokyo"))
    assert abs((local - server.app.now()).total_seconds()) < 60
    assert resp["data"]["attributes"]["status"] == "active"


def test_downtime_past_start_rejected_on_create(api, server):
    body = deep(RECURRING)
    body["data"]["attributes"]["schedule"]["recurrences"][0]["start"] = "2022-07-13T01:02:03"
    status, resp, _ = api.call("POST", "/api/v2/downtime", body)
    assert (status, resp) == (400, {"errors": ["Scheduled downtime start cannot be in the past"]})
    assert server.objects()["downtimes"] == {}


def test_downtime_past_start_rejected_on_update(api):
    did = api.call("POST", "/api/v2/downtime", RECURRING)[1]["data"]["id"]
    upd = deep(RECURRING)
    upd["data"]["id"] = ""
    upd["data"]["attributes"]["schedule"]["recurrences"][1]["start"] = "2022-07-15T01:02:03"
    status, resp, _ = api.call("PATCH", f"/api/v2/downtime/{did}", upd)
    assert (status, resp) == (400, {"errors": ["Scheduled downtime start cannot be in the past"]})
    got = api.call("GET", f"/api/v2/downtime/{did}")[1]
    assert got["data"]["attributes"]["schedule"]["recurrences"][1]["start"] == "2042-07-15T01:02:03"


def test_downtime_past_start_uses_schedule_timezone_and_clock(api, server):
    """A start 'tomorrow' is accepted; with the clock moved 3 days ahead the same start is past."""
    tz = ZoneInfo("America/New_York")
    tomorrow = (server.app.now().astimezone(tz) + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S")
    body = deep(RECURRING)
    body["data"]["attributes"]["schedule"]["recurrences"] = [
        {"duration": "1h", "rrule": "FREQ=DAILY", "start": tomorrow}]
    status, resp, _ = api.call("POST", "/api/v2/downtime", body)
    assert status == 200, resp
    did = resp["data"]["id"]
    server.set_clock_offset(3)
    upd = deep(body)
    upd["data"]["id"] = ""
    upd["data"]["attributes"]["message"] = "only the message changed"
    status, resp, _ = api.call("PATCH", f"/api/v2/downtime/{did}", upd)
    assert (status, resp) == (400, {"errors": ["Scheduled downtime start cannot be in the past"]})
    # a start just after 'now' in New York but before 'now' in UTC wall-clock terms is accepted
    server.set_clock_offset(0)
    soon_ny = (server.app.now().astimezone(tz) + dt.timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%S")
    body["data"]["attributes"]["schedule"]["recurrences"][0]["start"] = soon_ny
    assert api.call("POST", "/api/v2/downtime", body)[0] == 200


def test_downtime_clock_offset_via_admin_api(api, server):
    c = Client(server.url)
    status, body, _ = c.call("POST", "/_standin/clock", {"offset_days": 40000}, keys=False)
    assert status == 200 and body["offset_days"] == 40000
    assert_dd_error(*api.call("POST", "/api/v2/downtime", RECURRING)[:2], 400, "cannot be in the past")
    c.call("POST", "/_standin/clock", {"offset_days": 0}, keys=False)
    assert api.call("POST", "/api/v2/downtime", RECURRING)[0] == 200


@pytest.mark.parametrize("mutate,needle", [
    (lambda a: a.__setitem__("notify_end_states", ["alrt"]), "'alrt'"),
    (lambda a: a.__setitem__("notify_end_types", ["expird"]), "'expird'"),
    (lambda a: a["schedule"]["recurrences"][0].__setitem__("duration", "1 day"), "duration"),
    (lambda a: a["schedule"]["recurrences"][0].__setitem__("rrule", "DTSTART:20420101T000000;FREQ=DAILY"), "rrule"),
    (lambda a: a["schedule"].__setitem__("timezone", "Mars/Olympus"), "timezone"),
    (lambda a: a.__setitem__("mute_first_recovery_notification", "yes"), "mute_first_recovery_notification"),
    (lambda a: a.pop("scope"), "scope"),
])
def test_downtime_invalid_bodies_rejected(api, server, mutate, needle):
    bad = deep(RECURRING)
    mutate(bad["data"]["attributes"])
    assert_dd_error(*api.call("POST", "/api/v2/downtime", bad)[:2], 400, needle)
    assert server.objects()["downtimes"] == {}


def test_downtime_with_monitor_id(api):
    mid = api.call("POST", "/api/v1/monitor", MONITOR)[1]["id"]
    body = deep(ONE_TIME)
    body["data"]["attributes"]["monitor_identifier"] = {"monitor_id": mid}
    status, resp, _ = api.call("POST", "/api/v2/downtime", body)
    assert status == 200, resp
    # as recorded in TestAccDowntimeScheduleBasicOneTimeWithMonitorID.yaml
    assert resp["data"]["relationships"]["monitor"]["data"] == {"type": "monitor", "id": str(mid)}
    assert {"type": "monitor", "attributes": {"name": MONITOR["name"]}, "id": mid} in resp["included"]
    body["data"]["attributes"]["monitor_identifier"] = {"monitor_id": 999}
    assert_dd_error(*api.call("POST", "/api/v2/downtime", body)[:2], 400, "999")


@pytest.mark.parametrize("path", ["/api/v1/monitor/4242", "/api/v1/dashboard/abc-def-ghi",
                                  "/api/v2/downtime/3444e618-21c2-11ee-82bd-da7ad0900002"])
def test_unknown_ids_404(api, path):
    assert_dd_error(*api.call("GET", path)[:2], 404)
    assert_dd_error(*api.call("DELETE", path)[:2], 404)


def test_unserved_route_is_404_and_flagged(api, server):
    assert_dd_error(*api.call("GET", "/api/v2/dashboard/lists/manual/1/dashboards")[:2], 404, "not served")
    assert server.requests()[-1]["unhandled"] is True


# ----------------------------------------------------------------------------- persistence

def test_persistence_across_restart(tmp_path):
    state = tmp_path / "state"
    h = start_server(0, state, clock_offset=0.5)
    c = Client(h.url)
    mid = c.call("POST", "/api/v1/monitor", MONITOR)[1]["id"]
    did = c.call("POST", "/api/v1/dashboard", DASHBOARD)[1]["id"]
    tid = c.call("POST", "/api/v2/downtime", RECURRING)[1]["data"]["id"]
    h.stop()
    assert json.loads((state / "store.json").read_text())["monitors"][str(mid)]["name"] == MONITOR["name"]
    assert not list(state.glob(".store.*.tmp"))

    h2 = start_server(0, state)
    try:
        c2 = Client(h2.url)
        assert c2.call("GET", f"/api/v1/monitor/{mid}")[1]["id"] == mid
        assert c2.call("GET", f"/api/v1/dashboard/{did}")[1]["id"] == did
        assert c2.call("GET", f"/api/v2/downtime/{tid}")[1]["data"]["id"] == tid
        assert c2.call("POST", "/api/v1/monitor", MONITOR)[1]["id"] == mid + 1
        assert h2.app.clock_offset_days == 0.5  # the clock offset persists too
    finally:
        h2.stop()


# ----------------------------------------------------------------------------- faults, log

def test_fault_429_with_rate_limit_headers(api, server):
    c = Client(server.url)
    status, body, _ = c.call("POST", "/_standin/faults",
                             {"status": 429, "count": 2, "retry_after": 7, "path_prefix": "/api/v1/monitor"},
                             keys=False)
    assert status == 200 and body["fault"]["count"] == 2
    for _ in range(2):
        status, body, headers = api.call("POST", "/api/v1/monitor", MONITOR)
        assert_dd_error(status, body, 429, "Rate limit")
        assert headers["Retry-After"] == "7" and headers["X-RateLimit-Reset"] == "7"
        assert headers["X-RateLimit-Remaining"] == "0"
        for h in ("X-RateLimit-Limit", "X-RateLimit-Period", "X-RateLimit-Name"):
            assert h in headers
    assert api.call("GET", "/api/v1/validate")[0] == 200            # not matching the prefix
    assert api.call("POST", "/api/v1/monitor", MONITOR)[0] == 200   # faults used up
    assert len(server.objects()["monitors"]) == 1
    assert server.stats()["faults_injected"] == 2
    assert c.call("GET", "/_standin/faults", keys=False)[1] == {"faults": []}


def test_fault_503_by_method_and_clear(api, server):
    server.add_fault(status=503, count=5, path_prefix="/api/v2/downtime", method="PATCH")
    did = api.call("POST", "/api/v2/downtime", RECURRING)[1]["data"]["id"]
    upd = deep(RECURRING)
    upd["data"]["id"] = ""
    assert_dd_error(*api.call("PATCH", f"/api/v2/downtime/{did}", upd)[:2], 503)
    c = Client(server.url)
    assert c.call("DELETE", "/_standin/faults", keys=False)[0] == 200
    assert api.call("PATCH", f"/api/v2/downtime/{did}", upd)[0] == 200


def test_request_log_counts_and_hides_keys(api, server):
    api.call("GET", "/api/v1/validate")
    mid = api.call("POST", "/api/v1/monitor", MONITOR)[1]["id"]
    api.call("GET", f"/api/v1/monitor/{mid}")
    api.call("PUT", f"/api/v1/monitor/{mid}", MONITOR)
    bad = deep(MONITOR)
    bad["type"] = "metrc alert"
    api.call("POST", "/api/v1/monitor", bad)
    api.call("DELETE", f"/api/v1/monitor/{mid}")
    assert server.writes() == 4
    assert server.count(method="POST", path_prefix="/api/v1/monitor", status=400) == 1
    stats = server.stats()
    assert stats["writes"] == 4 and stats["writes_ok"] == 3 and stats["GET"] == 2
    log_file = server.app.state_dir / "requests.jsonl"
    lines = [json.loads(x) for x in log_file.read_text().splitlines()]
    assert [(e["method"], e["path"], e["status"]) for e in lines] == [
        ("GET", "/api/v1/validate", 200), ("POST", "/api/v1/monitor", 200), ("GET", f"/api/v1/monitor/{mid}", 200),
        ("PUT", f"/api/v1/monitor/{mid}", 200), ("POST", "/api/v1/monitor", 400),
        ("DELETE", f"/api/v1/monitor/{mid}", 200)]
    text = log_file.read_text() + (server.app.state_dir / "store.json").read_text()
    assert API_KEY not in text and APP_KEY not in text
    status, body, _ = Client(server.url).call("GET", "/_standin/log", keys=False)
    assert status == 200 and len(body["requests"]) == 6 and body["stats"]["writes"] == 4
    status, objs, _ = Client(server.url).call("GET", "/_standin/objects", keys=False)
    assert status == 200 and set(objs) == {"monitors", "dashboards", "downtimes", "downtimes_v1", "events",
                                                 "restriction_policies"}


# ----------------------------------------------------------------------------- CLI

def test_cli_start_and_stop(tmp_path):
    t0 = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "tests.standins.datadog_api", "--port", "0",
                             "--state-dir", str(tmp_path), "--clock-offset-days", "2"],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        m = re.search(r"http://127\.0\.0\.1:(\d+)", line)
        assert m, (line, proc.stderr.read() if proc.poll() is not None else "")
        c = Client(f"http://127.0.0.1:{m.group(1)}")
        assert c.call("GET", "/api/v1/validate")[:2] == (200, {"valid": True})
        assert c.call("GET", "/_standin/clock", keys=False)[1]["offset_days"] == 2
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) == 0
    assert time.monotonic() - t0 < 10
    assert (tmp_path / "requests.jsonl").exists()
