"""HTTP server for the Datadog API stand-in (see ../README.md)."""
from __future__ import annotations

import datetime as dt
import json
import random
import re
import string
import threading
import time
import uuid
import zlib
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from . import validation as v
from . import snapshots  # noqa: F401 (registers its routes)
from .v1_downtimes import silenced as _silenced
from .routing import ROUTES, create, existing, route, update
from .store import Store
from .validation import ApiError

CREATOR = {"name": "Stand-in User", "handle": "standin@example.com", "email": "standin@example.com", "id": 1445416}
USER_UUID = "3ad549bf-eba0-11e9-a77a-0705486660d0"
ORG_ID = 321813
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
API_KEY_ONLY = ("/api/v1/validate", "/api/v1/events")


# =========================================================================== app state

class App:
    """Everything behind the HTTP layer: store, clock, faults, request log."""

    def __init__(self, state_dir, clock_offset_days=None, api_key=None, app_key=None):
        self.state_dir = Path(state_dir)
        self.store = Store(self.state_dir)
        if clock_offset_days is not None:
            self.store.set_setting("clock_offset_days", float(clock_offset_days))
        self.api_key, self.app_key = api_key, app_key
        self.faults: list[dict] = []
        self.lock = threading.RLock()
        self.log_path = self.state_dir / "requests.jsonl"
        self.entries: list[dict] = []
        self.counters: Counter = Counter()

    # -- clock
    @property
    def clock_offset_days(self) -> float:
        return float(self.store.get_setting("clock_offset_days", 0.0))

    def set_clock_offset(self, days: float) -> None:
        """Real time shifted by ``days`` (and no longer frozen)."""
        self.store.set_setting("clock_now", None)
        self.store.set_setting("clock_offset_days", float(days))

    def set_clock(self, instant: dt.datetime | None) -> None:
        """Freeze the clock at an aware ``instant`` (as the provider's tests freeze theirs at the
        cassette's ``.freeze`` time); ``None`` goes back to real time plus the offset."""
        if instant is not None and instant.utcoffset() is None:
            raise ValueError("the stand-in clock needs an aware datetime (with a timezone)")
        self.store.set_setting("clock_now", instant.isoformat() if instant else None)

    def now(self) -> dt.datetime:
        frozen = self.store.get_setting("clock_now")
        if frozen:
            return dt.datetime.fromisoformat(frozen).astimezone(dt.timezone.utc)
        return dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=self.clock_offset_days)

    # -- request log
    def record(self, entry: dict) -> None:
        with self.lock:
            self.entries.append(entry)
            self.counters[entry["method"]] += 1
            self.counters[f"status:{entry['status']}"] += 1
            if entry["method"] in WRITE_METHODS and entry["path"].startswith("/api/"):
                self.counters["writes"] += 1
                if entry["status"] < 400:
                    self.counters["writes_ok"] += 1
            if entry.get("fault"):
                self.counters["faults_injected"] += 1
            with open(self.log_path, "a", encoding="utf-8") as f:
                f.write(json.dumps(entry, sort_keys=True) + "\n")

    def stats(self) -> dict:
        with self.lock:
            return dict(self.counters)

    # -- faults
    def add_fault(self, spec: dict) -> dict:
        status = int(spec.get("status", 503))
        if status not in (429, 500, 502, 503, 504):
            raise ApiError(400, "fault status must be one of 429, 500, 502, 503, 504")
        fault = {"status": status, "count": int(spec.get("count", 1)),
                 "retry_after": int(spec.get("retry_after", 1)),
                 "path_prefix": str(spec.get("path_prefix", "/api/")),
                 "method": (spec.get("method") or "").upper() or None}
        with self.lock:
            self.faults.append(fault)
        return fault

    def take_fault(self, method: str, path: str):
        with self.lock:
            for f in self.faults:
                if f["count"] > 0 and path.startswith(f["path_prefix"]) and (f["method"] in (None, method)):
                    f["count"] -= 1
                    if f["count"] == 0:
                        self.faults.remove(f)
                    return dict(f)
        return None


# =========================================================================== helpers

def _ts(d: dt.datetime) -> str:
    return d.astimezone(dt.timezone.utc).isoformat(timespec="microseconds")


def _slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


