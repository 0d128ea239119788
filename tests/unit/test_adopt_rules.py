"""rules/adopt.py: which existing Datadog objects are the stack's resources (pure functions).

The stack's resources come from the real offline plan (with the seed's host); the existing
objects are the seed's own JSON bodies (tests/unit/data/seed-objects.json) and downtimes
shaped like the v2 answers recorded in ../shared/datadog-cassettes
(TestAccDowntimeScheduleBasicRecurring_Import.yaml).
"""
from __future__ import annotations

import copy
import datetime as dt
import json
import re

import pytest

from rules import adopt as rules
from tests.unit.adopt_fixtures import ROOT, SEED_HOST, SEED_OBJECTS, seed_stack_config
from tools import adopt as tool
from tools import plan as offline

HOSTS = {SEED_HOST}
NOW = dt.datetime(2026, 11, 26, 12, 0, tzinfo=dt.timezone.utc)


@pytest.fixture(scope="module")
def resources(tmp_path_factory):
    path = seed_stack_config(tmp_path_factory.mktemp("adopt"))
    return tool.stack_resources(offline.run(offline.StackConfig.from_file(path), "seed"))


def resource(resources, type_, name):
    return next(r for r in resources if r.type == type_ and r.name == name)


def seed_monitor(id_=101, **changes):
    return {**copy.deepcopy(SEED_OBJECTS["monitor"]), "id": id_, **changes}


def seed_dashboard(id_="abc-def-ghi", **changes):
    return {**copy.deepcopy(SEED_OBJECTS["dashboard"]), "id": id_, **changes}


def apm_board(id_="apm-000-001", host=SEED_HOST):
    """A hand-made APM board: trace metrics of the app beside its host's system metrics."""
    return {"id": id_, "title": "Flask and the VM", "layout_type": "ordered", "widgets": [
        {"definition": {"type": "timeseries", "requests": [
            {"q": f"sum:trace.flask.request.hits{{service:flask-app,host:{host}}}.as_count()"}]}},
        {"definition": {"type": "timeseries", "requests": [
            {"q": f"avg:system.cpu.user{{host:{host}}}"}]}}]}


def by_name(matches):
    return {m.resource.name: m for m in matches}


def test_the_seeds_monitor_matches_by_its_query_on_our_host(resources):
    [monitor] = [m for m in rules.match(resources, [seed_monitor()], [], HOSTS)
                 if m.resource.type == rules.MONITOR]
    assert monitor.status == "matched"
    assert monitor.candidates[0].id == "101"
    assert monitor.candidates[0].reasons == (f"query watches my_metric on host:{SEED_HOST}",)


def test_a_monitor_named_as_the_stacks_matches_by_name(resources):
    mine = resource(resources, rules.MONITOR, "my-metric-high-monitor")
    other = {"id": 7, "name": mine.inputs["name"], "type": "metric alert", "query": "avg(last_5m):avg:cpu{*} > 1"}
    matches = by_name(rules.match(resources, [other], [], HOSTS))
    assert matches["my-metric-high-monitor"].candidates[0].reasons == (f"same name {mine.inputs['name']!r}",)


def test_a_my_metric_monitor_on_another_host_is_not_a_candidate(resources):
    other = seed_monitor(query="max(last_5m):max:my_metric{host:someone-else} > 800")
    assert by_name(rules.match(resources, [other], [], HOSTS))["my-metric-high-monitor"].status == "unmatched"


def test_two_fitting_monitors_are_ambiguous_and_both_are_listed(resources):
    matches = by_name(rules.match(resources, [seed_monitor(1), seed_monitor(2)], [], HOSTS))
    monitor = matches["my-metric-high-monitor"]
    assert monitor.status == "ambiguous"
    assert [c.id for c in monitor.candidates] == ["1", "2"]


def test_the_seeds_dashboard_matches_the_timeboard_by_its_widgets(resources):
    matches = by_name(rules.match(resources, [], [seed_dashboard()], HOSTS))
    assert matches["timeboard-dashboard"].status == "matched"
    assert matches["timeboard-dashboard"].candidates[0].reasons == (
        f"widgets graph my_metric, its anomalies() and its rollup on host:{SEED_HOST}",)
    assert matches["apm-dashboard"].status == "unmatched"


