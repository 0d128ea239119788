"""The datadog-stack standards as pure functions, with no Pulumi import: `__main__.py` wires
them into a `pulumi_policy.PolicyPack`, and the unit tests call them directly with plain dicts.

- per resource, `(resource_type, props) -> [violation messages]` (STANDARDS, `violations`);
- per stack, `[(name, parent, props), ...] -> [violation messages]` over every resource of one
  type (STACK_STANDARDS, `stack_violations`): remote deployments, whose delete step lives on
  one command of each component rather than on every command.

`props` are the engine's view of a resource's inputs, keyed by the wire (camelCase) names of
the provider schema, as the `@pulumi.getter(name=...)` decorators of the Python SDKs show:

- `datadog:index/monitor:Monitor`: `message`, `notifyNoData`, `query`, `type`,
  `monitorThresholds: {warning, critical, warningRecovery, criticalRecovery}` (thresholds
  are strings in the schema: "500").
- `datadog:index/downtimeSchedule:DowntimeSchedule`: `scope`,
  `monitorIdentifier: {monitorId | monitorTags}`.
- `datadog:index/dashboard:Dashboard`: `title`, `widgets`.
- `command:remote:Command`: `create`, `delete`.

Values that the engine cannot know yet (during `pulumi preview`, e.g. a downtime's
`monitorId` taken from a monitor that does not exist yet) are treated as set but not
judged: the same policy runs again with real values during `pulumi up`. They show up either
as pulumi_policy's unknown-checking proxy raising `UnknownValueError` on access, or as the
engine's raw unknown sentinel strings; `_peek` handles both.
"""
from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple

MONITOR = "datadog:index/monitor:Monitor"
DOWNTIME_SCHEDULE = "datadog:index/downtimeSchedule:DowntimeSchedule"
DASHBOARD = "datadog:index/dashboard:Dashboard"
REMOTE_COMMAND = "command:remote:Command"

# The engine's wire sentinels for values unknown during preview (pulumi's resource protocol;
# pulumi_policy.proxy lists the same ones).
_UNKNOWN_SENTINELS = frozenset(
    {
        "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7",  # boolean
        "3eeb2bf0-c639-47a8-9e75-3b44932eb421",  # number
        "04da6b54-80e4-46f7-96ec-b56ff0331ba9",  # string
        "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2",  # array
        "030794c1-ac77-496b-92df-f27374a8bd58",  # asset
        "e48ece36-62e2-4504-bad9-02848725956a",  # archive
        "dd056dcd-154b-4c76-9bd3-c8f88648b5ff",  # object
    }
)


class _Marker:
    def __init__(self, name: str):
        self._name = name

    def __repr__(self) -> str:
        return self._name


MISSING = _Marker("MISSING")  # the key is absent (or null)
COMPUTED = _Marker("COMPUTED")  # the key is set, to a value known only after `up`


def _peek(props: Any, key: str) -> Any:
    """props[key], MISSING, or COMPUTED; never raises for an unknown value."""
    if not isinstance(props, Mapping):
        return MISSING
    # Iterate the keys rather than `key in props`: Mapping.__contains__ reads the value,
    # which pulumi_policy's proxy turns into UnknownValueError for an unknown one.
    if key not in list(iter(props)):
        return MISSING
    try:
        value = props[key]
    except KeyError:
        return MISSING
    except Exception as error:  # pulumi_policy.proxy.UnknownValueError, not imported here
        if type(error).__name__ == "UnknownValueError":
            return COMPUTED
        raise
    if value is None:
        return MISSING
    if isinstance(value, str) and value in _UNKNOWN_SENTINELS:
        return COMPUTED
    return value


def _is_sequence(value: Any) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, (str, bytes))


def _items(seq: Any) -> List[Any]:
    """The elements of a sequence, each unknown one as COMPUTED."""
    out = []
    for index in range(len(seq)):
        try:
            item = seq[index]
        except Exception as error:
            if type(error).__name__ == "UnknownValueError":
                out.append(COMPUTED)
                continue
            raise
        out.append(COMPUTED if isinstance(item, str) and item in _UNKNOWN_SENTINELS else item)
    return out


# ---------------------------------------------------------------------------------------------
# Monitors