def _dashboard_id(taken) -> str:
    alphabet = string.ascii_lowercase + string.digits
    while True:
        i = "-".join("".join(random.choice(alphabet) for _ in range(3)) for _ in range(3))
        if i not in taken:
            return i


# =========================================================================== monitors

MONITOR_OPTION_DEFAULTS = {"notify_audit": False, "include_tags": True, "notify_no_data": False,
                           "silenced": {}}
# Options Datadog fills in by monitor type, as recorded: log and RUM alerts get
# groupby_simple_monitor (TestAccDatadogMonitor_LogMultiAlert.yaml, ..._RumAlert*), data-quality
# alerts avalanche_window (TestAccDatadogMonitor_DataQuality_*.yaml)
TYPE_OPTION_DEFAULTS = {"log alert": {"groupby_simple_monitor": False},
                        "rum alert": {"groupby_simple_monitor": False},
                        "data-quality alert": {"avalanche_window": 10}}
# ... and top-level fields (TestAccDatadogMonitor_DataQuality_*.yaml: run_as null, restricted false)
TYPE_FIELD_DEFAULTS = {"data-quality alert": {"run_as": None, "restricted": False}}
# an asset as Datadog answers it (TestAccDatadogMonitor_Assets.yaml)
ASSET_DEFAULTS = {"template_variables": {}, "options": {}, "resource_key": None, "resource_type": None}


def monitor_view(app: App, m: dict, kind: str, query: dict | None = None) -> dict:
    """A stored monitor as Datadog answers it for ``kind``: "create", "update", "get" or "list".

    restriction_policy comes only with the answers to POST and PUT; GET answers ``assets: []``
    unless asked ``with_assets=true``; POST/PUT answer each asset with its ``monitor_id``
    (TestAccDatadogMonitor_Assets.yaml); list items carry ``matching_downtimes``
    (TestAccDatadogMonitorDatasource.yaml).
    """
    out = dict(m)
    out["options"] = dict(out["options"], silenced=_silenced(app, m))
    if kind in ("create", "update"):
        out["restriction_policy"] = None  # as recorded in every POST/PUT answer
        out["assets"] = [{"monitor_id": m["id"], **a} for a in m.get("assets", [])]
        return out
    out.pop("restriction_policy", None)
    if kind == "get" and (query or {}).get("with_assets") != ["true"]:
        out["assets"] = []
    if kind == "list":
        out["matching_downtimes"] = []
    return out


def _assets(body: dict, old: dict | None) -> list:
    assets = body["assets"] if "assets" in body else (old or {}).get("assets")
    return [{**ASSET_DEFAULTS, **a} for a in assets or []]


def build_monitor(app: App, body: dict, old: dict | None) -> dict:
    now = app.now()
    opts = dict(body.get("options") or (old or {}).get("options") or {})
    mtype = body.get("type", (old or {}).get("type"))
    for k, dv in {**MONITOR_OPTION_DEFAULTS, **TYPE_OPTION_DEFAULTS.get(mtype, {})}.items():
        opts.setdefault(k, json.loads(json.dumps(dv)))
    thresholds = dict(opts.get("thresholds") or {})
    query = body.get("query", (old or {}).get("query"))
    if mtype in v.THRESHOLD_TYPES and isinstance(query, str):
        qt = v.query_threshold(query)
        if qt and "critical" not in thresholds:
            thresholds["critical"] = qt[1]
    # Datadog answers thresholds as floats (2 -> 2.0)
    opts["thresholds"] = {k: (float(x) if isinstance(x, (int, float)) and not isinstance(x, bool) else x)
                          for k, x in thresholds.items()}
    if old is None:
        mid = app.store.next_id("next_monitor_id")
        base = {"id": mid, "org_id": ORG_ID, "created_at": int(now.timestamp() * 1000), "created": _ts(now),
                "deleted": None, "overall_state_modified": None, "overall_state": "No Data",
                "creator": dict(CREATOR)}
    else:
        base = {k: old[k] for k in ("id", "org_id", "created_at", "created", "deleted", "overall_state_modified",
                                    "overall_state", "creator") if k in old}
    m = dict(base)
    m.update({
        "type": mtype,
        "name": body.get("name", (old or {}).get("name")),
        "message": body.get("message", (old or {}).get("message", "")),
        "tags": sorted(body.get("tags", (old or {}).get("tags")) or []),
        "query": query,
        "options": opts,
        # grouped: "by {host}", or .by(...) in log, service check and formula queries
        # (TestAccDatadogMonitor_LogMultiAlert.yaml, ..._ServiceCheck*.yaml, ..._DataJobs*.yaml)
        "multi": bool(re.search(r"\bby\s*\{|\.by\(", query or "")),
        "modified": _ts(now),
        "priority": body.get("priority", (old or {}).get("priority")),
        "restricted_roles": body.get("restricted_roles", (old or {}).get("restricted_roles")),
        # absent draft_status is "published" (TestAccDatadogMonitor_ServiceCheck*.yaml sends none)
        "draft_status": body.get("draft_status") or (old or {}).get("draft_status") or "published",
        "assets": _assets(body, old),
        **TYPE_FIELD_DEFAULTS.get(mtype, {}),
    })
    if m["priority"] == 0:  # the provider sends 0 for "unset"; Datadog answers null
        m["priority"] = None
    return m


