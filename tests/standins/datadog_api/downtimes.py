"""Downtime schedules (v2, ``/api/v2/downtime``): create, read, list, update and cancel, with
status and ``current_downtime`` from the stand-in's clock, answered as the
TestAccDowntimeSchedule*.yaml cassettes record them (see each rule below). The legacy v1
downtimes are in v1_downtimes.py."""
from __future__ import annotations

import json
import uuid

from . import validation as v
from .org import USER, USER_UUID
from .routing import create, existing, int_param, route, update
from .validation import ApiError

DT_DEFAULTS = {"display_timezone": "UTC", "message": None, "mute_first_recovery_notification": False,
               "notify_end_states": ["alert", "no data", "warn"], "notify_end_types": ["expired"]}


def _normalize_schedule(app, schedule: dict | None, old_schedule: dict | None) -> dict:
    now = app.now()
    if schedule is None:
        if old_schedule is not None:
            return {k: val for k, val in old_schedule.items() if k != "current_downtime"}
        schedule = {}
    if "recurrences" in schedule:
        tzname = schedule.get("timezone") or "UTC"
        tz = v.zone(tzname)
        recs = schedule.get("recurrences") or []
        if not recs:
            raise ApiError(400, "At least one recurrence is required")
        now_local = now.astimezone(tz).replace(tzinfo=None, microsecond=0)
        out = []
        for i, r in enumerate(recs):
            dur = r.get("duration")
            v.parse_duration(dur)
            v.check_rrule(r.get("rrule"))
            start = r.get("start")
            if start in (None, ""):
                local = now_local  # no start: "now" in the schedule's timezone
            else:
                local = v.parse_recurrence_start(start, tz)
                if local < now_local:
                    raise ApiError(400, "Scheduled downtime start cannot be in the past")
            out.append({"duration": dur, "rrule": r["rrule"], "start": local.strftime(v.START_FMT)})
        return {"recurrences": out, "timezone": tzname}
    # one-time schedule
    start = schedule.get("start")
    end = schedule.get("end")
    s = v.parse_utc(start) if start else now.replace(microsecond=now.microsecond)
    e = v.parse_utc(end) if end else None
    if e is not None and e <= s:
        raise ApiError(400, "Downtime end must be after its start")
    if e is not None and e < now:
        raise ApiError(400, "Scheduled downtime end cannot be in the past")
    return {"start": v.iso_utc(s), "end": v.iso_utc(e) if e else None}


def _downtime_status(app, attrs: dict):
    """Fill schedule.current_downtime (recurring) and status from the stand-in clock."""
    now = app.now()
    sched = dict(attrs["schedule"])
    if attrs.get("canceled"):
        status = "canceled"
    elif "recurrences" in sched:
        occ = v.current_occurrence(sched["recurrences"], v.zone(sched.get("timezone")), now)
        if occ is None:
            status = "ended"
        else:
            sched["current_downtime"] = {"start": occ[0].isoformat(), "end": occ[1].isoformat()}
            status = "active" if occ[0] <= now < occ[1] else "scheduled"
    else:
        s = v.parse_utc(sched["start"])
        e = v.parse_utc(sched["end"]) if sched.get("end") else None
        status = "scheduled" if now < s else ("ended" if e is not None and now >= e else "active")
    return sched, status





def _downtime_data(app, d: dict, with_relationships: bool) -> dict:
    attrs = dict(d["attributes"])
    attrs["schedule"], attrs["status"] = _downtime_status(app, attrs)
    data = {"type": "downtime", "id": d["id"], "attributes": attrs}
    if with_relationships:
        mid = _monitor_id(d)
        data["relationships"] = {
            "created_by": {"data": {"type": "users", "id": USER_UUID}},
            "monitor": {"data": {"type": "monitor", "id": str(mid)} if mid is not None else None},
        }
    return data


def _monitor_id(d: dict):
    return (d["attributes"].get("monitor_identifier") or {}).get("monitor_id")


def _included(app, d: dict, paths=("created_by", "monitor")) -> list:
    """The creator, and the monitor of a downtime on one monitor
    (TestAccDowntimeScheduleBasicOneTimeWithMonitorID.yaml)."""
    out = [json.loads(json.dumps(USER))] if "created_by" in paths else []
    mid = _monitor_id(d)
    monitor = app.store.get("monitors", str(mid)) if mid is not None and "monitor" in paths else None
    if monitor is not None:
        out.append({"type": "monitor", "attributes": {"name": monitor["name"]}, "id": mid})
    return out


def downtime_view(app, d: dict, with_relationships: bool) -> dict:
    body = {"data": _downtime_data(app, d, with_relationships)}
    if with_relationships:
        body["included"] = _included(app, d)
    return body


