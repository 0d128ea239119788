"""Request-body validation for the Datadog API stand-in.

Bodies are deserialized with Datadog's own Python client models
(``datadog-api-client``) through ``model_utils.validate_and_convert_types``
with ``check_type=True`` -- the same entry point the client's ApiClient uses
to deserialize responses.  That client is deliberately lenient about enums and
oneOf schemas (an unknown value becomes an ``_unparsed`` model instead of an
error, for forward compatibility), so :func:`find_unparsed` walks the result
and turns every unparsed node into a 400, as the real API does.
"""
from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any, Iterator
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from datadog_api_client.configuration import Configuration
from datadog_api_client import model_utils as mu
from datadog_api_client.exceptions import OpenApiException
from datadog_api_client.v1.model.dashboard import Dashboard
from datadog_api_client.v1.model.downtime import Downtime
from datadog_api_client.v1.model.event_create_request import EventCreateRequest
from datadog_api_client.v1.model.monitor import Monitor
from datadog_api_client.v1.model.monitor_update_request import MonitorUpdateRequest
from datadog_api_client.v2.model.downtime_create_request import DowntimeCreateRequest
from datadog_api_client.v2.model.downtime_update_request import DowntimeUpdateRequest
from dateutil import rrule as dateutil_rrule

_CONFIG = Configuration()

MODELS = {
    "monitor": Monitor,
    "monitor_update": MonitorUpdateRequest,
    "dashboard": Dashboard,
    "downtime_create": DowntimeCreateRequest,
    "downtime_update": DowntimeUpdateRequest,
    "downtime_v1": Downtime,
    "event": EventCreateRequest,
}


class ApiError(Exception):
    """An error answered to the client as ``{"errors": [message, ...]}``."""

    def __init__(self, status: int, *messages: str):
        super().__init__("; ".join(messages))
        self.status = status
        self.messages = list(messages)


def _fmt_path(path) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "<root>"


def _enum_values(cls) -> set:
    vals = getattr(cls, "allowed_values", None)
    return set(vals) if vals else set()


def _type_field_values(model_cls) -> set:
    try:
        types = model_cls.openapi_types
        types = types() if callable(types) else types
    except Exception:  # pragma: no cover - defensive
        return set()
    out = set()
    for t in types.get("type", ()):
        if isinstance(t, type) and issubclass(t, mu.ModelSimple):
            out |= _enum_values(t)
    return out


def _diagnose_composed(cls, data, path) -> Iterator[str]:
    """Explain why ``data`` matched none of ``cls``'s oneOf schemas."""
    one_of = cls._composed_schemas.get("oneOf", []) if isinstance(cls._composed_schemas, dict) else []
    candidates = [c for c in one_of if isinstance(c, type)]
    if isinstance(data, dict) and "type" in data:
        typed = [c for c in candidates if data["type"] in _type_field_values(c)]
        if not typed:
            known = sorted(set().union(*(_type_field_values(c) for c in candidates)))
            yield (f"Invalid value {data['type']!r} for 'type' at {_fmt_path(list(path) + ['type'])}"
                   + (f"; allowed values: {', '.join(map(str, known))}" if known else ""))
            return
        candidates = typed
    for c in candidates:
        problems = _problems_as(data, c, path)
        if problems:
            yield from problems
            return
    yield f"{_fmt_path(path)}: value does not match any {cls.__name__} schema"


def _problems_as(data, cls, path) -> list[str]:
    """Why ``data`` does not deserialize cleanly as ``cls``: a type error, or unparsed parts."""
    try:
        inst = mu.validate_and_convert_types(data, (cls,), list(path), True, True, _CONFIG)
    except (OpenApiException, TypeError, ValueError) as e:
        return [f"{_fmt_path(path)}: {e}"]
    return list(find_unparsed(inst, path))


def _diagnose_item(data, expected, path) -> Iterator[str]:
    """Explain why ``data`` (kept as an UnparsedObject) does not deserialize into one of ``expected``."""
    classes = [c for c in expected if isinstance(c, type) and issubclass(c, mu.OpenApiModel)]
    for cls in classes:
        if issubclass(cls, mu.ModelComposed):
            yield from _diagnose_composed(cls, data, path)
            return
        problems = _problems_as(data, cls, path)
        if problems:
            yield from problems
            return
    yield f"{_fmt_path(path)}: value does not match the expected schema"