# =========================================================================== dashboards

def _assign_widget_ids(app: App, widgets: list) -> list:
    out = []
    for w in widgets or []:
        w = dict(w)
        if not w.get("id"):
            w["id"] = app.store.next_id("next_widget_id")
        d = w.get("definition")
        if isinstance(d, dict) and isinstance(d.get("widgets"), list):
            d = dict(d)
            d["widgets"] = _assign_widget_ids(app, d["widgets"])
            w["definition"] = d
        out.append(w)
    return out


def _tabs(tabs: list, widgets: list) -> list:
    def widget_id(ref):
        if isinstance(ref, str) and re.fullmatch(r"@\d+", ref):
            n = int(ref[1:])
            if not 1 <= n <= len(widgets):
                raise ApiError(400, f"Tab widget reference {ref} does not name a widget")
            return widgets[n - 1]["id"]
        return ref
    return [{**t, "widget_ids": [widget_id(r) for r in t.get("widget_ids") or []]} for t in tabs]


def dashboard_summary(d: dict) -> dict:
    """An item of GET /api/v1/dashboard (TestAccDatadogDashboardDatasource.yaml)."""
    keys = ("id", "title", "description", "layout_type", "url", "is_read_only", "created_at", "modified_at",
            "author_handle")
    return {**{k: d.get(k) for k in keys}, "deleted_at": None}


def build_dashboard(app: App, body: dict, old: dict | None) -> dict:
    now = app.now()
    if old is None:
        did = _dashboard_id(app.store.all()["dashboards"])
        base = {"id": did, "author_handle": CREATOR["handle"], "author_name": CREATOR["name"],
                "created_at": _ts(now)}
    else:
        base = {k: old[k] for k in ("id", "author_handle", "author_name", "created_at")}
    d = dict(base)
    d.update({
        "title": body["title"],
        "description": body.get("description"),
        "layout_type": body["layout_type"],
        "url": f"/dashboard/{base['id']}/{_slug(body['title'])}",
        "template_variables": body.get("template_variables") or [],
        "widgets": _assign_widget_ids(app, body.get("widgets") or []),
        "notify_list": body.get("notify_list") or [],
        "modified_at": _ts(now),
        "template_variable_presets": body.get("template_variable_presets") or [],
        "tags": body.get("tags") or [],
    })
    # is_read_only is answered false unless set (TestAccDatadogDashboardDatasource.yaml and most
    # dashboard answers); tabs come back with "@N" replaced by the Nth widget's id
    # (TestAccDatadogDashboardTab.yaml)
    d["is_read_only"] = bool(body.get("is_read_only"))
    for opt in ("reflow_type", "restricted_roles"):
        if body.get(opt) is not None:
            d[opt] = body[opt]
    if body.get("tabs") is not None:
        d["tabs"] = _tabs(body["tabs"], d["widgets"])
    if d["layout_type"] != "ordered" and "reflow_type" in d:
        raise ApiError(400, "reflow_type is only valid for dashboards with layout_type 'ordered'")
    return d


# =========================================================================== downtimes

DT_DEFAULTS = {"display_timezone": "UTC", "message": None, "mute_first_recovery_notification": False,
               "notify_end_states": ["alert", "no data", "warn"], "notify_end_types": ["expired"]}


def _normalize_schedule(app: App, schedule: dict | None, old_schedule: dict | None) -> dict:
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


def _downtime_status(app: App, attrs: dict):
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


