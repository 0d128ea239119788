"""Which objects already in a Datadog account are the stack's resources made by hand.

Pure functions over plain JSON: the stack's Datadog resources as the offline plan declares
them, the account's objects as Datadog's API returns them (the seeds made theirs with
Postman and the UI). A match names its reasons; an object claimed by two resources, or a
resource with two candidates, is ambiguous and never resolved by a guess. A downtime is
adopted only when it is exactly one of the stack's schedules (all but its starts); any
other is refused with the reason, and the stack creates its own.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

MONITOR = "datadog:index/monitor:Monitor"
DASHBOARD = "datadog:index/dashboard:Dashboard"
DOWNTIME = "datadog:index/downtimeSchedule:DowntimeSchedule"
METRIC = "my_metric"
_HOST = re.compile(r"\bhost:([A-Za-z0-9_.\-]+)")
_HOST_GROUP = re.compile(r"\bhost:\(([^)]*)\)")  # host:(a OR b), as the stack scopes downtimes
_METRIC_SCOPE = re.compile(r"\b([a-z_][\w.]*)\{([^}]*)\}")
_MONITOR_TYPES = ("metric alert", "query alert")


@dataclass(frozen=True)
class Resource:
    """One resource of the offline plan; `parent_type` is its component's type token."""
    type: str
    name: str
    parent: str | None
    parent_type: str | None
    inputs: dict


@dataclass(frozen=True)
class Candidate:
    """An existing object that may be `resource`, and why."""
    id: str
    label: str
    reasons: tuple[str, ...]


@dataclass
class Match:
    resource: Resource
    candidates: list[Candidate] = field(default_factory=list)
    # Other resources that claim one of this resource's candidates.
    also_claimed_by: list[str] = field(default_factory=list)

    @property
    def status(self) -> str:
        if not self.candidates:
            return "unmatched"
        if len(self.candidates) > 1 or self.also_claimed_by:
            return "ambiguous"
        return "matched"


@dataclass(frozen=True)
class Refusal:
    """An existing object in the stack's scope that cannot be adopted."""
    id: str
    label: str
    reason: str
    replacement: str


# -- reading queries ------------------------------------------------------------------

def queries(obj) -> list[str]:
    """Every metric query in a monitor or dashboard body (API or plan form): the values
    of `q` and `query` keys at any depth."""
    found: list[str] = []
    if isinstance(obj, dict):
        for key, value in obj.items():
            if key in ("q", "query") and isinstance(value, str):
                found.append(value)
            else:
                found += queries(value)
    elif isinstance(obj, list):
        for item in obj:
            found += queries(item)
    return found


def metric_scopes(query: str) -> list[tuple[str, str]]:
    """(metric, scope) pairs of a query: `max:my_metric{host:a}` -> [("my_metric", "host:a")]."""
    return [(metric.split(":")[-1], scope) for metric, scope in _METRIC_SCOPE.findall(query)]


def scoped_hosts(scope: str, hosts: set[str]) -> set[str]:
    """Which of our hosts a scope names: `host:a`, `host:a OR host:b`, `host:(a OR b)`."""
    named = set(_HOST.findall(scope))
    for group in _HOST_GROUP.findall(scope):
        named |= {word for word in group.split() if word not in ("OR", "AND", "NOT")}
    return named & hosts


def _on_our_hosts(query_list: list[str], metric_prefix: str, hosts: set[str]) -> set[str]:
    return {host for q in query_list for metric, scope in metric_scopes(q)
            if metric.startswith(metric_prefix) for host in scoped_hosts(scope, hosts)}


def _host_variable(dashboard: dict, hosts: set[str]) -> set[str]:
    """Our hosts offered by a `host`-prefixed template variable (the stack's own boards)."""
    named: set[str] = set()
    for var in dashboard.get("template_variables") or dashboard.get("templateVariables") or []:
        if var.get("prefix") == "host":
            values = (var.get("available_values") or var.get("availableValues") or []) + \
                (var.get("defaults") or []) + [var.get("default") or ""]
            named |= {v.removeprefix("host:") for v in values} & hosts
    return named


# -- monitors and dashboards ----------------------------------------------------------

