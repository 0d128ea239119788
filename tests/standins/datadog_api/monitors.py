"""Monitors (``/api/v1/monitor``): create, read, list with filters, update, delete and validate,
answered as the TestAccDatadogMonitor*.yaml cassettes record them (see each rule below)."""
from __future__ import annotations

import json
import re

from . import validation as v
from .org import CREATOR, ORG_ID
from .routing import existing, int_param, route
from .v1_downtimes import silenced
from .validation import ApiError

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


def monitor_view(app, m: dict, kind: str, query: dict | None = None) -> dict:
    """A stored monitor as Datadog answers it for ``kind``: "create", "update", "get" or "list".

    restriction_policy comes only with the answers to POST and PUT; GET answers ``assets: []``
    unless asked ``with_assets=true``; POST/PUT answer each asset with its ``monitor_id``
    (TestAccDatadogMonitor_Assets.yaml); list items carry ``matching_downtimes``
    (TestAccDatadogMonitorDatasource.yaml).
    """
    out = dict(m)
    out["options"] = dict(out["options"], silenced=silenced(app, m))
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


def build_monitor(app, body: dict, old: dict | None) -> dict:
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
        base = {"id": mid, "org_id": ORG_ID, "created_at": int(now.timestamp() * 1000), "created": v.stamp(now),
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
        "modified": v.stamp(now),
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


def _monitor_body(req):
    """The request's monitor, rejected as Datadog would: by its model, then its thresholds."""
    body = req.json()
    v.parse_model("monitor", body)
    v.check_monitor_thresholds(body)
    return body


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
        int_param(req, k, 0)
    mons = sorted(app.store.all()["monitors"].values(), key=lambda x: x["id"])
    mons = [x for x in mons if _monitor_matches(x, req.query)]
    if "page" in req.query:
        size = int_param(req, "page_size", 100)
        page = int_param(req, "page", 0)
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