def test_a_hand_made_apm_board_matches_the_apm_dashboard(resources):
    matches = by_name(rules.match(resources, [], [apm_board(), seed_dashboard()], HOSTS))
    assert [c.id for c in matches["apm-dashboard"].candidates] == ["apm-000-001"]
    assert matches["apm-dashboard"].status == "matched"


def test_an_apm_board_on_another_host_is_not_a_candidate(resources):
    matches = by_name(rules.match(resources, [], [apm_board(host="elsewhere")], HOSTS))
    assert matches["apm-dashboard"].status == "unmatched"


def test_a_dashboard_fitting_two_resources_is_ambiguous_for_both(resources):
    timeboard = resource(resources, rules.DASHBOARD, "timeboard-dashboard")
    # An APM board someone titled like the stack's timeboard.
    both = {**apm_board(), "title": timeboard.inputs["title"]}
    matches = by_name(rules.match(resources, [], [both], HOSTS))
    assert matches["timeboard-dashboard"].status == matches["apm-dashboard"].status == "ambiguous"
    assert matches["timeboard-dashboard"].also_claimed_by == ["apm-dashboard"]


def templated_board(**variables) -> dict:
    """The seeds' board as the stack itself builds one: widgets over `$host`, the host
    offered by a `host`-prefixed template variable (API or plan spelling)."""
    board = seed_dashboard(id_="tpl-000-001", title="Hand-made with a host variable")
    for widget in board["widgets"]:
        for request in widget["definition"]["requests"]:
            request["q"] = request["q"].replace(f"host:{SEED_HOST}", "$host")
    return {**board, **variables}


@pytest.mark.parametrize("variables", [
    {"template_variables": [{"name": "host", "prefix": "host", "available_values": [SEED_HOST]}]},
    {"template_variables": [{"name": "host", "prefix": "host", "defaults": [SEED_HOST]}]},
    {"template_variables": [{"name": "host", "prefix": "host", "default": SEED_HOST}]},
    {"template_variables": [{"name": "h", "prefix": "host", "available_values": [f"host:{SEED_HOST}"]}]},
    {"templateVariables": [{"name": "host", "prefix": "host", "availableValues": [SEED_HOST]}]},
    {"template_variables": [{"name": "role", "prefix": "role", "default": "db"},
                            {"name": "host", "prefix": "host", "defaults": ["elsewhere", SEED_HOST]}]},
    {"template_variables": [{"name": "db", "prefix": "host", "default": SEED_HOST},
                            {"name": "app", "prefix": "host", "default": "elsewhere"}]},
], ids=["available_values", "defaults", "default", "host:-prefixed", "plan-spelling", "second-variable",
        "two-host-variables"])
def test_a_board_scoped_by_a_host_template_variable_matches_on_that_host(resources, variables):
    matches = by_name(rules.match(resources, [], [templated_board(**variables)], HOSTS))
    assert matches["timeboard-dashboard"].candidates[0].reasons == (
        f"widgets graph my_metric, its anomalies() and its rollup on host:{SEED_HOST}",), \
        "a board whose host variable offers our host graphs our host, as the stack's own boards do"


@pytest.mark.parametrize("variables", [
    {},
    {"template_variables": [{"name": "role", "prefix": "role", "default": SEED_HOST}]},
    {"template_variables": [{"name": "host", "prefix": "host", "available_values": ["elsewhere"]}]},
], ids=["no-variable", "other-prefix", "other-host"])
def test_a_templated_board_offering_none_of_our_hosts_is_no_candidate(resources, variables):
    matches = by_name(rules.match(resources, [], [templated_board(**variables)], HOSTS))
    assert matches["timeboard-dashboard"].status == "unmatched", \
        "a board over someone else's hosts is theirs, whatever it graphs"


def test_a_timeboard_whose_my_metric_graphs_watch_another_host_is_not_ours(resources):
    # Its anomalies() graph watches our host's disk, but my_metric, the stack's own metric,
    # is graphed for someone else's host: the board is theirs.
    board = seed_dashboard(id_="other-tb", title="Someone else's timeboard")
    for widget in board["widgets"]:
        for request in widget["definition"]["requests"]:
            if "my_metric" in request["q"]:
                request["q"] = request["q"].replace(f"host:{SEED_HOST}", "host:elsewhere")
    matches = by_name(rules.match(resources, [], [board], HOSTS))
    assert matches["timeboard-dashboard"].status == "unmatched", \
        "a timeboard matches by where it graphs my_metric, not by its other graphs"