USER = {"type": "users", "id": USER_UUID, "attributes": {
    "name": CREATOR["name"], "handle": CREATOR["handle"], "email": CREATOR["email"],
    "created_at": "2019-10-02T08:15:39.795051+00:00", "modified_at": "2019-10-02T08:15:39.795051+00:00",
    "icon": None, "title": None, "verified": True, "service_account": False, "disabled": False,
    "allowed_login_methods": [], "status": "Active", "last_login_time": None}}


def _downtime_data(app: App, d: dict, with_relationships: bool) -> dict:
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


def _included(app: App, d: dict, paths=("created_by", "monitor")) -> list:
    """The creator, and the monitor of a downtime on one monitor
    (TestAccDowntimeScheduleBasicOneTimeWithMonitorID.yaml)."""
    out = [json.loads(json.dumps(USER))] if "created_by" in paths else []
    mid = _monitor_id(d)
    monitor = app.store.get("monitors", str(mid)) if mid is not None and "monitor" in paths else None
    if monitor is not None:
        out.append({"type": "monitor", "attributes": {"name": monitor["name"]}, "id": mid})
    return out


def downtime_view(app: App, d: dict, with_relationships: bool) -> dict:
    body = {"data": _downtime_data(app, d, with_relationships)}
    if with_relationships:
        body["included"] = _included(app, d)
    return body


def downtime_list(app: App, query: dict) -> dict:
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


def build_downtime(app: App, attrs_in: dict, old: dict | None) -> dict:
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
    attrs["created"] = old_attrs.get("created") or _ts(now)
    attrs["modified"] = _ts(now)
    return {"id": (old or {}).get("id") or str(uuid.uuid4()), "type": "downtime", "attributes": attrs}


# =========================================================================== HTTP



def _monitor_body(req):
    """The request's monitor, rejected as Datadog would: by its model, then its thresholds."""
    body = req.json()
    v.parse_model("monitor", body)
    v.check_monitor_thresholds(body)
    return body


@route("GET", r"/api/v1/validate")
def h_validate(app, req, m):
    return 200, {"valid": True}


@route("POST", r"/api/v1/monitor/validate")
def h_monitor_validate(app, req, m):
    body = _monitor_body(req)
    return 200, {}


@route("POST", r"/api/v1/monitor/(\d+)/validate")
def h_monitor_validate_existing(app, req, m):
    existing(app, "monitors", m.group(1))
    body = _monitor_body(req)
    return 200, {}


@route("POST", r"/api/v1/monitor")
def h_monitor_create(app, req, m):
    body = _monitor_body(req)
    with app.store.lock:
        mon = build_monitor(app, body, None)
        app.store.put("monitors", str(mon["id"]), mon)
    return 200, monitor_view(app, mon, "create")


def _scope_tags(query: str) -> set:
    """The tags of a monitor query's scopes: every ``{a,b}`` group (``by {host}`` included)."""
    return {t.strip() for group in re.findall(r"\{([^}]*)\}", query or "") for t in group.split(",")}


def _monitor_matches(mon: dict, q: dict) -> bool:
    """GET /api/v1/monitor's filters (https://docs.datadoghq.com/api/latest/monitors/#get-all-monitor-details):
    ``name`` a substring of the name, ``tags`` all in the query's scope, ``monitor_tags`` all among
    the monitor's tags, ``id_offset`` ids above it (TestAccDatadogMonitorDatasource.yaml records name,
    tags and monitor_tags)."""
    name = (q.get("name") or [""])[0]
    scope = [t for t in (q.get("tags") or [""])[0].split(",") if t]
    mtags = [t for t in (q.get("monitor_tags") or [""])[0].split(",") if t]
    offset = (q.get("id_offset") or [None])[0]
    return (name.lower() in (mon["name"] or "").lower()
            and set(scope) <= _scope_tags(mon["query"])
            and set(mtags) <= set(mon["tags"])
            and (offset is None or mon["id"] > int(offset)))


@route("GET", r"/api/v1/monitor")
def h_monitor_list(app, req, m):
    """Monitors by id, filtered; ``page``/``page_size`` (default 100) page them when ``page`` is given."""
    for k in ("id_offset", "page", "page_size"):
        _int_param(req, k, 0)
    mons = sorted(app.store.all()["monitors"].values(), key=lambda x: x["id"])
    mons = [x for x in mons if _monitor_matches(x, req.query)]
    if "page" in req.query:
        size = _int_param(req, "page_size", 100)
        page = _int_param(req, "page", 0)
        mons = mons[page * size:(page + 1) * size]
    return 200, [monitor_view(app, x, "list") for x in mons]