# A Datadog notification handle: `@ops@example.com`, `@slack-alerts`, `@pagerduty-db`,
# `@webhook-x`, `@team-y`. The `@` must start a token, so a bare `ops@example.com` is no handle.
_HANDLE = re.compile(r"(?:^|[\s(\[{,;:'\"])@[A-Za-z0-9_][A-Za-z0-9_.%+@-]*")
# The comparison that closes a metric/query alert: `avg(last_5m):avg:my_metric{*} > 800`.
_COMPARATOR = re.compile(r"(>=|<=|>|<)\s*(-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)\s*$")


def monitor_notifies(resource_type: str, props: Mapping[str, Any]) -> List[str]:
    """A monitor notifies at least one @-handle and alerts on missing data (notifyNoData)."""
    if resource_type != MONITOR:
        return []
    problems = []
    message = _peek(props, "message")
    if message is not COMPUTED:
        if not isinstance(message, str) or not _HANDLE.search(message):
            problems.append(
                "monitor message notifies no one: add an @-handle (e.g. @ops@example.com) to `message`"
            )
    notify_no_data = _peek(props, "notifyNoData")
    if notify_no_data is not COMPUTED and notify_no_data is not True:
        problems.append("monitor does not alert on missing data: set `notifyNoData` to true")
    return problems


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def monitor_thresholds_ordered(resource_type: str, props: Mapping[str, Any]) -> List[str]:
    """Warning fires before critical: below it for `>`/`>=` queries, above it for `<`/`<=`."""
    if resource_type != MONITOR:
        return []
    query = _peek(props, "query")
    thresholds = _peek(props, "monitorThresholds")
    if query is COMPUTED or thresholds is COMPUTED or not isinstance(query, str):
        return []
    match = _COMPARATOR.search(query)
    if match is None or not isinstance(thresholds, Mapping):
        return []  # not a threshold query, or no thresholds to order
    warning = _peek(thresholds, "warning")
    critical = _peek(thresholds, "critical")
    if warning in (MISSING, COMPUTED) or critical in (MISSING, COMPUTED):
        return []
    warn, crit = _number(warning), _number(critical)
    problems = []
    if warn is None:
        problems.append(f"monitor warning threshold {warning!r} is not a number")
    if crit is None:
        problems.append(f"monitor critical threshold {critical!r} is not a number")
    if problems:
        return problems
    comparator = match.group(1)
    if comparator.startswith(">") and not warn < crit:
        return [
            f"monitor warning threshold ({warning}) must be below the critical one ({critical}) "
            f"for a `{comparator}` query"
        ]
    if comparator.startswith("<") and not warn > crit:
        return [
            f"monitor warning threshold ({warning}) must be above the critical one ({critical}) "
            f"for a `{comparator}` query"
        ]
    return []


# Datadog leaves a state once the value passes the recovery threshold: `<=` it for a `>`
# alert, `<` for `>=`, `>=` for `<`, `>` for `<=` (docs: monitors/guide/recovery-thresholds).
# So the recovery threshold sits on the far side of its alert threshold: below it for `>`/`>=`,
# above it for `<`/`<=`. At the threshold it would change nothing; beyond it the monitor would
# "recover" while still alerting.
_RECOVERIES = (("warning", "warningRecovery"), ("critical", "criticalRecovery"))


def monitor_recovery_consistent(resource_type: str, props: Mapping[str, Any]) -> List[str]:
    """Each recovery threshold has its alert threshold and lies on the recovering side of it."""
    if resource_type != MONITOR:
        return []
    query = _peek(props, "query")
    thresholds = _peek(props, "monitorThresholds")
    if not isinstance(query, str) or not isinstance(thresholds, Mapping):
        return []  # unknown during preview, or nothing to judge
    match = _COMPARATOR.search(query)
    if match is None:
        return []
    comparator = match.group(1)
    problems = []
    for level, key in _RECOVERIES:
        recovery, threshold = _peek(thresholds, key), _peek(thresholds, level)
        if level == "critical" and threshold is MISSING:
            threshold = match.group(2)  # the query's own number is the critical threshold
        if recovery in (MISSING, COMPUTED) or threshold is COMPUTED:
            continue
        problems.extend(_recovery_problems(comparator, level, threshold, key, recovery))
    return problems