def find_unparsed(obj: Any, path=()) -> Iterator[str]:
    """Yield a message for every node the client could not parse."""
    path = list(path)
    if isinstance(obj, mu.UnparsedObject):
        yield f"{_fmt_path(path)}: value does not match the expected schema"
    elif isinstance(obj, mu.ModelSimple):
        if obj._unparsed:
            allowed = sorted(map(str, _enum_values(type(obj))))
            yield (f"Invalid value {obj.value!r} for {path[-1] if path else 'value'!r} at {_fmt_path(path)}"
                   + (f"; allowed values: {', '.join(allowed)}" if allowed else ""))
    elif isinstance(obj, mu.ModelComposed):
        unparsed = [i for i in obj._composed_instances if isinstance(i, mu.UnparsedObject)]
        if unparsed or not obj._composed_instances:
            data = unparsed[0]._data_store if unparsed else {}
            yield from _diagnose_composed(type(obj), data, path)
        else:
            for inst in obj._composed_instances:
                yield from find_unparsed(inst, path)
    elif isinstance(obj, mu.OpenApiModel):
        types = getattr(type(obj), "openapi_types", {})
        types = types() if callable(types) else types
        for k, v in obj._data_store.items():
            expected = types.get(k, ()) if isinstance(types, dict) else ()
            if isinstance(v, mu.UnparsedObject):
                yield from _diagnose_item(v._data_store, expected, path + [k])
            elif isinstance(v, list) and any(isinstance(x, mu.UnparsedObject) for x in v):
                item_types = [t for e in expected if isinstance(e, list) for t in e]
                for i, x in enumerate(v):
                    if isinstance(x, mu.UnparsedObject):
                        yield from _diagnose_item(x._data_store, item_types, path + [k, i])
                    else:
                        yield from find_unparsed(x, path + [k, i])
            else:
                yield from find_unparsed(v, path + [k])
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from find_unparsed(v, path + [i])
    elif isinstance(obj, dict):
        for k, v in obj.items():
            yield from find_unparsed(v, path + [k])


# --------------------------------------------------------------------------- where the client models lag

def _widgets(widgets: list) -> Iterator[dict]:
    """Every widget, group members included."""
    for w in widgets or []:
        if isinstance(w, dict):
            yield w
            d = w.get("definition")
            if isinstance(d, dict) and isinstance(d.get("widgets"), list):
                yield from _widgets(d["widgets"])


def _formula_sorts(node) -> Iterator[dict]:
    if isinstance(node, dict):
        if isinstance(node.get("order_by"), list):
            yield from (o for o in node["order_by"] if isinstance(o, dict) and o.get("type") == "formula")
        for x in node.values():
            yield from _formula_sorts(x)
    elif isinstance(node, list):
        for x in node:
            yield from _formula_sorts(x)


def check_tabs(tabs) -> None:
    """Dashboard tabs (not in datadog-api-client 2.62's Dashboard model; Datadog accepts and answers
    them: TestAccDatadogDashboardTab.yaml, ...JSONTabIntegerWidgetIds.yaml)."""
    if tabs is None:
        return
    if not isinstance(tabs, list) or not all(isinstance(t, dict) for t in tabs):
        raise ApiError(400, "tabs must be a list of objects")
    for i, t in enumerate(tabs):
        if not isinstance(t.get("name"), str):
            raise ApiError(400, f"tabs[{i}].name is required")
        if not all(isinstance(w, (int, str)) and not isinstance(w, bool) for w in t.get("widget_ids") or []):
            raise ApiError(400, f"tabs[{i}].widget_ids must hold widget ids or '@N' references")


def dashboard_for_model(body: dict) -> dict:
    """A copy of a dashboard body without what Datadog accepts but datadog-api-client 2.62's models
    reject, so that the recorded behaviour wins where the models lag the API:

    * ``tabs`` (checked by :func:`check_tabs` instead);
    * a formula ``sort.order_by`` entry without ``index`` (TestAccDatadogDashboardV2SunburstSort.yaml,
      ...V2TreemapStyleSort.yaml): checked with index 0;
    * ``wildcard`` widget requests (TestAccDatadogDashboardV2Wildcard.yaml, ...V2WildcardHistogram.yaml:
      the model's request oneOf has no histogram/scalar-formula form): not checked;
    * ``list_stream`` widgets with several requests (TestAccDatadogDashboardListStream.yaml; the model
      allows one): each request is checked in a copy of its widget.
    Everything else, unknown enum values included, is still checked by the model.
    """
    body = json.loads(json.dumps(body))
    body.pop("tabs", None)
    for w in list(_widgets(body.get("widgets"))):
        d = w.get("definition")
        if not isinstance(d, dict):
            continue
        if d.get("type") == "wildcard":
            d["requests"] = []
    body["widgets"] = _split_list_streams(body.get("widgets"))
    for o in _formula_sorts(body.get("widgets")):
        o.setdefault("index", 0)
    return body


