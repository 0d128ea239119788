"""Behaviours of the Datadog API stand-in taken from Datadog's recorded exchanges (cassette named
in each test): fields Datadog fills in, list endpoints, bodies the client models reject but
Datadog accepts, v1 downtimes and monitor restriction policies."""
from __future__ import annotations

import pytest

from tests.unit.test_datadog_standin import DASHBOARD, MONITOR, api, assert_dd_error, deep, server  # noqa: F401

pytestmark = pytest.mark.unit

NOTE = {"definition": {"type": "note", "content": "n"}}


def create_monitor(api, **changes):
    status, body, _ = api.call("POST", "/api/v1/monitor", {**deep(MONITOR), **changes})
    assert status == 200, body
    return body


def create_dashboard(api, **changes):
    status, body, _ = api.call("POST", "/api/v1/dashboard", {**deep(DASHBOARD), **changes})
    assert status == 200, body
    return body


# ----------------------------------------------------------------------------- monitors

def test_monitor_draft_status_defaults_to_published(api):
    """TestAccDatadogMonitor_ServiceCheck*.yaml: sent without draft_status, answered "published"."""
    assert create_monitor(api)["draft_status"] == "published"


def test_monitor_draft_status_kept(api):
    assert create_monitor(api, draft_status="draft")["draft_status"] == "draft"


ASSET = {"category": "runbook", "name": "Runbook", "url": "/notebook/1234"}


def test_monitor_assets_answered_with_monitor_id_on_create(api):
    """TestAccDatadogMonitor_Assets.yaml."""
    mon = create_monitor(api, assets=[ASSET])
    assert mon["assets"] == [{"monitor_id": mon["id"], **ASSET, "template_variables": {}, "options": {},
                              "resource_key": None, "resource_type": None}]


def test_monitor_assets_only_with_assets_true(api):
    mid = create_monitor(api, assets=[ASSET])["id"]
    assert api.call("GET", f"/api/v1/monitor/{mid}")[1]["assets"] == []
    assert api.call("GET", f"/api/v1/monitor/{mid}?with_assets=true")[1]["assets"][0]["name"] == "Runbook"


def test_log_alert_gets_groupby_simple_monitor(api):
    """TestAccDatadogMonitor_LogMultiAlert.yaml."""
    mon = create_monitor(api, type="log alert", query='logs("service:foo").index("main").rollup("count").last("5m") > 2',
                         options={"thresholds": {"critical": 2}})
    assert mon["options"]["groupby_simple_monitor"] is False


def test_monitor_restriction_policy_only_in_write_answers(api):
    mon = create_monitor(api)
    assert mon["restriction_policy"] is None
    assert "restriction_policy" not in api.call("GET", f"/api/v1/monitor/{mon['id']}")[1]


def test_monitor_list_filters_by_name(api):
    """TestAccDatadogMonitorDatasource.yaml: GET /api/v1/monitor?name=..."""
    wanted = create_monitor(api, name="disk full on db")["id"]
    create_monitor(api, name="cpu")
    status, body, _ = api.call("GET", "/api/v1/monitor?name=disk%20full")
    assert status == 200 and [m["id"] for m in body] == [wanted]
    assert body[0]["matching_downtimes"] == [] and "restriction_policy" not in body[0]


def test_monitor_list_filters_by_monitor_tags(api):
    wanted = create_monitor(api, tags=["team:db", "env:dev"])["id"]
    create_monitor(api, tags=["team:web"])
    body = api.call("GET", "/api/v1/monitor?monitor_tags=team%3Adb,env%3Adev")[1]
    assert [m["id"] for m in body] == [wanted]


def test_monitor_list_filters_by_scope_tags(api):
    wanted = create_monitor(api)["id"]  # query scope {environment:foo,host:foo}
    create_monitor(api, query="avg(last_1h):avg:aws.ec2.cpu{host:bar} > 2")
    assert [m["id"] for m in api.call("GET", "/api/v1/monitor?tags=host%3Afoo")[1]] == [wanted]


def test_monitor_list_pages(api):
    ids = [create_monitor(api)["id"] for _ in range(3)]
    assert [m["id"] for m in api.call("GET", "/api/v1/monitor?page=1&page_size=2")[1]] == ids[2:]


# ----------------------------------------------------------------------------- dashboards

def test_dashboard_is_read_only_answered_false_by_default(api):
    assert create_dashboard(api)["is_read_only"] is False


