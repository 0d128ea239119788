"""`python -m tools.adopt` against the Datadog API stand-in, loaded the way the seeds' users
loaded Datadog: the seed's own monitor and dashboard bodies POSTed as-is, downtimes made
through the v2 API as the UI makes them."""
from __future__ import annotations

import copy
import json
import re
import urllib.request

import pytest

from tests.standins.datadog_api import start_server
from tests.unit.adopt_fixtures import SEED_HOST, SEED_OBJECTS, seed_stack_config
from tools import adopt
from tools import plan as offline

KEYS = {"DD_API_KEY": "api-key", "DD_APP_KEY": "app-key"}


@pytest.fixture
def standin(tmp_path):
    handle = start_server(0, tmp_path / "standin")
    yield handle
    handle.stop()


def post(handle, path: str, body: dict) -> dict:
    request = urllib.request.Request(handle.url + path, data=json.dumps(body).encode(), method="POST", headers={
        "DD-API-KEY": "k", "DD-APPLICATION-KEY": "a", "Content-Type": "application/json"})
    with urllib.request.urlopen(request) as answer:
        return json.load(answer)


def seed_monitor() -> dict:
    body = copy.deepcopy(SEED_OBJECTS["monitor"])
    # The seed sent "renotify_interval": "0"; Datadog's client model (and so the stand-in)
    # wants an integer: the one change to the seed's body.
    body["options"]["renotify_interval"] = 0
    return body


def downtime(monitor_id: int, recurrences: list[dict], timezone: str = "America/New_York") -> dict:
    return {"data": {"type": "downtime", "attributes": {
        "scope": f"host:{SEED_HOST}", "message": "Off hours (made in the UI)",
        "monitor_identifier": {"monitor_id": monitor_id},
        "schedule": {"timezone": timezone, "recurrences": recurrences}}}}