def _split_list_streams(widgets):
    if not isinstance(widgets, list):
        return widgets
    out = []
    for w in widgets:
        d = w.get("definition") if isinstance(w, dict) else None
        if isinstance(d, dict) and isinstance(d.get("widgets"), list):
            d["widgets"] = _split_list_streams(d["widgets"])
        if isinstance(d, dict) and d.get("type") == "list_stream" and isinstance(d.get("requests"), list) \
                and len(d["requests"]) > 1:
            out += [{**w, "definition": {**d, "requests": [r]}} for r in d["requests"]]
        else:
            out.append(w)
    return out


def parse_model(kind: str, body: Any):
    """Deserialize ``body`` into the client model for ``kind``; raise ApiError(400) if invalid."""
    cls = MODELS[kind]
    if not isinstance(body, dict):
        raise ApiError(400, "Invalid JSON body: expected an object")
    if kind == "dashboard":
        check_tabs(body.get("tabs"))
        body = dashboard_for_model(body)
    try:
        inst = mu.validate_and_convert_types(body, (cls,), ["body"], True, True, _CONFIG)
    except TypeError as e:  # missing required constructor arguments
        m = re.search(r"missing \d+ required (?:positional|keyword-only) arguments?: (.*)", str(e))
        if m:
            raise ApiError(400, f"Missing required parameter(s) for {cls.__name__}: {m.group(1)}") from None
        raise ApiError(400, f"Invalid {cls.__name__}: {e}") from None
    except (OpenApiException, ValueError) as e:
        raise ApiError(400, str(e).replace("['body']", "body")) from None
    problems = list(find_unparsed(inst, []))
    if problems:
        raise ApiError(400, *problems)
    return inst


# --------------------------------------------------------------------------- monitors

_QUERY_THRESHOLD = re.compile(r"(>=|<=|>|<|==|!=)\s*(-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)\s*$")
THRESHOLD_TYPES = {"metric alert", "query alert"}


def query_threshold(query: str):
    m = _QUERY_THRESHOLD.search(query.strip())
    return (m.group(1), float(m.group(2))) if m else None


def check_monitor_thresholds(body: dict) -> None:
    """Datadog rejects a metric monitor whose query threshold disagrees with options.thresholds.critical."""
    mtype = body.get("type")
    query = body.get("query")
    if mtype not in THRESHOLD_TYPES or not isinstance(query, str):
        return
    qt = query_threshold(query)
    if qt is None:
        raise ApiError(400, "The value provided for parameter 'query' is invalid: "
                            "a metric monitor query must end with a comparison against a threshold, e.g. '> 2'")
    crit = ((body.get("options") or {}).get("thresholds") or {}).get("critical")
    if crit is not None and float(crit) != qt[1]:
        raise ApiError(400, f"Alert threshold ({float(crit)}) does not match that used in the query ({qt[1]}).")


# --------------------------------------------------------------------------- downtimes