def test_an_apm_board_says_it_graphs_trace_beside_system_metrics(resources):
    apm = resource(resources, rules.DASHBOARD, "apm-dashboard")
    assert rules.dashboard_reasons(apm_board(), apm, HOSTS) == [
        f"widgets graph trace metrics beside system metrics on host:{SEED_HOST}"]


def test_a_board_over_two_of_our_hosts_names_both(resources):
    apm = resource(resources, rules.DASHBOARD, "apm-dashboard")
    board = apm_board()
    board["widgets"].append({"definition": {"type": "timeseries", "requests": [
        {"q": "avg:system.cpu.user{host:vm2}"}]}})
    assert rules.dashboard_reasons(board, apm, HOSTS | {"vm2"}) == [
        f"widgets graph trace metrics beside system metrics on host:{SEED_HOST}, host:vm2"]


def test_a_dashboard_titled_as_the_stacks_names_the_title_as_its_reason(resources):
    timeboard = resource(resources, rules.DASHBOARD, "timeboard-dashboard")
    board = {"id": "t-1", "title": timeboard.inputs["title"], "widgets": []}
    assert rules.dashboard_reasons(board, timeboard, HOSTS) == [f"same title {timeboard.inputs['title']!r}"]


@pytest.mark.parametrize("graphs, kind", [
    (["max:my_metric{host:a}", "anomalies(avg:system.io.util{host:a}, 'basic', 2)",
      "max:my_metric{host:a}.rollup(sum, 3600)"], "timeboard"),
    (["max:my_metric{host:a}", "max:my_metric{host:a}.rollup(sum, 3600)"], None),      # no anomalies()
    (["max:my_metric{host:a}", "anomalies(avg:system.io.util{host:a}, 'basic', 2)",
      "avg:system.load.1{host:a}.rollup(sum, 3600)"], None),                           # rollup of another metric
    (["anomalies(avg:system.io.util{host:a}, 'basic', 2)",
      "avg:system.load.1{host:a}.rollup(sum, 3600)"], None),                           # no my_metric
    (["sum:trace.flask.request.hits{host:a}", "avg:system.cpu.user{host:a}"], "apm"),
    (["sum:trace.flask.request.hits{host:a}"], None),                                  # traces alone
    (["avg:system.cpu.user{host:a}"], None),                                           # system alone
])
def test_a_board_is_a_timeboard_or_an_apm_board_only_with_all_its_graphs(graphs, kind):
    assert rules.dashboard_kind(graphs) == kind, \
        "a board is taken for one of the stack's only when it graphs everything that board graphs"


def test_queries_are_found_at_any_depth_under_q_or_query():
    body = {"widgets": [{"definition": {"requests": [{"q": "a"}, {"query": "b"}]}}],
            "q": 5, "title": "not a query", "query": {"q": "c"}}
    assert rules.queries(body) == ["a", "b", "c"], "only the strings under q and query are metric queries"


def test_a_metric_is_read_without_its_aggregation():
    assert rules.metric_scopes("anomalies(max:my_metric{host:a}, 'basic', 2) / avg:system.load.1{*}") == [
        ("my_metric", "host:a"), ("system.load.1", "*")]


def test_every_host_a_scope_names_is_found():
    hosts = {"vm1", "vm2", "vm3"}
    assert rules.scoped_hosts("host:vm1 OR host:(vm2 OR vm3)", hosts) == hosts
    assert rules.scoped_hosts("host:(vm1 OR vm2) AND env:dev", hosts) == {"vm1", "vm2"}


def test_a_candidate_is_labelled_with_the_boards_title(resources):
    matches = by_name(rules.match(resources, [seed_monitor()], [seed_dashboard()], HOSTS))
    assert matches["timeboard-dashboard"].candidates[0].label == SEED_OBJECTS["dashboard"]["title"]
    assert matches["my-metric-high-monitor"].candidates[0].label == SEED_OBJECTS["monitor"]["name"]


def test_the_stacks_own_dashboards_are_told_apart_by_their_widgets(resources):
    kinds = {r.name: rules.dashboard_kind(rules.queries(r.inputs["widgets"]))
             for r in resources if r.type == rules.DASHBOARD}
    assert kinds == {"timeboard-dashboard": "timeboard", "apm-dashboard": "apm"}


# -- downtimes: v2 answers shaped like the cassettes' ------------------------------------

def schedules(resources):
    return [r for r in resources if r.type == rules.DOWNTIME]


