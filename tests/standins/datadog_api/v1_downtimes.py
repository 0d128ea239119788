"""Legacy v1 downtimes (``/api/v1/downtime``) and monitor restriction policies
(``/api/v2/restriction_policy/monitor:ID``): not kinds this stack manages, served so that the
adoption tool can list v1 downtimes (to report them as not adoptable) and so that monitors
answer the fields these calls change (``options.silenced``, ``restricted_roles``).

Evidence: the TestAccDatadogDowntime*.yaml cassettes (v1 downtime answers, and
``options.silenced: {"*": end}`` on the monitor of TestAccDatadogDowntime_BasicWithMonitor.yaml)
and TestAccDatadogMonitor_WithRestrictionPolicy.yaml (an editor binding to ``role:X`` makes
the monitor answer ``restricted_roles: [X]``; deleting the policy makes it null again).
"""
from __future__ import annotations

import uuid

from . import validation as v
from .org import CREATOR, ORG_ID
from .routing import create, existing, route, update
from .validation import ApiError

CREATOR_ID = CREATOR["id"]
DEFAULTS = {"message": None, "monitor_id": None, "monitor_tags": ["*"], "scope": ["*"], "timezone": "UTC",
            "recurrence": None, "mute_first_recovery_notification": False,
            "notify_end_types": ["expired"], "notify_end_states": ["alert", "no data", "warn"]}
RECURRENCE_NULLS = {"period": None, "week_days": None, "until_occurrences": None, "until_date": None}


def _recurrence(r: dict | None):
    """As answered: an rrule recurrence keeps type and rrule only, the others every field
    (TestAccDatadogDowntime_RRule.yaml, TestAccDatadogDowntime_Basic.yaml)."""
    if not r:
        return None
    if r.get("type") == "rrule":
        return {"type": "rrule", "rrule": r.get("rrule")}
    return {**RECURRENCE_NULLS, **{k: val for k, val in r.items() if k != "rrule"}}


def _downtime_type(scope: list) -> int:
    """0 for scope ["*"], 1 for one host: scope, 2 otherwise, as every v1 cassette answers it."""
    if scope == ["*"]:
        return 0
    return 1 if len(scope) == 1 and scope[0].startswith("host:") else 2


def build(app, body: dict, old: dict | None) -> dict:
    now = int(app.now().timestamp())
    d = dict(old) if old else {**{k: (list(x) if isinstance(x, list) else x) for k, x in DEFAULTS.items()},
                               "id": app.store.next_id("next_downtime_v1_id"), "org_id": ORG_ID,
                               "created": now, "creator_id": CREATOR_ID, "updater_id": None,
                               "parent_id": None, "child_id": None, "canceled": None,
                               "uuid": str(uuid.uuid4()), "start": now, "end": None}
    for k, val in body.items():
        if k != "id" and (val is not None or k in ("end", "message", "monitor_id")):
            d[k] = val
    if old is not None:
        d["updater_id"] = CREATOR_ID
    d["monitor_tags"] = sorted(d["monitor_tags"] or ["*"])
    d["recurrence"] = _recurrence(d.get("recurrence"))
    d["downtime_type"] = _downtime_type(d["scope"])
    d["modified"] = now
    v.zone(d["timezone"])
    if d["end"] is not None and d["end"] <= d["start"]:
        raise ApiError(400, "Downtime end must be after its start")
    return d


def view(app, d: dict) -> dict:
    """Status from the stand-in's clock over the first window (recurrences are not expanded)."""
    now = app.now().timestamp()
    out = dict(d)
    if d["canceled"]:
        status = "canceled"
    elif now < d["start"]:
        status = "scheduled"
    else:
        status = "ended" if d["end"] is not None and now >= d["end"] else "active"
    out.update(status=status, active=status == "active", disabled=bool(d["canceled"]))
    return out


def silenced(app, monitor: dict) -> dict:
    """The monitor's options.silenced with its v1 downtimes' scopes: {scope: end}."""
    out = dict(monitor["options"].get("silenced") or {})
    for d in app.store.all()["downtimes_v1"].values():
        if d["monitor_id"] == monitor["id"] and not d["canceled"]:
            out.update({s: d["end"] for s in d["scope"]})
    return out


def _set_restricted_roles(app, rid: str, bindings: list) -> None:
    """A monitor's restricted_roles follow its policy's editor roles, null without a policy."""
    monitor = app.store.get("monitors", rid.split(":", 1)[1])
    if monitor is None:
        return
    roles = [p.split(":", 1)[1] for b in bindings if b.get("relation") == "editor"
             for p in b.get("principals", []) if p.startswith("role:")]
    monitor["restricted_roles"] = roles or None
    app.store.put("monitors", str(monitor["id"]), monitor)


# ----------------------------------------------------------------------------- v1 downtimes

@route("POST", r"/api/v1/downtime")
def h_create(app, req, m):
    return 200, view(app, create(app, req, "downtimes_v1", "downtime_v1", build))


@route("GET", r"/api/v1/downtime")
def h_list(app, req, m):
    """GET /api/v1/downtime[?current_only=true] (https://docs.datadoghq.com/api/latest/downtimes/#get-all-downtimes)."""
    items = [view(app, d) for _, d in sorted(app.store.all()["downtimes_v1"].items())]
    if req.query.get("current_only") == ["true"]:
        items = [d for d in items if d["active"]]
    return 200, items


@route("GET", r"/api/v1/downtime/(\d+)")
def h_get(app, req, m):
    d = existing(app, "downtimes_v1", m.group(1))
    return 200, view(app, d)


@route("PUT", r"/api/v1/downtime/(\d+)")
def h_update(app, req, m):
    return 200, view(app, update(app, req, "downtimes_v1", m.group(1), "downtime_v1", build))


@route("DELETE", r"/api/v1/downtime/(\d+)")
def h_cancel(app, req, m):
    with app.store.lock:
        d = existing(app, "downtimes_v1", m.group(1))
        if not d["canceled"]:
            d["canceled"] = d["modified"] = int(app.now().timestamp())
            d["updater_id"] = CREATOR_ID
            app.store.put("downtimes_v1", m.group(1), d)
    return 204, None


# ----------------------------------------------------------------------------- restriction policies

def _policy_view(rid: str, policy: dict | None) -> dict:
    return {"data": {"type": "restriction_policy", "id": rid,
                     "attributes": {"bindings": (policy or {}).get("bindings", [])}}}


@route("POST", r"/api/v2/restriction_policy/(monitor:\d+)")
def h_policy_set(app, req, m):
    body = req.json() or {}
    bindings = ((body.get("data") or {}).get("attributes") or {}).get("bindings")
    if not isinstance(bindings, list):
        raise ApiError(400, "data.attributes.bindings must be a list")
    with app.store.lock:
        app.store.put("restriction_policies", m.group(1), {"bindings": bindings})
        _set_restricted_roles(app, m.group(1), bindings)
    return 200, _policy_view(m.group(1), {"bindings": bindings})


@route("GET", r"/api/v2/restriction_policy/(monitor:\d+)")
def h_policy_get(app, req, m):
    # a resource without a policy answers empty bindings (unverified: not recorded)
    return 200, _policy_view(m.group(1), app.store.get("restriction_policies", m.group(1)))


@route("DELETE", r"/api/v2/restriction_policy/(monitor:\d+)")
def h_policy_delete(app, req, m):
    with app.store.lock:
        app.store.delete("restriction_policies", m.group(1))
        _set_restricted_roles(app, m.group(1), [])
    return 204, None