def monitor_reasons(monitor: dict, resource: Resource, hosts: set[str]) -> list[str]:
    """Why `monitor` (API JSON) may be the stack's monitor: same name, or a metric query on
    my_metric over one of our hosts. Empty: not a candidate."""
    reasons = []
    if monitor.get("name") == resource.inputs.get("name"):
        reasons.append(f"same name {monitor['name']!r}")
    if monitor.get("type") in _MONITOR_TYPES:
        named = _on_our_hosts([monitor.get("query", "")], METRIC, hosts)
        if named:
            reasons.append(f"query watches {METRIC} on " + ", ".join(f"host:{h}" for h in sorted(named)))
    return reasons


def dashboard_kind(query_list: list[str]) -> str | None:
    """'timeboard' (my_metric, an anomalies() graph and a my_metric rollup, the exercise's
    three graphs), 'apm' (trace metrics beside system metrics), or None."""
    metrics = {metric for q in query_list for metric, _ in metric_scopes(q)}
    if (METRIC in metrics and any("anomalies(" in q for q in query_list)
            and any(METRIC in q and ".rollup(" in q for q in query_list)):
        return "timeboard"
    if any(m.startswith("trace.") for m in metrics) and any(m.startswith("system.") for m in metrics):
        return "apm"
    return None


def dashboard_reasons(dashboard: dict, resource: Resource, hosts: set[str]) -> list[str]:
    """Why `dashboard` (API JSON, with widgets) may be `resource`: same title, or widgets
    of the same kind as the resource's own over one of our hosts."""
    reasons = []
    if dashboard.get("title") == resource.inputs.get("title"):
        reasons.append(f"same title {dashboard['title']!r}")
    kind = dashboard_kind(queries(resource.inputs.get("widgets", [])))
    found = queries(dashboard.get("widgets", []))
    if kind and dashboard_kind(found) == kind:
        prefix = METRIC if kind == "timeboard" else ""
        named = _on_our_hosts(found, prefix, hosts) | _host_variable(dashboard, hosts)
        if named:
            what = ("my_metric, its anomalies() and its rollup" if kind == "timeboard"
                    else "trace metrics beside system metrics")
            reasons.append(f"widgets graph {what} on " + ", ".join(f"host:{h}" for h in sorted(named)))
    return reasons


def match(resources: list[Resource], monitors: list[dict], dashboards: list[dict],
          hosts: set[str]) -> list[Match]:
    """A Match per monitor and dashboard resource, candidates in the API's order."""
    matches = []
    for resource in resources:
        if resource.type == MONITOR:
            pool, judge, label = monitors, monitor_reasons, "name"
        elif resource.type == DASHBOARD:
            pool, judge, label = dashboards, dashboard_reasons, "title"
        else:
            continue
        found = Match(resource)
        for obj in pool:
            reasons = judge(obj, resource, hosts)
            if reasons:
                found.candidates.append(Candidate(str(obj["id"]), str(obj.get(label)), tuple(reasons)))
        matches.append(found)
    claims: dict[str, list[str]] = {}
    for m in matches:
        for c in m.candidates:
            claims.setdefault(c.id, []).append(m.resource.name)
    for m in matches:
        m.also_claimed_by = sorted({other for c in m.candidates for other in claims[c.id]
                                    if other != m.resource.name})
    return matches


# -- downtimes -------------------------------------------------------------------------

def _recurrence_set(recurrences: list[dict]) -> frozenset[tuple[str, str]]:
    return frozenset((r.get("rrule", ""), r.get("duration", "")) for r in recurrences)


def downtime_relevance(attributes: dict, monitor_id: str | None, monitor_tags: set[str],
                       hosts: set[str]) -> str | None:
    """Why a v2 downtime concerns the stack: it mutes the adopted monitor (by id or by one
    of the tags the stack's monitor carries), or our hosts. None: not ours."""
    identifier = attributes.get("monitor_identifier") or {}
    if monitor_id is not None and str(identifier.get("monitor_id")) == monitor_id:
        return f"mutes monitor {monitor_id}"
    tags = set(identifier.get("monitor_tags") or []) & monitor_tags
    if tags:
        return "mutes monitors tagged " + ", ".join(sorted(tags))
    named = scoped_hosts(attributes.get("scope") or "", hosts)
    if named:
        return "scoped to " + ", ".join(f"host:{h}" for h in sorted(named))
    return None