def weekday(resources):
    return next(r for r in schedules(resources) if r.name.startswith("off-hours-weekday-nights-"))


def as_found(inputs: dict, start: str = "2018-08-27T19:00:00", **changes) -> dict:
    """A schedule's plan inputs as Datadog answers the downtime (v2 `data` item, as in
    TestAccDowntimeScheduleBasicRecurring_Import.yaml), every recurrence starting at `start`."""
    planned = inputs["recurringSchedule"]
    attributes = {
        "scope": inputs["scope"], "message": inputs["message"], "status": "scheduled", "canceled": None,
        "display_timezone": inputs["displayTimezone"],
        "monitor_identifier": {"monitor_tags": inputs["monitorIdentifier"]["monitorTags"]},
        "schedule": {"timezone": planned["timezone"], "recurrences": [
            {"rrule": r["rrule"], "duration": r["duration"], "start": start} for r in planned["recurrences"]]},
    }
    return {"id": "e7136892-3094-11ee-a41e-da7ad0900002", "type": "downtime",
            "attributes": {**attributes, **changes}}


def test_a_downtime_equal_to_a_schedule_but_for_its_starts_is_that_schedule(resources):
    # Starts aside: the stack ignores changes to them, so the import leaves nothing to update.
    found = as_found(weekday(resources).inputs)
    assert rules.classify_downtime(found, NOW, schedules(resources)) == weekday(resources)


def test_a_downtime_differing_in_its_message_is_refused_naming_the_schedule_and_field(resources):
    found = as_found(weekday(resources).inputs, message="Quiet nights")
    verdict = rules.classify_downtime(found, NOW, schedules(resources))
    assert verdict.startswith(f"differs from {weekday(resources).name} in message: adopting it "
                              "would need an in-place update")
    assert "its start 2018-08-27T19:00:00 is in the past" in verdict


def _other_schedule(inputs: dict, **changes) -> dict:
    planned = inputs["recurringSchedule"]
    return {"timezone": planned["timezone"], "recurrences": [
        {"rrule": r["rrule"], "duration": r["duration"], "start": "2018-08-27T19:00:00"}
        for r in planned["recurrences"]], **changes}


# Every input the stack would send on an update: a downtime that differs in any one of them
# would be updated in place by the first `pulumi up` after the import, and Datadog refuses
# that update once a start is past. Each case changes one field of an otherwise exact copy.
DIFFERING_FIELDS = {
    "scope": lambda i: {"scope": "host:(vm1 OR vm2)"},
    "message": lambda i: {"message": i["message"] + " (edited)"},
    "display_timezone": lambda i: {"display_timezone": "UTC"},
    "monitor_identifier": lambda i: {"monitor_identifier": {"monitor_tags": ["team:ops"]}},
    "schedule.timezone": lambda i: {"schedule": _other_schedule(i, timezone="Europe/Paris")},
}


@pytest.mark.parametrize("field", DIFFERING_FIELDS)
def test_a_downtime_differing_in_any_one_sent_field_is_refused_naming_it(resources, field):
    inputs = weekday(resources).inputs
    found = as_found(inputs, **DIFFERING_FIELDS[field](inputs))
    verdict = rules.classify_downtime(found, NOW, schedules(resources))
    assert isinstance(verdict, str) and verdict.startswith(
        f"differs from {weekday(resources).name} in {field}: adopting it would need an in-place update"), (
        f"a downtime differing in {field} must be refused: adopted, the next `pulumi up` would "
        f"update it in place, and Datadog refuses updates of a schedule whose start is past")


@pytest.mark.parametrize("recurrence_change", [
    {"duration": "2h"},                                        # a shorter night
    {"rrule": "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH;BYHOUR=19;BYMINUTE=0;BYSECOND=0"},  # Friday left out
])
def test_a_downtime_whose_recurrence_differs_is_no_schedule_of_the_stack(resources, recurrence_change):
    inputs = weekday(resources).inputs
    schedule = _other_schedule(inputs)
    schedule["recurrences"][0].update(recurrence_change)
    verdict = rules.classify_downtime(as_found(inputs, schedule=schedule), NOW, schedules(resources))
    assert verdict == (
        "its recurrences are none of the stack's schedules: mapping it onto one would be a guess; "
        "its start 2018-08-27T19:00:00 is in the past, and Datadog refuses any update then "
        "(\"Scheduled downtime start cannot be in the past\")"), \
        "a recurrence that mutes other minutes is not the stack's: adopting it would be a guess"