def test_dashboard_list_answers_summaries(api):
    """TestAccDatadogDashboardDatasource.yaml: GET /api/v1/dashboard."""
    d = create_dashboard(api)
    status, body, _ = api.call("GET", "/api/v1/dashboard")
    assert status == 200
    assert body == {"dashboards": [{k: d.get(k) for k in (
        "id", "title", "description", "layout_type", "url", "is_read_only", "created_at", "modified_at",
        "author_handle")} | {"deleted_at": None}]}


def test_dashboard_list_pages_with_start_and_count(api):
    ids = [create_dashboard(api)["id"] for _ in range(3)]
    got = api.call("GET", "/api/v1/dashboard?start=1&count=1")[1]["dashboards"]
    assert len(got) == 1 and got[0]["id"] in ids


def test_dashboard_tabs_resolve_widget_references(api):
    """TestAccDatadogDashboardTab.yaml: "@N" names the Nth widget and comes back as its id."""
    d = create_dashboard(api, widgets=[deep(NOTE), deep(NOTE)],
                         tabs=[{"id": "t1", "name": "Overview", "widget_ids": ["@2"]}])
    assert d["tabs"] == [{"id": "t1", "name": "Overview", "widget_ids": [d["widgets"][1]["id"]]}]


def test_dashboard_tab_reference_to_no_widget_rejected(api):
    body = {**deep(DASHBOARD), "widgets": [deep(NOTE)], "tabs": [{"name": "T", "widget_ids": ["@3"]}]}
    assert_dd_error(*api.call("POST", "/api/v1/dashboard", body)[:2], 400, "@3")


def sort_widget(order_by):
    return {"definition": {"type": "sunburst", "requests": [{
        "formulas": [{"formula": "query1"}], "response_format": "scalar",
        "queries": [{"aggregator": "sum", "data_source": "metrics", "name": "query1", "query": "sum:x{*} by {host}"}],
        "sort": {"count": 25, "order_by": order_by}}]}}


def test_formula_sort_without_index_accepted(api):
    """TestAccDatadogDashboardV2SunburstSort.yaml: Datadog accepts it, datadog-api-client 2.62 does not."""
    create_dashboard(api, widgets=[sort_widget([{"order": "desc", "type": "formula"}])])


def test_formula_sort_with_unknown_order_rejected(api):
    body = {**deep(DASHBOARD), "widgets": [sort_widget([{"order": "downwards", "type": "formula"}])]}
    assert_dd_error(*api.call("POST", "/api/v1/dashboard", body)[:2], 400, "'downwards'")


def list_stream(*sources):
    return {"definition": {"type": "list_stream", "requests": [
        {"columns": [{"field": "details", "width": "auto"}], "response_format": "event_list",
         "query": {"data_source": s, "query_string": ""}} for s in sources]}}


def test_list_stream_with_two_requests_accepted(api):
    """TestAccDatadogDashboardListStream.yaml."""
    create_dashboard(api, widgets=[list_stream("rum_issue_stream", "apm_issue_stream")])


def test_list_stream_request_with_unknown_source_rejected(api):
    body = {**deep(DASHBOARD), "widgets": [list_stream("rum_issue_stream", "tea_leaves")]}
    assert_dd_error(*api.call("POST", "/api/v1/dashboard", body)[:2], 400, "'tea_leaves'")


def test_wildcard_histogram_request_accepted(api):
    """TestAccDatadogDashboardV2WildcardHistogram.yaml."""
    create_dashboard(api, widgets=[{"definition": {
        "type": "wildcard", "title": "Latency",
        "requests": [{"query": {"data_source": "metrics", "name": "query1", "query": "histogram:trace.Load{*}"},
                      "request_type": "histogram"}],
        "specification": {"type": "vega-lite", "contents": {"mark": "bar"}}}}])


# ----------------------------------------------------------------------------- v1 downtimes, policies

V1_DOWNTIME = {"message": "m", "monitor_tags": ["*"], "scope": ["host:a"], "start": 4097124660,
               "end": 4097160000, "timezone": "UTC", "recurrence": {"period": 1, "type": "days"}}


def test_v1_downtime_listed_with_recorded_fields(api):
    """TestAccDatadogDowntimeDates.yaml: the answer's recurrence has every field, scope host: is type 1."""
    created = api.call("POST", "/api/v1/downtime", deep(V1_DOWNTIME))[1]
    status, listed, _ = api.call("GET", "/api/v1/downtime")
    assert status == 200 and listed == [created]
    assert created["recurrence"] == {"type": "days", "period": 1, "week_days": None, "until_occurrences": None,
                                     "until_date": None}
    assert (created["status"], created["downtime_type"], created["active"]) == ("scheduled", 1, False)


