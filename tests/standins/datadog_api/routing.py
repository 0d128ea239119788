"""The route table the stand-in's HTTP handler dispatches on: (method, compiled path regex, handler)."""
import re

from .validation import ApiError, parse_model

ROUTES = []


def route(method, pattern):
    rx = re.compile("^" + pattern + "$")

    def deco(fn):
        ROUTES.append((method, rx, fn))
        return fn
    return deco


# The 404 message for each stored kind: Datadog's for monitors and dashboards (recorded after
# delete, e.g. TestAccDatadogMonitor_WithRestrictionPolicy.yaml, TestAccDatadogDashboardTimeseries.yaml);
# no cassette records a downtime 404, so that wording is the stand-in's own
NOT_FOUND = {"monitors": "Monitor not found", "dashboards": "Dashboard with ID {} not found",
             "downtimes": "Downtime not found", "downtimes_v1": "Downtime not found"}


def existing(app, kind: str, oid: str) -> dict:
    """The stored object, or a 404 in Datadog's words."""
    obj = app.store.get(kind, oid)
    if obj is None:
        raise ApiError(404, NOT_FOUND[kind].format(oid))
    return obj


def update(app, req, kind: str, oid: str, model: str, build) -> dict:
    """Validate the request body as ``model``, build the new object from it and the stored one
    with ``build(app, body, old)`` and store it under ``oid``: every PUT/PATCH."""
    body = req.json()
    parse_model(model, body)
    with app.store.lock:
        obj = build(app, body, existing(app, kind, oid))
        app.store.put(kind, oid, obj)
    return obj


def create(app, req, kind: str, model: str, build) -> dict:
    """Validate the request body as ``model``, build the object with ``build(app, body, None)``
    and store it under its id: every POST that creates."""
    body = req.json()
    parse_model(model, body)
    with app.store.lock:
        obj = build(app, body, None)
        app.store.put(kind, str(obj["id"]), obj)
    return obj


def int_param(req, name: str, default: int) -> int:
    """A non-negative integer query parameter (paging, offsets), ``default`` when absent."""
    raw = (req.query.get(name) or [None])[0]
    if raw is None:
        return default
    if not raw.isdigit():
        raise ApiError(400, f"Invalid value for {name}: {raw!r} (a non-negative integer)")
    return int(raw)