def test_each_of_the_stacks_schedules_is_adopted_as_itself(resources):
    for schedule in schedules(resources):
        assert rules.classify_downtime(as_found(schedule.inputs), NOW, schedules(resources)) == schedule, \
            f"{schedule.name}: an exact copy is that schedule, never the other one"


def test_the_seeds_ui_downtime_7pm_to_9am_is_refused_as_a_guess(resources):
    # ../shared/seeds/004_*.txt: one weekday downtime 7 PM to 9 AM, scoped host:..., in the UI.
    found = as_found(weekday(resources).inputs, schedule={"timezone": "America/New_York", "recurrences": [
        {"rrule": "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", "duration": "14h", "start": "2018-08-27T19:00:00"}]})
    verdict = rules.classify_downtime(found, NOW, schedules(resources))
    assert verdict.startswith("its recurrences are none of the stack's schedules")


def test_a_future_start_is_not_called_past(resources):
    found = as_found(weekday(resources).inputs, start="2042-07-13T01:02:03", message="other")
    assert "in the past" not in rules.classify_downtime(found, NOW, schedules(resources))


# A start is a local time in the schedule's timezone (Datadog stores it so): whether it is past
# depends on that zone. NOW is 12:00 UTC: 07:00 in New York, 21:00 in Tokyo, 12:00 in London.
@pytest.mark.parametrize("zone, start, past", [
    ("America/New_York", "2026-11-26T08:00:00", False),   # 13:00 UTC: an hour ahead
    ("Asia/Tokyo", "2026-11-26T08:00:00", True),          # 23:00 UTC the day before
    ("Europe/London", "2026-11-26T11:59:00", True),
    ("Europe/London", "2026-11-26T12:01:00", False),
    ("Europe/London", "2026-11-26T12:00:00", False),     # now itself is not past yet
    (None, "2026-11-26T11:59:00", True),                  # no timezone: Datadog's default, UTC
    ("Asia/Tokyo", "2026-11-26T13:00:00+00:00", False),   # an explicit offset is read as written
    ("America/New_York", "2026-11-26T11:00:00+00:00", True),
])
def test_a_start_is_past_or_not_in_the_schedules_own_timezone(resources, zone, start, past):
    inputs = weekday(resources).inputs
    schedule = {"recurrences": [{"rrule": "FREQ=WEEKLY;BYDAY=MO", "duration": "1h", "start": start}]}
    if zone:
        schedule["timezone"] = zone
    verdict = rules.classify_downtime(as_found(inputs, schedule=schedule), NOW, schedules(resources))
    assert ("is in the past" in verdict) is past, (
        f"{start} in {zone or 'UTC'} is {'before' if past else 'after'} {NOW:%H:%M} UTC: the refusal "
        "must say a past start makes Datadog refuse updates exactly when it is past there")


def test_a_recurrence_without_start_does_not_hide_a_later_past_one(resources):
    inputs = weekday(resources).inputs
    schedule = {"timezone": "UTC", "recurrences": [
        {"rrule": "FREQ=WEEKLY;BYDAY=MO", "duration": "1h"},
        {"rrule": "FREQ=WEEKLY;BYDAY=TU", "duration": "1h", "start": "2020-01-07T04:00:00"}]}
    verdict = rules.classify_downtime(as_found(inputs, schedule=schedule), NOW, schedules(resources))
    assert "its start 2020-01-07T04:00:00 is in the past" in verdict, \
        "every recurrence's start is checked, not only the first one's"


def test_a_one_time_downtime_is_refused(resources):
    found = as_found(weekday(resources).inputs, schedule={"start": "2026-12-24T00:00:00+00:00", "end": None})
    assert rules.classify_downtime(found, NOW, schedules(resources)) == \
        "a one-time downtime: the stack's schedules recur weekly"


def test_a_canceled_downtime_is_not_adopted(resources):
    found = as_found(weekday(resources).inputs, status="canceled")
    assert rules.classify_downtime(found, NOW, schedules(resources)) == "canceled: nothing to adopt"


@pytest.mark.parametrize("changes, verdict", [
    ({"status": "canceled"}, "canceled: nothing to adopt"),
    ({"status": "ended"}, "ended: nothing to adopt"),
    ({"status": None, "canceled": "2026-11-20T10:00:00.000Z"}, "canceled: nothing to adopt"),
])
def test_a_canceled_or_ended_downtime_is_not_adopted_and_says_which(resources, changes, verdict):
    found = as_found(weekday(resources).inputs, **changes)
    assert rules.classify_downtime(found, NOW, schedules(resources)) == verdict, \
        "a downtime that no longer mutes anything is never adopted, and the refusal says why"