def run(tmp_path, handle, capsys, env=KEYS):
    config = seed_stack_config(tmp_path, handle.url if handle else "http://127.0.0.1:9")
    out = tmp_path / "adopt.json"
    with pytest.MonkeyPatch.context() as patch:
        for name in ("DD_API_KEY", "DD_APP_KEY", "DATADOG_API_KEY", "DATADOG_APP_KEY"):
            patch.delenv(name, raising=False)
        for name, value in (env or {}).items():
            patch.setenv(name, value)
        code = adopt.main(["--config-file", str(config), "--output", str(out)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err, out


def test_the_seeds_monitor_and_dashboard_are_written_to_the_import_file(tmp_path, standin, capsys):
    monitor = post(standin, "/api/v1/monitor", seed_monitor())
    board = post(standin, "/api/v1/dashboard", SEED_OBJECTS["dashboard"])
    code, out, _, path = run(tmp_path, standin, capsys)
    assert code == 0
    imported = {e["name"]: e.get("id") for e in json.loads(path.read_text())["resources"]}
    assert imported == {"my-metric-high-component": None, "my-metric-high-monitor": str(monitor["id"]),
                        "timeboard-component": None, "timeboard-dashboard": board["id"]}
    assert f"{monitor['id']} 'Host {{{{host.name}}}} is running high': query watches my_metric" in out
    assert "unmatched  apm-dashboard" in out


def planned_schedule(tmp_path, prefix: str) -> tuple[str, dict]:
    """(name, inputs) of one of the seed stack's downtime schedules in the offline plan."""
    plan = offline.run(offline.StackConfig.from_file(seed_stack_config(tmp_path)), "seed")
    found = next(r for r in plan.resources if r["name"].startswith(prefix))
    return found["name"], found["inputs"]


def test_a_downtime_equal_to_a_stack_schedule_is_adopted(tmp_path, standin, capsys):
    name, inputs = planned_schedule(tmp_path, "off-hours-weekends-")
    planned = inputs["recurringSchedule"]
    made = post(standin, "/api/v2/downtime", {"data": {"type": "downtime", "attributes": {
        "scope": inputs["scope"], "message": inputs["message"], "display_timezone": inputs["displayTimezone"],
        "monitor_identifier": {"monitor_tags": inputs["monitorIdentifier"]["monitorTags"]},
        "schedule": {"timezone": planned["timezone"], "recurrences": planned["recurrences"]}}}})
    code, out, _, path = run(tmp_path, standin, capsys)
    assert code == 0
    entries = {e["name"]: e for e in json.loads(path.read_text())["resources"]}
    assert entries[name]["id"] == made["data"]["id"]
    assert entries[name]["parent"] == "off-hours-component"
    assert entries["off-hours-component"]["type"] == "datadog-stack:index:OffHoursDowntimes"


def test_the_seeds_ui_downtime_is_refused_with_the_reason_and_the_replacement(tmp_path, standin, capsys):
    # ../shared/seeds/004_*.txt: weekdays 7 PM to 9 AM, scoped to the host, made in the UI;
    # with no start Datadog starts it at once, so by now its start is in the past.
    monitor = post(standin, "/api/v1/monitor", seed_monitor())
    made = post(standin, "/api/v2/downtime", downtime(
        monitor["id"], [{"rrule": "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", "duration": "14h"}]))
    code, out, _, path = run(tmp_path, standin, capsys)
    assert code == 0
    line = next(x for x in out.splitlines() if made["data"]["id"] in x)
    assert line.startswith("refused")
    assert "its recurrences are none of the stack's schedules" in line and "is in the past" in line
    assert re.search(r"the stack creates off-hours-weekday-nights-\w{8}, off-hours-weekends-\w{8}", line)
    assert not any(e["name"].startswith("off-hours") for e in json.loads(path.read_text())["resources"])


def test_two_copies_of_the_seeds_dashboard_are_ambiguous_and_nothing_is_written(tmp_path, standin, capsys):
    first = post(standin, "/api/v1/dashboard", SEED_OBJECTS["dashboard"])
    second = post(standin, "/api/v1/dashboard", SEED_OBJECTS["dashboard"])
    code, out, err, path = run(tmp_path, standin, capsys)
    assert code == 1
    assert "ambiguous  timeboard" in out and first["id"] in out and second["id"] in out
    assert err.strip().startswith("error: ambiguous match") and len(err.strip().splitlines()) == 1
    assert not path.exists()


def test_nothing_to_adopt_writes_nothing(tmp_path, standin, capsys):
    code, out, _, path = run(tmp_path, standin, capsys)
    assert code == 0 and "nothing to adopt" in out
    assert not path.exists()


def test_no_keys_is_one_line_and_nothing_written(tmp_path, standin, capsys):
    code, out, err, path = run(tmp_path, standin, capsys, env={})
    assert code == 2 and out == ""
    assert err == ("error: no Datadog keys in the environment: set DD_API_KEY and DD_APP_KEY "
                   "or DATADOG_API_KEY and DATADOG_APP_KEY\n")
    assert not path.exists()


def test_the_datadog_key_names_work_too(tmp_path, standin, capsys):
    code, *_ = run(tmp_path, standin, capsys, env={"DATADOG_API_KEY": "k", "DATADOG_APP_KEY": "a"})
    assert code == 0


def test_an_unreachable_api_is_one_line_and_nothing_written(tmp_path, capsys):
    code, out, err, path = run(tmp_path, None, capsys)
    assert code == 2 and out == ""
    assert err.startswith("error: cannot reach the Datadog API at http://127.0.0.1:9")
    assert len(err.splitlines()) == 1
    assert not path.exists()


def test_refused_keys_are_one_line(tmp_path, capsys):
    handle = start_server(0, tmp_path / "strict", api_key="right", app_key="right")
    try:
        code, _, err, path = run(tmp_path, handle, capsys)
    finally:
        handle.stop()
    assert code == 2
    assert err == f"error: the Datadog API at {handle.url} answered 403 Forbidden\n"
    assert not path.exists()