@route("GET", r"/api/v1/monitor/(\d+)")
def h_monitor_get(app, req, m):
    mon = existing(app, "monitors", m.group(1))
    return 200, monitor_view(app, mon, "get", req.query)


@route("PUT", r"/api/v1/monitor/(\d+)")
def h_monitor_update(app, req, m):
    body = req.json()
    v.parse_model("monitor_update", body)
    with app.store.lock:
        old = existing(app, "monitors", m.group(1))
        if body.get("type") and body["type"] != old["type"] and {body["type"], old["type"]} != v.THRESHOLD_TYPES:
            raise ApiError(400, "The monitor type cannot be changed")
        merged = {**old, **body}
        v.check_monitor_thresholds(merged)
        mon = build_monitor(app, body, old)
        app.store.put("monitors", m.group(1), mon)
    return 200, monitor_view(app, mon, "update")


@route("DELETE", r"/api/v1/monitor/(\d+)")
def h_monitor_delete(app, req, m):
    if not app.store.delete("monitors", m.group(1)):
        raise ApiError(404, "Monitor not found")
    return 200, {"deleted_monitor_id": int(m.group(1))}


@route("POST", r"/api/v1/dashboard")
def h_dashboard_create(app, req, m):
    return 200, create(app, req, "dashboards", "dashboard", build_dashboard)


@route("GET", r"/api/v1/dashboard")
def h_dashboard_list(app, req, m):
    """Summaries of every dashboard, newest first; ``start``/``count`` page them
    (https://docs.datadoghq.com/api/latest/dashboards/#get-all-dashboards)."""
    items = sorted(app.store.all()["dashboards"].values(), key=lambda d: d["created_at"], reverse=True)
    start = _int_param(req, "start", 0)
    count = _int_param(req, "count", len(items))
    return 200, {"dashboards": [dashboard_summary(d) for d in items[start:start + count]]}


def _int_param(req, name: str, default: int) -> int:
    raw = (req.query.get(name) or [None])[0]
    if raw is None:
        return default
    if not raw.isdigit():
        raise ApiError(400, f"Invalid value for {name}: {raw!r} (a non-negative integer)")
    return int(raw)


@route("GET", r"/api/v1/dashboard/([a-z0-9]{3}-[a-z0-9]{3}-[a-z0-9]{3})")
def h_dashboard_get(app, req, m):
    d = existing(app, "dashboards", m.group(1))
    return 200, d


@route("PUT", r"/api/v1/dashboard/([a-z0-9]{3}-[a-z0-9]{3}-[a-z0-9]{3})")
def h_dashboard_update(app, req, m):
    return 200, update(app, req, "dashboards", m.group(1), "dashboard", build_dashboard)


@route("DELETE", r"/api/v1/dashboard/([a-z0-9]{3}-[a-z0-9]{3}-[a-z0-9]{3})")
def h_dashboard_delete(app, req, m):
    if not app.store.delete("dashboards", m.group(1)):
        raise ApiError(404, f"Dashboard with ID {m.group(1)} not found")
    return 200, {"deleted_dashboard_id": m.group(1)}


@route("GET", r"/api/v1/dashboard/([^/]+)")
def h_dashboard_get_bad(app, req, m):
    raise ApiError(404, f"Dashboard with ID {m.group(1)} not found")


def _build_downtime_from_body(app, body: dict, old: dict | None) -> dict:
    return build_downtime(app, body["data"].get("attributes") or {}, old)


@route("POST", r"/api/v2/downtime")
def h_downtime_create(app, req, m):
    d = create(app, req, "downtimes", "downtime_create", _build_downtime_from_body)
    return 200, downtime_view(app, d, with_relationships=True)


@route("GET", r"/api/v2/downtime")
def h_downtime_list(app, req, m):
    for name in ("page[offset]", "page[limit]"):
        _int_param(req, name, 0)
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
            d["attributes"]["canceled"] = _ts(app.now())
            d["attributes"]["modified"] = d["attributes"]["canceled"]
            app.store.put("downtimes", d["id"], d)
    return 204, None