_DURATION = re.compile(r"^(\d+)([mhdw])$")
_START_FORMATS = ("%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S.%f", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M")
_FORBIDDEN_RRULE = ("DTSTART", "DTEND", "DURATION")
START_FMT = "%Y-%m-%dT%H:%M:%S"


def zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        raise ApiError(400, f"Invalid timezone: {name!r}") from None


def parse_duration(value: str) -> dt.timedelta:
    m = _DURATION.match(value or "")
    if not m:
        raise ApiError(400, f"Invalid duration {value!r}: must be an integer followed by one of 'm', 'h', 'd' or 'w'")
    n, unit = int(m.group(1)), m.group(2)
    return {"m": dt.timedelta(minutes=n), "h": dt.timedelta(hours=n),
            "d": dt.timedelta(days=n), "w": dt.timedelta(weeks=n)}[unit]


def check_rrule(value: str) -> None:
    upper = (value or "").upper()
    if not upper or any(f in upper for f in _FORBIDDEN_RRULE):
        raise ApiError(400, f"Invalid rrule {value!r}: DTSTART, DTEND and DURATION are not supported")
    try:
        dateutil_rrule.rrulestr(value, dtstart=dt.datetime(2000, 1, 1))
    except (ValueError, TypeError) as e:
        raise ApiError(400, f"Invalid rrule {value!r}: {e}") from None


def parse_recurrence_start(value: str, tz: ZoneInfo) -> dt.datetime:
    """Parse a recurrence start into a naive local datetime of the schedule's timezone (seconds precision)."""
    v = value.strip()
    if v.endswith("Z") or re.search(r"[+-]\d{2}:?\d{2}$", v):
        try:
            aware = dt.datetime.fromisoformat(v.replace("Z", "+00:00"))
        except ValueError:
            raise ApiError(400, f"Invalid start {value!r}: expected YYYY-MM-DDTHH:MM:SS") from None
        return aware.astimezone(tz).replace(tzinfo=None, microsecond=0)
    for fmt in _START_FORMATS:
        try:
            return dt.datetime.strptime(v, fmt).replace(microsecond=0)
        except ValueError:
            continue
    raise ApiError(400, f"Invalid start {value!r}: expected YYYY-MM-DDTHH:MM:SS")


def parse_utc(value: str) -> dt.datetime:
    try:
        d = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ApiError(400, f"Invalid datetime {value!r}: expected ISO-8601") from None
    if d.tzinfo is None:
        d = d.replace(tzinfo=dt.timezone.utc)
    return d.astimezone(dt.timezone.utc)


def iso_utc(d: dt.datetime) -> str:
    """Datadog's rendering of an aware datetime: 2025-09-23T09:22:35+00:00 (microseconds kept if any)."""
    return d.astimezone(dt.timezone.utc).isoformat()


def stamp(d: dt.datetime) -> str:
    """A created/modified stamp the stand-in writes: UTC, always with microseconds."""
    return d.astimezone(dt.timezone.utc).isoformat(timespec="microseconds")


def _rule_after_start(rec: dict, start: dt.datetime):
    """The recurrence's rule occurrences that follow its start, RFC 5545 reading.

    RFC 5545 (3.8.5.3): "The DTSTART property value always counts as the first occurrence",
    and Datadog's downtime guide asks that the start match the rule's first occurrence. dateutil
    only yields DTSTART when it matches the rule, and counts COUNT over matches only, so a start
    that does not match the rule takes one of COUNT's occurrences here.
    """
    rule = dateutil_rrule.rrulestr(rec["rrule"], dtstart=start)
    first = rule.after(start, inc=True)
    if first != start and rule._count is not None:  # the start used up one of COUNT
        if rule._count <= 1:
            return None
        rule = rule.replace(count=rule._count - 1)
    return rule


def occurrence(rec: dict, now_local: dt.datetime):
    """The occurrence of one recurrence running at ``now_local`` (naive, schedule timezone), or
    else its next one: (start, end) naive local, or None once the rule has ended.

    The start is an occurrence (see :func:`_rule_after_start`): a schedule created or updated
    without one starts at that moment (TestAccDowntimeScheduleChanged.yaml: PATCH with
    ``"start": null`` at 18:37:31 UTC answers ``status: active``, ``current_downtime``
    18:37:31 -> +1d). The end is the start plus the duration in wall-clock time of the
    schedule's timezone (no recording crosses a DST change, so this reading is unverified).
    """
    start = dt.datetime.strptime(rec["start"], START_FMT)
    dur = parse_duration(rec["duration"])
    if start > now_local:
        return start, start + dur
    rule = _rule_after_start(rec, start)
    last = (rule.before(now_local, inc=True) if rule else None) or start
    if last + dur > now_local:
        return last, last + dur
    following = rule.after(now_local) if rule else None
    return (following, following + dur) if following else None


def _utc(local: dt.datetime, tz: ZoneInfo) -> dt.datetime:
    return local.replace(tzinfo=tz).astimezone(dt.timezone.utc)


def current_occurrence(recurrences: list, tz: ZoneInfo, now_utc: dt.datetime):
    """The occurrence that is running now, or else the next one, over all recurrences: (start, end) in UTC."""
    now_local = now_utc.astimezone(tz).replace(tzinfo=None)
    found = [occ for occ in (occurrence(rec, now_local) for rec in recurrences) if occ]
    if not found:
        return None
    start, end = min(found)
    return _utc(start, tz), _utc(end, tz)
