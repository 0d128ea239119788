"""Downtime schedules in the Datadog API stand-in, as Datadog records them.

Evidence: TestAccDowntimeScheduleChanged.yaml (a PATCH with ``"start": null`` is answered
with start = the request time, ``status: active`` and ``current_downtime`` from that moment),
RFC 5545 3.8.5.3 (DTSTART counts as the first occurrence) and Datadog's downtime guide (the
start must match the rule's first occurrence).
"""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from tests.unit.test_datadog_standin import Client, api, deep, server  # noqa: F401 (fixtures)

pytestmark = pytest.mark.unit

UTC = dt.timezone.utc
# Monday 2027-03-01 14:00 UTC = 15:00 in Paris
MONDAY_1400Z = dt.datetime(2027, 3, 1, 14, 0, 0, tzinfo=UTC)

# weeknights 18:00 -> 09:00 in Paris, the shape of the stack's off-hours schedule
EVENINGS = {"duration": "15h", "rrule": "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;BYHOUR=18;BYMINUTE=0"}


def schedule_body(recurrences, timezone="Europe/Paris"):
    return {"data": {"type": "downtime", "attributes": {
        "scope": "host:(a OR b)", "monitor_identifier": {"monitor_tags": ["service:x"]},
        "schedule": {"recurrences": recurrences, "timezone": timezone}}}}


@pytest.fixture
def frozen(server):
    server.set_clock(MONDAY_1400Z)
    return server


def create(api, recurrences, timezone="Europe/Paris"):
    status, body, _ = api.call("POST", "/api/v2/downtime", schedule_body(recurrences, timezone))
    assert status == 200, body
    return body["data"]


def patch(api, did, recurrences, timezone="Europe/Paris"):
    body = schedule_body(recurrences, timezone)
    body["data"]["id"] = ""
    return api.call("PATCH", f"/api/v2/downtime/{did}", body)


def test_clock_frozen_at_an_instant_stays_there(frozen):
    assert frozen.app.now() == MONDAY_1400Z
    assert frozen.app.now() == MONDAY_1400Z


def test_clock_instant_settable_through_admin_api(server):
    admin = Client(server.url)
    status, body, _ = admin.call("POST", "/_standin/clock", {"now": "2027-03-01T14:00:00Z"}, keys=False)
    assert status == 200 and body["frozen"] is True
    assert server.app.now() == MONDAY_1400Z


def test_clock_offset_unfreezes(frozen):
    frozen.set_clock_offset(0)
    assert abs((frozen.app.now() - dt.datetime.now(UTC)).total_seconds()) < 60


def test_naive_clock_instant_refused(server):
    with pytest.raises(ValueError):
        server.set_clock(dt.datetime(2027, 3, 1, 14, 0))


def test_absent_start_is_creation_time_in_schedule_timezone(frozen, api):
    data = create(api, [dict(EVENINGS)])
    assert data["attributes"]["schedule"]["recurrences"][0]["start"] == "2027-03-01T15:00:00"


def test_absent_start_mutes_from_creation_for_one_duration(frozen, api):
    """The start counts as an occurrence even off the rule: muted 15:00 -> 06:00 (15h)."""
    a = create(api, [dict(EVENINGS)])["attributes"]
    assert a["status"] == "active"
    assert a["schedule"]["current_downtime"] == {"start": "2027-03-01T14:00:00+00:00",
                                                 "end": "2027-03-02T05:00:00+00:00"}


def test_null_start_on_update_is_update_time(frozen, api):
    did = create(api, [dict(EVENINGS, start="2027-03-01T18:00:00")])["id"]
    frozen.set_clock(MONDAY_1400Z + dt.timedelta(days=2, minutes=7, seconds=30, microseconds=5))
    status, body, _ = patch(api, did, [dict(EVENINGS, start=None)])
    assert status == 200, body
    a = body["data"]["attributes"]
    assert a["schedule"]["recurrences"][0]["start"] == "2027-03-03T15:07:30"
    assert a["status"] == "active"
    assert a["schedule"]["current_downtime"]["start"] == "2027-03-03T14:07:30+00:00"


def test_start_on_the_rule_waits_for_it(frozen, api):
    a = create(api, [dict(EVENINGS, start="2027-03-01T18:00:00")])["attributes"]
    assert a["status"] == "scheduled"
    assert a["schedule"]["current_downtime"] == {"start": "2027-03-01T17:00:00+00:00",
                                                 "end": "2027-03-02T08:00:00+00:00"}