@route("GET", r"/api/v2/downtime/([^/]+)")
def h_downtime_get_bad(app, req, m):
    raise ApiError(404, "Downtime not found")


# ---------------------------------------------------------------- admin API (no keys needed)

@route("GET", r"/_standin/health")
def a_health(app, req, m):
    return 200, {"ok": True, "clock_offset_days": app.clock_offset_days, "now": app.now().isoformat()}


@route("GET", r"/_standin/objects")
def a_objects(app, req, m):
    return 200, app.store.all()


@route("GET", r"/_standin/log")
def a_log(app, req, m):
    with app.lock:
        return 200, {"requests": list(app.entries), "stats": dict(app.counters)}


@route("GET", r"/_standin/stats")
def a_stats(app, req, m):
    return 200, app.stats()


@route("GET", r"/_standin/faults")
def a_faults_list(app, req, m):
    with app.lock:
        return 200, {"faults": [dict(f) for f in app.faults]}


@route("POST", r"/_standin/faults")
def a_faults_add(app, req, m):
    return 200, {"fault": app.add_fault(req.json() or {})}


@route("DELETE", r"/_standin/faults")
def a_faults_clear(app, req, m):
    with app.lock:
        app.faults.clear()
    return 200, {"faults": []}


def _clock_view(app):
    return {"offset_days": app.clock_offset_days, "frozen": bool(app.store.get_setting("clock_now")),
            "now": app.now().isoformat()}


@route("GET", r"/_standin/clock")
def a_clock_get(app, req, m):
    return 200, _clock_view(app)


@route("POST", r"/_standin/clock")
def a_clock_set(app, req, m):
    body = req.json() or {}
    if "now" in body:
        try:
            app.set_clock(dt.datetime.fromisoformat(body["now"].replace("Z", "+00:00")) if body["now"] else None)
        except (AttributeError, ValueError) as e:
            raise ApiError(400, f"now: {e}") from None
    elif "offset_days" in body:
        app.set_clock_offset(float(body["offset_days"]))
    else:
        raise ApiError(400, "now (an ISO-8601 instant with offset, or null) or offset_days is required")
    return 200, _clock_view(app)


@route("POST", r"/_standin/reset")
def a_reset(app, req, m):
    app.store.reset()
    with app.lock:
        app.faults.clear()
        app.entries.clear()
        app.counters.clear()
    return 200, {"reset": True}