def downtime_list(app, query: dict) -> dict:
    """GET /api/v2/downtime (https://docs.datadoghq.com/api/latest/downtimes/#get-all-downtimes; not
    recorded): ``current_only``, ``include`` (created_by, monitor), ``page[offset]``, ``page[limit]``
    (default 30, the API spec's)."""
    items = sorted(app.store.all()["downtimes"].values(), key=lambda d: d["attributes"]["created"])
    data = [(d, _downtime_data(app, d, True)) for d in items]
    if query.get("current_only") == ["true"]:
        data = [(d, x) for d, x in data if x["attributes"]["status"] == "active"]
    total = len(data)
    offset = int((query.get("page[offset]") or ["0"])[0])
    data = data[offset:offset + int((query.get("page[limit]") or ["30"])[0])]
    paths = [p for p in (query.get("include") or [""])[0].split(",") if p]
    included = []
    for d, _ in data:
        included += [x for x in _included(app, d, paths) if x not in included]
    body = {"data": [x for _, x in data], "meta": {"page": {"total_filtered_count": total}}}
    if included:
        body["included"] = included
    return body


def build_downtime(app, attrs_in: dict, old: dict | None) -> dict:
    now = app.now()
    old_attrs = (old or {}).get("attributes", {})
    if old is not None and old_attrs.get("canceled"):
        raise ApiError(400, "Cannot update a canceled downtime")
    attrs = {}
    for k, dv in DT_DEFAULTS.items():
        if k in attrs_in:
            val = attrs_in[k]
            # null (and "" for the timezone) keep the default: TestAccDowntimeScheduleBasicOneTimeWithMonitorID
            # sends "display_timezone": "" and is answered "UTC"
            if val in (None, "") and k in ("display_timezone", "mute_first_recovery_notification"):
                val = old_attrs.get(k, dv) if old else dv
            attrs[k] = val
        else:
            attrs[k] = old_attrs.get(k, dv) if old else json.loads(json.dumps(dv))
    if attrs["display_timezone"]:
        v.zone(attrs["display_timezone"])
    attrs["scope"] = attrs_in.get("scope", old_attrs.get("scope"))
    if not attrs["scope"]:
        raise ApiError(400, "scope is required")
    mi = attrs_in.get("monitor_identifier", old_attrs.get("monitor_identifier"))
    if not mi or ("monitor_id" not in mi and "monitor_tags" not in mi):
        raise ApiError(400, "monitor_identifier must have monitor_id or monitor_tags")
    if "monitor_id" in mi and app.store.get("monitors", str(mi["monitor_id"])) is None:
        raise ApiError(400, f"Monitor {mi['monitor_id']} not found")
    attrs["monitor_identifier"] = mi
    attrs["schedule"] = _normalize_schedule(app, attrs_in.get("schedule"), old_attrs.get("schedule"))
    attrs["canceled"] = None
    attrs["created"] = old_attrs.get("created") or v.stamp(now)
    attrs["modified"] = v.stamp(now)
    return {"id": (old or {}).get("id") or str(uuid.uuid4()), "type": "downtime", "attributes": attrs}


def _build_downtime_from_body(app, body: dict, old: dict | None) -> dict:
    return build_downtime(app, body["data"].get("attributes") or {}, old)


@route("POST", r"/api/v2/downtime")
def h_downtime_create(app, req, m):
    d = create(app, req, "downtimes", "downtime_create", _build_downtime_from_body)
    return 200, downtime_view(app, d, with_relationships=True)


@route("GET", r"/api/v2/downtime")
def h_downtime_list(app, req, m):
    for name in ("page[offset]", "page[limit]"):
        int_param(req, name, 0)
    return 200, downtime_list(app, req.query)


@route("GET", r"/api/v2/downtime/([0-9a-f-]{36})")
def h_downtime_get(app, req, m):
    d = existing(app, "downtimes", m.group(1))
    return 200, downtime_view(app, d, with_relationships=False)


@route("PATCH", r"/api/v2/downtime/([0-9a-f-]{36})")
def h_downtime_update(app, req, m):
    d = update(app, req, "downtimes", m.group(1), "downtime_update", _build_downtime_from_body)
    return 200, downtime_view(app, d, with_relationships=True)


@route("DELETE", r"/api/v2/downtime/([0-9a-f-]{36})")
def h_downtime_cancel(app, req, m):
    with app.store.lock:
        d = existing(app, "downtimes", m.group(1))
        if not d["attributes"].get("canceled"):
            d["attributes"]["canceled"] = v.stamp(app.now())
            d["attributes"]["modified"] = d["attributes"]["canceled"]
            app.store.put("downtimes", d["id"], d)
    return 204, None


@route("GET", r"/api/v2/downtime/([^/]+)")
def h_downtime_get_bad(app, req, m):
    raise ApiError(404, "Downtime not found")