def _past_start(schedule: dict, now: dt.datetime) -> str | None:
    """The first recurrence start earlier than `now`, as Datadog stores it (local time)."""
    zone = ZoneInfo(schedule.get("timezone") or "UTC")
    for recurrence in schedule.get("recurrences", []):
        start = recurrence.get("start")
        if not start:
            continue
        when = dt.datetime.fromisoformat(start)
        if (when if when.tzinfo else when.replace(tzinfo=zone)) < now:
            return start
    return None


def downtime_differences(attributes: dict, inputs: dict) -> list[str]:
    """The fields in which a downtime (API JSON attributes) differs from a schedule's plan
    inputs; recurrence starts aside (the stack ignores changes to them)."""
    schedule = attributes.get("schedule") or {}
    planned = inputs.get("recurringSchedule", {})
    pairs = [
        ("scope", attributes.get("scope"), inputs.get("scope")),
        ("message", attributes.get("message"), inputs.get("message")),
        ("display_timezone", attributes.get("display_timezone"), inputs.get("displayTimezone")),
        ("monitor_identifier", sorted((attributes.get("monitor_identifier") or {}).get("monitor_tags") or []),
         sorted(inputs.get("monitorIdentifier", {}).get("monitorTags") or [])),
        ("schedule.timezone", schedule.get("timezone"), planned.get("timezone")),
        ("schedule.recurrences", _recurrence_set(schedule.get("recurrences", [])),
         _recurrence_set(planned.get("recurrences", []))),
    ]
    return [name for name, have, want in pairs if have != want]


def classify_downtime(downtime: dict, now: dt.datetime, schedules: list[Resource]) -> Resource | str:
    """The stack schedule a v2 downtime (API JSON `data` item) is exactly, or why it cannot
    be adopted. Exactly: every input but the starts, so `pulumi up` after the import has
    nothing to update -- the stack never updates a schedule in place (components/downtimes.py:
    a change is a new schedule), and Datadog refuses any update while a start is in the past."""
    attributes = downtime.get("attributes", {})
    schedule = attributes.get("schedule") or {}
    if attributes.get("canceled") or attributes.get("status") in ("canceled", "ended"):
        return f"{attributes.get('status') or 'canceled'}: nothing to adopt"
    if not schedule.get("recurrences"):
        return "a one-time downtime: the stack's schedules recur weekly"
    differences = [(s, downtime_differences(attributes, s.inputs)) for s in schedules]
    exact = [s for s, fields in differences if not fields]
    if len(exact) == 1:
        return exact[0]
    near = [(s, fields) for s, fields in differences if "schedule.recurrences" not in fields]
    if near:
        reason = (f"differs from {near[0][0].name} in {', '.join(near[0][1])}: adopting it would "
                  "need an in-place update, which the stack's schedules never get")
    else:
        reason = "its recurrences are none of the stack's schedules: mapping it onto one would be a guess"
    past = _past_start(schedule, now)
    if past:
        reason += (f"; its start {past} is in the past, and Datadog refuses any update then "
                   "(\"Scheduled downtime start cannot be in the past\")")
    return reason


def replacement_text(schedules: list[Resource]) -> str:
    names = ", ".join(s.name for s in schedules)
    return f"the stack creates {names}; cancel this downtime after `pulumi up`"


# -- the import file -------------------------------------------------------------------

def import_document(matches: list[Match], adopted_downtimes: list[tuple[Resource, str]]) -> dict:
    """Pulumi's `pulumi import --file` document: each matched object under the stack's own
    resource name, type and parent component. In the file a component is `<name>-component`
    with `logicalName` <name>, an entry name no resource of the stack takes; `component: true` has the import create that (empty) parent, which the program then
    registers under the same URN."""
    pairs = [(m.resource, m.candidates[0].id) for m in matches if m.status == "matched"]
    pairs += adopted_downtimes
    entries: list[dict] = []
    components: dict[str, str] = {}
    for resource, object_id in pairs:
        entry = {"type": resource.type, "name": resource.name, "id": object_id}
        if resource.parent:
            ref = f"{resource.parent}-component"
            if ref not in components:
                components[ref] = resource.parent
                entries.append({"type": resource.parent_type, "name": ref,
                                "logicalName": resource.parent, "component": True})
            entry["parent"] = ref
        entries.append(entry)
    return {"resources": entries}