def test_a_downtime_differing_in_two_fields_names_both(resources):
    found = as_found(weekday(resources).inputs, scope="host:other", message="Quiet nights")
    verdict = rules.classify_downtime(found, NOW, schedules(resources))
    assert verdict.startswith(f"differs from {weekday(resources).name} in scope, message: "), verdict


def test_a_downtime_is_ours_by_monitor_id_monitor_tag_or_host():
    tag = "off-hours-downtimes:datadog-stack/seed"
    assert rules.downtime_relevance({"monitor_identifier": {"monitor_id": 101}}, "101", set(), HOSTS) == \
        "mutes monitor 101"
    assert rules.downtime_relevance({"monitor_identifier": {"monitor_tags": [tag]}}, None, {tag}, HOSTS) == \
        f"mutes monitors tagged {tag}"
    assert rules.downtime_relevance({"scope": f"host:({SEED_HOST} OR b)"}, None, set(), HOSTS) == \
        f"scoped to host:{SEED_HOST}"


def test_every_reason_names_each_host_and_tag_it_found():
    hosts = {"vm1", "vm2"}
    monitor = {"name": "other", "type": "metric alert",
               "query": "avg(last_5m):max:my_metric{host:vm1 OR host:vm2} > 800"}
    resource = rules.Resource(rules.MONITOR, "m", None, None, {"name": "mine"})
    assert rules.monitor_reasons(monitor, resource, hosts) == ["query watches my_metric on host:vm1, host:vm2"]
    tags = {"team:ops", "off-hours-downtimes:datadog-stack/seed"}
    assert rules.downtime_relevance({"monitor_identifier": {"monitor_tags": sorted(tags)}}, None, tags, hosts) == \
        "mutes monitors tagged off-hours-downtimes:datadog-stack/seed, team:ops"
    assert rules.downtime_relevance({"scope": "host:(vm2 OR vm1)"}, None, set(), hosts) == \
        "scoped to host:vm1, host:vm2"


def test_a_monitor_without_a_query_is_judged_by_its_name_alone():
    resource = rules.Resource(rules.MONITOR, "m", None, None, {"name": "mine"})
    assert rules.monitor_reasons({"name": "mine", "type": "metric alert"}, resource, HOSTS) == \
        ["same name 'mine'"], "a monitor body without a query (as the API may answer) is no crash"


def test_downtimes_of_other_monitors_and_hosts_are_none_of_ours():
    other = {"monitor_identifier": {"monitor_id": 999}, "scope": "host:someone-else"}
    assert rules.downtime_relevance(other, "101", {"off-hours-downtimes:datadog-stack/seed"}, HOSTS) is None


# -- the import document ---------------------------------------------------------------

def test_the_import_document_puts_each_match_under_its_component(resources):
    matches = rules.match(resources, [seed_monitor()], [seed_dashboard()], HOSTS)
    document = rules.import_document(matches, [])
    assert document == {"resources": [
        {"type": "datadog-stack:index:MetricMonitor", "name": "my-metric-high-component",
         "logicalName": "my-metric-high", "component": True},
        {"type": rules.MONITOR, "name": "my-metric-high-monitor", "id": "101", "parent": "my-metric-high-component"},
        {"type": "datadog-stack:index:Timeboard", "name": "timeboard-component",
         "logicalName": "timeboard", "component": True},
        {"type": rules.DASHBOARD, "name": "timeboard-dashboard", "id": "abc-def-ghi", "parent": "timeboard-component"},
    ]}


def test_the_seed_bodies_are_the_seeds_own():
    seed = ROOT.parent.parent / "shared" / "seeds" / "000_b0f9457d2bfd03c2.txt"
    seed = seed if seed.exists() else ROOT.parent / "shared" / "seeds" / seed.name
    if not seed.exists():
        pytest.skip(f"no {seed.name} next to the repository (../shared/seeds)")
    blocks = re.findall(r"```\n?(.*?)```", seed.read_text(), re.S)
    assert json.loads("".join(blocks[3:7])) == SEED_OBJECTS["dashboard"]
    assert json.loads("".join(blocks[7:10])) == SEED_OBJECTS["monitor"]