def test_start_off_the_rule_is_its_first_occurrence(frozen, api):
    """Wednesday 12:00 is not a weekday 18:00, yet it is the schedule's first window."""
    a = create(api, [dict(EVENINGS, start="2027-03-03T12:00:00")])["attributes"]
    assert a["schedule"]["current_downtime"] == {"start": "2027-03-03T11:00:00+00:00",
                                                 "end": "2027-03-04T02:00:00+00:00"}


def test_rule_occurrences_follow_the_start(frozen, api):
    """Created Monday 15:00 Paris: the rule's Monday 18:00 window follows, then Tuesday's."""
    did = create(api, [dict(EVENINGS)])["id"]
    frozen.set_clock(dt.datetime(2027, 3, 2, 6, 0, tzinfo=UTC))  # Tuesday 07:00 Paris
    a = api.call("GET", f"/api/v2/downtime/{did}")[1]["data"]["attributes"]
    assert (a["status"], a["schedule"]["current_downtime"]) == (
        "active", {"start": "2027-03-01T17:00:00+00:00", "end": "2027-03-02T08:00:00+00:00"})
    frozen.set_clock(dt.datetime(2027, 3, 2, 9, 0, tzinfo=UTC))  # Tuesday 10:00 Paris
    a = api.call("GET", f"/api/v2/downtime/{did}")[1]["data"]["attributes"]
    assert (a["status"], a["schedule"]["current_downtime"]["start"]) == ("scheduled", "2027-03-02T17:00:00+00:00")


def test_start_counts_toward_count(frozen, api):
    """COUNT=2 with an off-rule start: the start and one rule occurrence, then the schedule ends."""
    rec = {"duration": "1h", "rrule": "FREQ=DAILY;BYHOUR=18;BYMINUTE=0;COUNT=2", "start": "2027-03-01T16:00:00"}
    did = create(api, [rec])["id"]
    frozen.set_clock(dt.datetime(2027, 3, 1, 17, 30, tzinfo=UTC))  # 18:30 Paris: the rule's first
    assert api.call("GET", f"/api/v2/downtime/{did}")[1]["data"]["attributes"]["status"] == "active"
    frozen.set_clock(dt.datetime(2027, 3, 2, 17, 30, tzinfo=UTC))
    assert api.call("GET", f"/api/v2/downtime/{did}")[1]["data"]["attributes"]["status"] == "ended"


def test_past_start_rejected_at_the_frozen_instant(frozen, api):
    status, body, _ = api.call("POST", "/api/v2/downtime",
                               schedule_body([dict(EVENINGS, start="2027-03-01T14:59:59")]))
    assert (status, body) == (400, {"errors": ["Scheduled downtime start cannot be in the past"]})


def test_start_equal_to_now_accepted(frozen, api):
    assert create(api, [dict(EVENINGS, start="2027-03-01T15:00:00")])["attributes"]["status"] == "active"


def test_past_start_rejected_on_update_months_later(frozen, api):
    did = create(api, [dict(EVENINGS, start="2027-03-01T18:00:00")])["id"]
    frozen.set_clock(MONDAY_1400Z + dt.timedelta(days=396))
    status, body, _ = patch(api, did, [dict(EVENINGS, start="2027-03-01T18:00:00")])
    assert (status, body) == (400, {"errors": ["Scheduled downtime start cannot be in the past"]})


@pytest.mark.parametrize("tz", ["Europe/Paris", "America/New_York", "Asia/Kolkata", "Australia/Sydney"])
def test_stored_recurrence_readable_through_get_and_objects(frozen, api, tz):
    rec = dict(EVENINGS)
    did = create(api, [rec], tz)["id"]
    expected_start = MONDAY_1400Z.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%dT%H:%M:%S")
    stored = {**rec, "start": expected_start}
    got = api.call("GET", f"/api/v2/downtime/{did}")[1]["data"]["attributes"]["schedule"]
    assert (got["recurrences"], got["timezone"]) == ([stored], tz)
    kept = frozen.objects()["downtimes"][did]["attributes"]["schedule"]
    assert kept == {"recurrences": [stored], "timezone": tz}


def test_empty_display_timezone_answered_as_utc(frozen, api):
    """TestAccDowntimeScheduleBasicOneTimeWithMonitorID: "display_timezone": "" -> "UTC"."""
    body = schedule_body([dict(EVENINGS)])
    body["data"]["attributes"]["display_timezone"] = ""
    status, resp, _ = api.call("POST", "/api/v2/downtime", deep(body))
    assert status == 200 and resp["data"]["attributes"]["display_timezone"] == "UTC"