def _recovery_problems(comparator: str, level: str, threshold: Any, key: str,
                       recovery: Any) -> List[str]:
    if threshold is MISSING:
        return [f"monitor {key} ({recovery}) is set without a {level} threshold to recover from"]
    rec, limit = _number(recovery), _number(threshold)
    if rec is None:
        return [f"monitor {key} {recovery!r} is not a number"]
    if limit is None:
        return []  # monitor-warning-before-critical reports it
    side, ok = ("below", rec < limit) if comparator.startswith(">") else ("above", rec > limit)
    if ok:
        return []
    return [f"monitor {key} ({recovery}) must be {side} the {level} threshold ({threshold}) "
            f"for a `{comparator}` query (at it the recovery threshold does nothing, beyond it "
            "the monitor recovers while still alerting)"]


# ---------------------------------------------------------------------------------------------
# Downtimes


def downtime_scoped_to_monitors(resource_type: str, props: Mapping[str, Any]) -> List[str]:
    """A downtime silences named monitors (monitorId, or monitorTags without `*`), never all."""
    if resource_type != DOWNTIME_SCHEDULE:
        return []
    identifier = _peek(props, "monitorIdentifier")
    if identifier is COMPUTED:
        return []
    if isinstance(identifier, Mapping):
        monitor_id = _peek(identifier, "monitorId")
        if monitor_id is COMPUTED:
            return []  # e.g. a monitor's id before the monitor exists
        if monitor_id is not MISSING and monitor_id not in ("", 0):
            return []
        tags = _peek(identifier, "monitorTags")
        if tags is COMPUTED:
            return []
        if _is_sequence(tags) and len(tags) > 0:
            wild = [t for t in _items(tags) if isinstance(t, str) and "*" in t]
            if wild:
                return [
                    f"downtime monitorTags {wild} contain `*` and would silence every monitor: "
                    "name the monitors' tags exactly, or use monitorId"
                ]
            return []
    return [
        "downtime is not scoped to monitors: set `monitorIdentifier.monitorId`, or "
        "`monitorIdentifier.monitorTags` without `*`"
    ]


# ---------------------------------------------------------------------------------------------
# Dashboards


def dashboard_has_content(resource_type: str, props: Mapping[str, Any]) -> List[str]:
    """A dashboard has a non-blank title and at least one widget."""
    if resource_type != DASHBOARD:
        return []
    problems = []
    title = _peek(props, "title")
    if title is not COMPUTED and (not isinstance(title, str) or not title.strip()):
        problems.append("dashboard has no title: set a non-empty `title`")
    widgets = _peek(props, "widgets")
    if widgets is not COMPUTED and (not _is_sequence(widgets) or len(widgets) == 0):
        problems.append("dashboard has no widgets: add at least one to `widgets`")
    return problems


# ---------------------------------------------------------------------------------------------
# Remote deployments (a stack-level standard)
#
# pulumi-command replaces a Command whose `triggers` change (its SDK adds
# replace_on_changes=["triggers[*]"]), creating the new one before deleting the old. A delete
# step on a content-triggered command would therefore undo the fresh install right after it
# ran. So a component that deploys to a host splits its commands: one `-teardown` command,
# whose inputs never follow the content, carries the delete step; the content-triggered
# ones (`-bundle`, `-install`, `-smoke`, ...) have none. The standard is about the deployment,
# not each command: every remote deployment is undone by `pulumi destroy`.

# (command name, parent component's key or None, props): the parent is None for a command
# declared at the top of the program (its parent is the stack itself).
RemoteCommand = Tuple[str, Optional[str], Mapping[str, Any]]


def _has_delete(props: Mapping[str, Any]) -> bool:
    delete = _peek(props, "delete")
    if delete is COMPUTED:
        return True  # known during `up`, judged then
    return isinstance(delete, str) and bool(delete.strip())


def _unseen(props: Any) -> bool:
    """No properties at all: with `--target`, the engine hands the stack policy every
    untargeted resource with empty properties (seen running `pulumi up --target` through
    the real engine, issue 13). Nothing about such a command can be judged."""
    return isinstance(props, Mapping) and not list(iter(props))


