"""The off-hours schedules, created in the Datadog API stand-in at many moments of a week.

The stand-in answers as Datadog's recordings do (tests/standins/README.md): it stores each
recurrence's start, treats it as the first occurrence, and rejects a past start. What it
stores is expanded under both readings of a start and both readings of a duration
(tests/downtime_reading.py) and compared with office hours over 3 weeks.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from rules.downtimes import first_start, off_hours_schedules, off_hours_tag, schedule_inputs
from tests.downtime_moments import NINE_TO_SEVEN, change_moments
from tests.downtime_reading import READINGS, SEMANTICS, wrong_minutes
from tests.unit.test_datadog_standin import Client, api, server  # noqa: F401 (fixtures)

UTC = timezone.utc
# The dev stack's zone; DST at 02:00, at 03:00 in the south, by 30 minutes, at midnight; none.
ZONES = ["America/New_York", "Europe/Paris", "Australia/Sydney", "Australia/Lord_Howe",
         "Africa/Cairo", "Asia/Kolkata"]
HOSTS = ("vm1", "vm2")


def body(schedule, zone: str, now: datetime) -> dict:
    """The create request the provider sends for one schedule the program declares."""
    inputs = schedule_inputs(schedule, zone, HOSTS, "@ops@example.com", off_hours_tag("datadog-stack", "dev"))
    recurrences = [{**recurrence, "start": first_start(r, zone, now)}
                   for recurrence, r in zip(inputs.pop("recurrences"), schedule.recurrences)]
    schedule_ = {"timezone": inputs.pop("timezone"), "recurrences": recurrences}
    monitor = {"monitor_tags": inputs.pop("monitor_tags")}
    return {"data": {"type": "downtime", "attributes": {
        **inputs, "monitor_identifier": monitor, "schedule": schedule_}}}


def create_all(server, api, zone: str, now: datetime) -> list[dict]:
    """Create both schedules at `now` in an emptied stand-in; return what it stored."""
    Client(server.url).call("POST", "/_standin/reset", {}, keys=False)
    server.set_clock(now)
    stored = []
    for schedule in off_hours_schedules(NINE_TO_SEVEN):
        status, answer, _ = api.call("POST", "/api/v2/downtime", body(schedule, zone, now))
        assert status == 200, f"created at {now:%Y-%m-%d %H:%M} UTC in {zone}: {answer}"
        stored += answer["data"]["attributes"]["schedule"]["recurrences"]
    return stored


@pytest.mark.parametrize("zone", ZONES)
def test_schedules_created_at_any_moment_mute_exactly_the_nights_after(server, api, zone):
    problems = []
    moments = change_moments(zone)
    for now in moments:
        stored = create_all(server, api, zone, now)
        for reading in READINGS:
            for semantics in SEMANTICS:
                wrong = wrong_minutes(stored, NINE_TO_SEVEN, zone, now, 3, reading, semantics)
                problems += [f"{now:%a %m-%d %H:%M} {reading}/{semantics}: {kind}"
                             for kind in wrong if wrong[kind]]
    assert len(moments) >= 140 and problems == [], \
        f"in {zone}, {len(problems)} of {len(moments) * 4} cases wrong: {problems[:3]}"


def test_no_schedule_is_muting_right_after_creation_in_office_hours(server, api):
    monday_10am_new_york = datetime(2027, 1, 4, 15, tzinfo=UTC)
    server.set_clock(monday_10am_new_york)
    for schedule in off_hours_schedules(NINE_TO_SEVEN):
        status, answer, _ = api.call("POST", "/api/v2/downtime",
                                     body(schedule, "America/New_York", monday_10am_new_york))
        assert status == 200 and answer["data"]["attributes"]["status"] == "scheduled", (
            "a schedule created in office hours must not be active: it would mute the "
            f"monitor now ({answer['data']['attributes'].get('schedule', {}).get('current_downtime')})")


def test_thirteen_months_later_a_new_schedule_is_accepted_and_an_update_would_not_be(server, api):
    created = datetime(2027, 1, 4, 15, tzinfo=UTC)
    later = created + timedelta(days=395)
    nights, _ = off_hours_schedules(NINE_TO_SEVEN)
    server.set_clock(created)
    status, first, _ = api.call("POST", "/api/v2/downtime", body(nights, "UTC", created))
    assert status == 200
    server.set_clock(later)
    stale = body(nights, "UTC", created)
    stale["data"]["id"] = first["data"]["id"]
    status, _, _ = api.call("PATCH", f"/api/v2/downtime/{first['data']['id']}", stale)
    assert status == 400, "an update sends the creation-time starts, past by now: rejected"
    status, _, _ = api.call("POST", "/api/v2/downtime", body(nights, "UTC", later))
    assert status == 200, "a changed schedule is a new one, with starts after the new clock"