class _Req:
    def __init__(self, handler, body: bytes, query: dict):
        self.handler, self.body, self.query = handler, body, query

    def json(self):
        if not self.body:
            return None
        try:
            return json.loads(self.body)
        except ValueError as e:
            raise ApiError(400, f"Invalid JSON body: {e}") from None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "datadog-api-standin/1"
    app: App = None  # set per server class

    def log_message(self, fmt, *args):  # silence stderr access log (we keep our own JSONL log)
        pass

    def _send(self, status: int, payload, headers=None):
        data = b"" if payload is None or status == 204 else json.dumps(payload).encode()
        self.send_response(status)
        if status != 204:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, val in (headers or {}).items():
            self.send_header(k, str(val))
        self.end_headers()
        if data:
            self.wfile.write(data)

    def _handle(self, method: str):
        t0 = time.monotonic()
        parts = urlsplit(self.path)
        path = parts.path.rstrip("/") or "/"
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        encoding = (self.headers.get("Content-Encoding") or "").lower()
        if body and encoding in ("gzip", "deflate"):  # the Go client can compress request bodies
            body = zlib.decompress(body, 16 + zlib.MAX_WBITS if encoding == "gzip" else zlib.MAX_WBITS)
        entry = {"ts": dt.datetime.now(dt.timezone.utc).isoformat(), "method": method, "path": path,
                 "query": {k: vs for k, vs in parse_qs(parts.query).items()}, "status": None}
        app = self.app
        headers = {}
        try:
            if path.startswith("/api/"):
                api_key = self.headers.get("DD-API-KEY")
                app_key = self.headers.get("DD-APPLICATION-KEY")
                # GET /api/v1/validate checks the API key alone: the provider sends only DD-API-KEY
                # there (https://docs.datadoghq.com/api/latest/authentication/#validate-api-key);
                # so does datadog-api-client's create_event (see snapshots.py)
                needs_app_key = path not in API_KEY_ONLY
                if not api_key or (needs_app_key and not app_key):
                    raise ApiError(403, "Forbidden")
                if (app.api_key and api_key != app.api_key) or \
                        (needs_app_key and app.app_key and app_key != app.app_key):
                    raise ApiError(403, "Forbidden")
                fault = app.take_fault(method, path)
                if fault:
                    entry["fault"] = True
                    if fault["status"] == 429:
                        ra = fault["retry_after"]
                        headers = {"Retry-After": ra, "X-RateLimit-Limit": 100, "X-RateLimit-Period": 10,
                                   "X-RateLimit-Remaining": 0, "X-RateLimit-Reset": ra,
                                   "X-RateLimit-Name": "standin_" + path.split("/")[3] if path.count("/") >= 3 else "standin"}
                        raise ApiError(429, "Rate limit exceeded")
                    raise ApiError(fault["status"], {500: "Internal Server Error", 502: "Bad Gateway",
                                                     503: "Service Unavailable", 504: "Gateway Timeout"}[fault["status"]])
            for rmethod, rx, fn in ROUTES:
                mm = rx.match(path)
                if mm and rmethod == method:
                    status, payload = fn(app, _Req(self, body, entry["query"]), mm)
                    break
            else:
                entry["unhandled"] = True
                raise ApiError(404, f"Not found: {method} {path} (not served by the stand-in)")
        except ApiError as e:
            status, payload = e.status, {"errors": e.messages}
        except Exception as e:  # a stand-in bug: make it loud, as a 500 in Datadog's shape
            status, payload = 500, {"errors": [f"stand-in internal error: {type(e).__name__}: {e}"]}
            entry["exception"] = repr(e)
        entry["status"] = status
        if status >= 400 and isinstance(payload, dict):
            entry["errors"] = payload.get("errors")
        entry["duration_ms"] = round((time.monotonic() - t0) * 1000, 2)
        if not path.startswith("/_standin/"):
            app.record(entry)  # before answering, so a client that got its answer sees it logged
        self._send(status, payload, headers)

    def do_GET(self):
        self._handle("GET")

    def do_POST(self):
        self._handle("POST")

    def do_PUT(self):
        self._handle("PUT")

    def do_PATCH(self):
        self._handle("PATCH")

    def do_DELETE(self):
        self._handle("DELETE")


class StandinHandle:
    """A running stand-in: ``.url``, ``.port``, ``.stop()``, request-log accessors."""

    def __init__(self, server: ThreadingHTTPServer, thread: threading.Thread, app: App):
        self.server, self.thread, self.app = server, thread, app
        self.port = server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"

    def requests(self) -> list[dict]:
        with self.app.lock:
            return [dict(e) for e in self.app.entries]

    def count(self, method=None, path_prefix=None, status=None, writes_only=False) -> int:
        n = 0
        for e in self.requests():
            if method and e["method"] != method:
                continue
            if path_prefix and not e["path"].startswith(path_prefix):
                continue
            if status is not None and e["status"] != status:
                continue
            if writes_only and e["method"] not in WRITE_METHODS:
                continue
            n += 1
        return n

    def writes(self, path_prefix="/api/") -> int:
        return self.count(path_prefix=path_prefix, writes_only=True)

    def stats(self) -> dict:
        return self.app.stats()

    def objects(self) -> dict:
        return self.app.store.all()

    def set_clock_offset(self, days: float) -> None:
        self.app.set_clock_offset(days)

    def set_clock(self, instant: dt.datetime | None) -> None:
        self.app.set_clock(instant)

    def add_fault(self, **spec) -> dict:
        return self.app.add_fault(spec)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def make_server(port: int, state_dir, clock_offset=None, api_key=None, app_key=None, host="127.0.0.1"):
    app = App(state_dir, clock_offset_days=clock_offset, api_key=api_key, app_key=app_key)
    handler = type("BoundHandler", (Handler,), {"app": app})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server, app


def start_server(port: int = 0, state_dir=".", clock_offset=None, api_key=None, app_key=None) -> StandinHandle:
    """Start the stand-in in a background thread (port 0 = a free port) and return its handle."""
    server, app = make_server(port, state_dir, clock_offset, api_key, app_key)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, name=f"dd-standin-{server.server_address[1]}", daemon=True)
    thread.start()
    return StandinHandle(server, thread, app)
