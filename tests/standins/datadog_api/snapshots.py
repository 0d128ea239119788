"""The two calls `python -m tools.graph_snapshot` makes: a graph snapshot and an event. No cassette
records them, so the shapes follow Datadog's API reference and datadog-api-client 2.62's models:

* GET /api/v1/graph/snapshot (https://docs.datadoghq.com/api/latest/snapshots/): ``start`` and
  ``end`` POSIX seconds required, ``metric_query`` or ``graph_def``; answers
  ``{graph_def, metric_query, snapshot_url}`` (v1.GraphSnapshot).
* POST /api/v1/events (https://docs.datadoghq.com/api/latest/events/post-an-event/): a
  v1.EventCreateRequest (``title`` and ``text`` required, text at most 4000 characters);
  answers 202 ``{"event": {...}, "status": "ok"}`` (v1.EventCreateResponse). The client sends
  only DD-API-KEY there (its create_event endpoint has apiKeyAuth alone).
Events are kept (``h.objects()["events"]``) so a test can read what was posted.
"""
from __future__ import annotations

import uuid

from . import validation as v
from .routing import create, route
from .validation import ApiError

TEXT_LIMIT = 4000
# snapshot URLs point at Datadog's image host; the stand-in serves no image
SNAPSHOT_URL = "https://p.datadoghq.com/snapshot/view/dd-snapshots-prod/org_321813/{}.png"


def _seconds(req, name: str) -> int:
    raw = (req.query.get(name) or [""])[0]
    if not raw.lstrip("-").isdigit():
        raise ApiError(400, f"{name} is required: a POSIX timestamp in seconds")
    return int(raw)


@route("GET", r"/api/v1/graph/snapshot")
def h_graph_snapshot(app, req, m):
    start, end = _seconds(req, "start"), _seconds(req, "end")
    if end <= start:
        raise ApiError(400, "end must be after start")
    query = (req.query.get("metric_query") or [None])[0]
    graph_def = (req.query.get("graph_def") or [None])[0]
    if not query and not graph_def:
        raise ApiError(400, "metric_query or graph_def is required")
    return 200, {"graph_def": graph_def, "metric_query": query,
                 "snapshot_url": SNAPSHOT_URL.format(uuid.uuid4().hex)}


def build_event(app, body: dict, old) -> dict:
    if len(body["text"]) > TEXT_LIMIT:
        raise ApiError(400, f"text is limited to {TEXT_LIMIT} characters")
    eid = app.store.next_id("next_event_id")
    return {"id": eid, "id_str": str(eid), "title": body["title"], "text": body["text"],
            "date_happened": body.get("date_happened") or int(app.now().timestamp()),
            "tags": body.get("tags") or [], "priority": body.get("priority") or "normal",
            "alert_type": body.get("alert_type") or "info",
            "url": f"https://app.datadoghq.com/event/event?id={eid}"}


@route("POST", r"/api/v1/events")
def h_event_create(app, req, m):
    return 202, {"event": create(app, req, "events", "event", build_event), "status": "ok"}