def test_v1_downtime_cancel_keeps_it_readable(api):
    did = api.call("POST", "/api/v1/downtime", deep(V1_DOWNTIME))[1]["id"]
    assert api.call("DELETE", f"/api/v1/downtime/{did}")[0] == 204
    got = api.call("GET", f"/api/v1/downtime/{did}")[1]
    assert (got["status"], got["disabled"], isinstance(got["canceled"], int)) == ("canceled", True, True)


def test_v1_downtime_current_only_lists_active_ones(api):
    api.call("POST", "/api/v1/downtime", deep(V1_DOWNTIME))
    now = api.call("POST", "/api/v1/downtime", {"message": "now", "scope": ["*"]})[1]
    assert [d["id"] for d in api.call("GET", "/api/v1/downtime?current_only=true")[1]] == [now["id"]]


def test_v1_downtime_silences_its_monitor(api):
    """TestAccDatadogDowntime_BasicWithMonitor.yaml: options.silenced {"*": end}."""
    mid = create_monitor(api)["id"]
    api.call("POST", "/api/v1/downtime", {**deep(V1_DOWNTIME), "monitor_id": mid, "scope": ["*"]})
    assert api.call("GET", f"/api/v1/monitor/{mid}")[1]["options"]["silenced"] == {"*": 4097160000}


def policy(mid, role):
    return {"data": {"type": "restriction_policy", "id": f"monitor:{mid}", "attributes": {"bindings": [
        {"relation": "editor", "principals": ["org:o", f"role:{role}"]}]}}}


def test_restriction_policy_sets_restricted_roles(api):
    """TestAccDatadogMonitor_WithRestrictionPolicy.yaml."""
    mid = create_monitor(api)["id"]
    assert api.call("POST", f"/api/v2/restriction_policy/monitor:{mid}", policy(mid, "r1"))[0] == 200
    assert api.call("GET", f"/api/v1/monitor/{mid}")[1]["restricted_roles"] == ["r1"]


def test_deleting_restriction_policy_clears_restricted_roles(api):
    mid = create_monitor(api)["id"]
    api.call("POST", f"/api/v2/restriction_policy/monitor:{mid}", policy(mid, "r1"))
    assert api.call("DELETE", f"/api/v2/restriction_policy/monitor:{mid}")[0] == 204
    assert api.call("GET", f"/api/v1/monitor/{mid}")[1]["restricted_roles"] is None


# ----------------------------------------------------------------------------- v2 downtime list

def downtime_body(scope="env:x", monitor_id=None, start=None):
    ident = {"monitor_id": monitor_id} if monitor_id else {"monitor_tags": ["*"]}
    schedule = {"recurrences": [{"duration": "1h", "rrule": "FREQ=DAILY", **({"start": start} if start else {})}],
                "timezone": "UTC"}
    return {"data": {"type": "downtime", "attributes": {"scope": scope, "monitor_identifier": ident,
                                                        "schedule": schedule}}}


def test_downtime_list_parses_as_the_clients_list_response(api):
    """GET /api/v2/downtime, as the adoption tool lists schedules through datadog-api-client."""
    from datadog_api_client import Configuration
    from datadog_api_client.model_utils import validate_and_convert_types
    from datadog_api_client.v2.model.list_downtimes_response import ListDowntimesResponse
    mid = create_monitor(api)["id"]
    api.call("POST", "/api/v2/downtime", downtime_body(monitor_id=mid))
    status, body, _ = api.call("GET", "/api/v2/downtime?include=created_by,monitor")
    assert status == 200
    parsed = validate_and_convert_types(body, (ListDowntimesResponse,), ["body"], True, True, Configuration())
    assert [d.attributes.monitor_identifier.monitor_id for d in parsed.data] == [mid]
    assert {x["type"] for x in body["included"]} == {"users", "monitor"}
    assert body["meta"]["page"]["total_filtered_count"] == 1


def test_downtime_list_current_only(api, server):
    api.call("POST", "/api/v2/downtime", downtime_body("env:later", start="2099-01-01T00:00:00"))
    api.call("POST", "/api/v2/downtime", downtime_body("env:now"))
    body = api.call("GET", "/api/v2/downtime?current_only=true")[1]
    assert [d["attributes"]["scope"] for d in body["data"]] == ["env:now"]


def test_downtime_list_pages(api):
    for i in range(3):
        api.call("POST", "/api/v2/downtime", downtime_body(f"env:{i}"))
    body = api.call("GET", "/api/v2/downtime?page[offset]=1&page[limit]=1")[1]
    assert len(body["data"]) == 1 and body["meta"]["page"]["total_filtered_count"] == 3