def remote_deploys_have_delete(commands: Iterable[RemoteCommand]) -> List[str]:
    """Every remote deployment has a delete step, so `pulumi destroy` undoes it.

    Commands sharing a parent are one component's deployment to its host: at least one of
    them needs a non-empty `delete`. A command with no parent component is a deployment of
    its own and needs its own `delete`. Only what can be seen is judged: a command handed
    over without properties (untargeted) is skipped, and so is a component with one.
    """
    by_parent: Dict[str, List[str]] = {}
    undone: Dict[str, bool] = {}
    unseen: set = set()
    problems: List[str] = []
    for name, parent, props in commands:
        if _unseen(props):
            if parent is not None:
                unseen.add(parent)  # the unseen one may be the command with the delete step
            continue
        if parent is None:
            if not _has_delete(props):
                problems.append(
                    f"remote command {name} has no delete step: set `delete` so "
                    "`pulumi destroy` undoes what `create` did on the host"
                )
            continue
        by_parent.setdefault(parent, []).append(name)
        undone[parent] = undone.get(parent, False) or _has_delete(props)
    for parent, names in by_parent.items():
        if not undone[parent] and parent not in unseen:
            problems.append(
                f"component {parent} deploys to a host with remote commands "
                f"({', '.join(names)}) but none has a delete step, so `pulumi destroy` leaves "
                "the deployment on the host: set `delete` on one command whose inputs never "
                "follow the content (e.g. a `-teardown` command), not on a triggered one"
            )
    return problems


# ---------------------------------------------------------------------------------------------
# The catalogues that __main__ turns into the policy pack: per-resource standards become
# ResourceValidationPolicy, stack-level ones StackValidationPolicy.

Check = Callable[[str, Mapping[str, Any]], List[str]]
# A stack check sees every resource of `resource_type`, as (name, parent key or None, props).
StackCheck = Callable[[Sequence[RemoteCommand]], List[str]]


@dataclass(frozen=True)
class Standard:
    name: str  # the policy's id in the pack: lowercase, dashes
    description: str
    resource_type: str
    check: Check


@dataclass(frozen=True)
class StackStandard:
    name: str  # the policy's id in the pack: lowercase, dashes
    description: str
    resource_type: str  # the resources the check is given; the others are not its business
    check: StackCheck


STANDARDS: tuple[Standard, ...] = (
    Standard(
        "monitor-notifies-and-alerts-on-no-data",
        "Every monitor notifies at least one @-handle and alerts on missing data (notifyNoData).",
        MONITOR,
        monitor_notifies,
    ),
    Standard(
        "monitor-warning-before-critical",
        "A monitor's warning threshold is below its critical one for > / >= queries, "
        "above it for < / <= queries.",
        MONITOR,
        monitor_thresholds_ordered,
    ),
    Standard(
        "monitor-recovery-beyond-threshold",
        "A monitor's recovery thresholds (warningRecovery, criticalRecovery) have their alert "
        "threshold and lie below it for > / >= queries, above it for < / <= queries.",
        MONITOR,
        monitor_recovery_consistent,
    ),
    Standard(
        "downtime-scoped-to-monitors",
        "Downtimes silence named monitors (monitorId, or monitorTags without *), never all of them.",
        DOWNTIME_SCHEDULE,
        downtime_scoped_to_monitors,
    ),
    Standard(
        "dashboard-has-title-and-widgets",
        "Dashboards have a non-empty title and at least one widget.",
        DASHBOARD,
        dashboard_has_content,
    ),
)

STACK_STANDARDS: tuple[StackStandard, ...] = (
    StackStandard(
        "remote-deploy-has-delete",
        "Every remote deployment is undone by `pulumi destroy`: of the remote commands "
        "(command:remote:Command) one component runs, at least one has a delete step; a "
        "command outside any component has its own.",
        REMOTE_COMMAND,
        remote_deploys_have_delete,
    ),
)


def violations(resource_type: str, props: Mapping[str, Any]) -> List[str]:
    """Every per-resource standard's messages for one resource, in catalogue order."""
    found: List[str] = []
    for standard in STANDARDS:
        found.extend(standard.check(resource_type, props))
    return found


def stack_violations(resources: Iterable[Mapping[str, Any]]) -> List[str]:
    """Every stack-level standard's messages for a whole stack, in catalogue order.

    `resources` are the offline plan's resource dicts (`python -m tools.plan --json`):
    {type, name, parent (the parent component's name, None at top level), inputs}.
    """
    resources = list(resources)
    found: List[str] = []
    for standard in STACK_STANDARDS:
        found.extend(standard.check([
            (r["name"], r.get("parent"), r.get("inputs") or {})
            for r in resources
            if r["type"] == standard.resource_type
        ]))
    return found
