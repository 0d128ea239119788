"""The catalog: the team's own monitors and dashboards, as Datadog exports them.

Pure functions over file texts. `objects(files, values)` turns each `monitors/*.json` and
`dashboards/*.json` of the catalog directory (whatever shape Datadog produced it in: the
UI's export, a `GET /api/v1/monitor/{id}` or `GET /api/v1/dashboard/{id}` body,
integrations-core's recommended-monitor wrapper, an integration dashboard) into the API
body the stack sends through pulumi-datadog's `MonitorJson` / `DashboardJson`, or raises
`CatalogError` naming the file and the JSON path. Each normalisation rule below cites
where it comes from; `provider_config`/`provider_state` reproduce the diff that
terraform-provider-datadog (the upstream of pulumi-datadog 5.8.0, commit c17cf16) computes
for those resources, so tests can prove that a catalog file round-trips with no diff.

Placeholders scope a shared object to the stack: `<<stack.NAME>>` (see PLACEHOLDERS).
`<<`/`>>` appear in none of Datadog's syntaxes: message variables are `{{var}}`, dashboard
template variables `$var`, notification handles `@name`, and queries compare with a single
`<`/`>`; so Datadog's own variables pass through untouched.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from domain import ConfigError

MONITOR, DASHBOARD = "monitor", "dashboard"
DIRECTORIES = {"monitors": MONITOR, "dashboards": DASHBOARD}
# pulumi-datadog's JSON resources (Pulumi type tokens), one per kind.
RESOURCE_TYPES = {MONITOR: "datadog:index/monitorJson:MonitorJson",
                  DASHBOARD: "datadog:index/dashboardJson:DashboardJson"}
# A catalog file's stem names its resource: what a Pulumi name and a file name share.
_STEM = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")

# -- placeholders -----------------------------------------------------------------------
PLACEHOLDERS = {
    "env": "the stack's env tag value (datadog-stack:env)",
    "name": "the stack's name",
    "hosts": "the stack's hosts as a Datadog scope: host:a or host:(a OR b); in a fleet's "
             "account stack, its fleet tag (rules/fleet.py)",
    "notify": "the stack's notify handle (datadog-stack:notify), e.g. @ops@example.com",
    "downtimeTag": "the tag the off-hours downtimes mute monitors by",
}
_PLACEHOLDER = re.compile(r"<<stack\.([^<>]*)>>")
_OPENING = "<<stack."

# -- server-side fields -----------------------------------------------------------------
# Fields Datadog computes: the provider drops them before comparing (resource_datadog_
# monitor_json.go:19-39, monitorComputedFields), so the catalog never sends them either.
MONITOR_COMPUTED = ("id", "author_handle", "author_name", "classification", "created", "creator",
                    "created_at", "deleted", "modified", "modified_at", "multi", "org_id",
                    "overall_state", "overall_state_modified", "url", "draft_status",
                    "restricted", "run_as")
# ... and in a monitor list's items (TestAccDatadogMonitorDatasource.yaml: matching_downtimes).
MONITOR_LISTED = ("matching_downtimes",)
# resource_datadog_dashboard_json.go:21 (computedFields).
DASHBOARD_COMPUTED = ("id", "author_handle", "author_name", "created_at", "modified_at", "url")
# Option values that are numbers in the API (datadog-api-client 2.62 v1 MonitorOptions and
# MonitorThresholds; Datadog's API reference, "Create a monitor"). integrations-core's
# recommended monitors write some as strings ("renotify_interval": "0").
MONITOR_INTEGER_OPTIONS = ("evaluation_delay", "min_failure_duration", "min_location_failed",
                           "new_group_delay", "new_host_delay", "no_data_timeframe",
                           "renotify_interval", "renotify_occurrences", "timeout_h")
THRESHOLD_KEYS = ("critical", "critical_recovery", "ok", "unknown", "warning", "warning_recovery")
MONITOR_BOOLEAN_OPTIONS = ("enable_logs_sample", "enable_samples", "groupby_simple_monitor",
                           "include_tags", "locked", "notify_audit", "notify_no_data",
                           "require_full_window")
# Options Datadog fills in when a create leaves them out, as its answers show: the provider
# keeps them in state, so a file without them would differ on every preview.
# notify_audit: false in 49 recorded answers to POST /api/v1/monitor that did not send it
# (e.g. TestAccDatadogMonitor_Basic.yaml); include_tags: true and notify_no_data: false are
# the API reference's defaults (MonitorOptions).
MONITOR_OPTION_DEFAULTS = {"notify_audit": False, "include_tags": True, "notify_no_data": False}
# by monitor type: TestAccDatadogMonitor_LogMultiAlert.yaml and ..._RumAlert* answer
# groupby_simple_monitor: false; ..._DataQuality_* answer avalanche_window: 10.
TYPE_OPTION_DEFAULTS = {"log alert": {"groupby_simple_monitor": False},
                        "rum alert": {"groupby_simple_monitor": False},
                        "data-quality alert": {"avalanche_window": 10}}
# A metric or query alert sent without thresholds.critical is answered with the query's own
# threshold (TestAccDatadogMonitor_BasicNoTreshold.yaml: `"thresholds": {}` sent for
# "... > 2", `{"critical": 2.0}` answered).
QUERY_THRESHOLD_TYPES = ("metric alert", "query alert")
_QUERY_THRESHOLD = re.compile(r"(?:>=|<=|>|<|==|!=)\s*(-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)\s*$")
DASHBOARD_LAYOUTS = ("ordered", "free")


class CatalogError(ConfigError):
    """A bad catalog file: names the file, and the JSON path when there is one."""

    def __init__(self, file: str, problem: str, path: str | None = None):
        super().__init__(f"{file} at {path}" if path else file, problem)
        self.file, self.path = file, path


@dataclass(frozen=True)
class CatalogObject:
    kind: str  # MONITOR | DASHBOARD
    file: str  # relative to the catalog directory: monitors/<stem>.json
    body: dict  # the API body, normalised, placeholders replaced

    @property
    def name(self) -> str:
        """The resource name: the kind and the file's stem (`monitor-postgres-connections`)."""
        return f"{self.kind}-{self.file.rsplit('/', 1)[-1].removesuffix('.json')}"

    @property
    def text(self) -> str:
        """The body as the resource's JSON input: keys sorted, so the same file and config
        always give the same input."""
        return canonical(self.body)


def canonical(body: Any) -> str:
    return json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def placeholder_values(stack: str, env: str, host_scope: str, notify: str,
                       downtime_tag: str) -> dict[str, str]:
    """The value of each of PLACEHOLDERS for one stack."""
    return {"env": env, "name": stack, "hosts": host_scope, "notify": notify,
            "downtimeTag": downtime_tag}


# -- reading files ------------------------------------------------------------------------

def kind_of(file: str, label: str | None = None) -> str:
    """monitors/x.json -> MONITOR; any other place in the catalog is a mistake. `label`
    names the file in errors (the catalog directory and the file)."""
    label = label or file
    directory, _, name = file.rpartition("/")
    if directory not in DIRECTORIES or not name.endswith(".json"):
        raise CatalogError(label, "is not in monitors/ or dashboards/: a catalog file is "
                           "monitors/<name>.json or dashboards/<name>.json")
    if not _STEM.match(name.removesuffix(".json")):
        raise CatalogError(label, "has a name that cannot name a resource: use letters, digits, "
                           ". _ and -, starting with a letter or digit")
    return DIRECTORIES[directory]


def parse(file: str, text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:  # what json.loads raises for any text it cannot read
        raise CatalogError(file, f"is not JSON: {error.msg} (line {error.lineno}, column "
                                 f"{error.colno})") from None


def objects(files: Mapping[str, str], values: Mapping[str, str],
            directory: str = "catalog") -> tuple[CatalogObject, ...]:
    """Every catalog file (path relative to `directory` -> text), sorted by path, as the
    object the stack declares; errors name `directory/path`."""
    out = []
    for file in sorted(files):
        label = f"{directory.rstrip('/')}/{file}"
        kind = kind_of(file, label)
        raw = parse(label, files[file])
        body = normalise_monitor(label, raw) if kind == MONITOR else normalise_dashboard(label, raw)
        body = substitute(label, body, values)
        if kind == MONITOR:
            # Sorted again once the placeholders are filled: "<<stack.downtimeTag>>" sorts
            # first, its value need not, and Datadog answers the tags sorted (a real-engine
            # preview --diff showed catalog/monitors/agent-up.json updating on every up).
            body["tags"] = sorted(body["tags"])
        out.append(CatalogObject(kind, file, body))
    _no_duplicates(out, files, directory.rstrip("/"))
    return tuple(out)


def _no_duplicates(found: list[CatalogObject], files: Mapping[str, str], directory: str) -> None:
    """Two files for one object: the same Datadog id (exports carry it) or the same body."""
    seen_ids: dict[tuple[str, str], str] = {}
    seen_bodies: dict[str, str] = {}
    for obj in found:
        raw = json.loads(files[obj.file])
        raw_id = raw.get("id") if isinstance(raw, dict) else None
        if raw_id is not None:
            other = seen_ids.setdefault((obj.kind, str(raw_id)), obj.file)
            if other != obj.file:
                raise CatalogError(f"{directory}/{obj.file}", f"is the same {obj.kind} as "
                                   f"{directory}/{other} (both have id "
                                   f"{raw_id}): keep one file", "$.id")
        other = seen_bodies.setdefault(obj.kind + obj.text, obj.file)
        if other != obj.file:
            raise CatalogError(f"{directory}/{obj.file}", f"is the same {obj.kind} as "
                               f"{directory}/{other}: keep one file")


# -- checking shapes ------------------------------------------------------------------------

def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    # a boolean never gets here: _expect names it first, since bool is a subclass of int
    return {int: "a number", float: "a number", str: "a string", list: "a list",
            dict: "an object"}[type(value)]


def _expect(file: str, path: str, value: Any, types: tuple, what: str) -> None:
    if isinstance(value, bool) and bool not in types:
        raise CatalogError(file, f"must be {what}, not a boolean", path)
    if not isinstance(value, types):
        raise CatalogError(file, f"must be {what}, not {_type_name(value)}", path)


def _number(file: str, path: str, value: Any, integer: bool) -> Any:
    """A number, or a string holding one (integrations-core's `"renotify_interval": "0"`),
    as the API's type; null stays null."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            raise CatalogError(file, f"{value!r} is not a number", path) from None
        value = int(number) if number.is_integer() else number
    _expect(file, path, value, (int, float), "a number")
    if integer:
        if value != int(value):
            raise CatalogError(file, f"{value!r} is not a whole number", path)
        return int(value)
    return value


def _boolean(file: str, path: str, value: Any) -> Any:
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    if value is not None:
        _expect(file, path, value, (bool,), "true or false")
    return value


def _strings(file: str, path: str, value: Any) -> None:
    _expect(file, path, value, (list,), "a list of strings")
    for i, item in enumerate(value):
        _expect(file, f"{path}[{i}]", item, (str,), "a string")


# -- monitors -------------------------------------------------------------------------------

def unwrap_monitor(file: str, raw: Any) -> dict:
    """A recommended monitor (integrations-core assets/monitors/*.json: `{"version", "title",
    "description", "definition": {...}}`) is its `definition`; anything else is the monitor."""
    _expect(file, "$", raw, (dict,), "a JSON object (a monitor)")
    if "definition" in raw and "query" not in raw:
        _expect(file, "$.definition", raw["definition"], (dict,), "an object (the monitor)")
        return raw["definition"]
    return raw


def normalise_monitor(file: str, raw: Any) -> dict:
    monitor = unwrap_monitor(file, raw)
    base = "$.definition" if monitor is not raw else "$"
    if "layout_type" in monitor or "widgets" in monitor:
        raise CatalogError(file, "is a dashboard, not a monitor: move it to dashboards/")
    for key in ("name", "type", "query"):
        if key not in monitor:
            raise CatalogError(file, f"is not a monitor: it has no {key!r}", base)
        _expect(file, f"{base}.{key}", monitor[key], (str,), "a string")
    body = {k: v for k, v in monitor.items() if k not in MONITOR_COMPUTED + MONITOR_LISTED}
    # The provider trims name and message before comparing (resource_datadog_monitor_json.go:
    # 81-90) but keeps Datadog's answer as it comes: trimmed here, both sides agree.
    body["name"] = body["name"].strip()
    message = body.get("message", "")
    _expect(file, f"{base}.message", message, (str,), "a string")
    body["message"] = message.strip()
    # An absent tags list is answered [] (one recorded POST /api/v1/monitor answer adds it).
    # Sent sorted, as every recorded request sends them, so the answer's order cannot differ.
    tags = body.get("tags") or []
    _strings(file, f"{base}.tags", tags)
    body["tags"] = sorted(tags)
    # Absent priority is answered null (TestAccDatadogMonitor_* POST answers).
    body["priority"] = _priority(file, f"{base}.priority", body.get("priority"))
    # restricted_roles null and restriction_policy are not part of the monitor: the provider
    # drops a null restricted_roles and reads restriction_policy only when the JSON has it
    # (resource_datadog_monitor_json.go:92-99, 137-140); a policy is its own resource
    # (datadog_restriction_policy). assets: the provider asks for them only when the JSON
    # has them (:142-145), and GET answers [] otherwise (TestAccDatadogMonitorJSONBasic.yaml).
    if body.get("restricted_roles") is None:
        body.pop("restricted_roles", None)
    else:
        _strings(file, f"{base}.restricted_roles", body["restricted_roles"])
    body.pop("restriction_policy", None)
    if not body.get("assets"):
        body.pop("assets", None)
    body["options"] = _monitor_options(file, f"{base}.options", body["type"], body["query"],
                                       body.get("options"))
    return body


def _priority(file: str, path: str, value: Any) -> Any:
    value = _number(file, path, value, integer=True)
    if value is not None and not 1 <= value <= 5:
        raise CatalogError(file, f"{value} is outside 1-5", path)
    return value


def _monitor_options(file: str, path: str, monitor_type: str, query: str, options: Any) -> dict:
    options = {} if options is None else options
    _expect(file, path, options, (dict,), "an object")
    out = dict(options)
    # options.silenced is computed (monitorComputedFields): muting belongs to downtimes.
    out.pop("silenced", None)
    for key in MONITOR_INTEGER_OPTIONS:
        if key in out:
            out[key] = _number(file, f"{path}.{key}", out[key], integer=True)
    for key in MONITOR_BOOLEAN_OPTIONS:
        if key in out:
            out[key] = _boolean(file, f"{path}.{key}", out[key])
    if "thresholds" in out:
        _expect(file, f"{path}.thresholds", out["thresholds"], (dict,), "an object")
        out["thresholds"] = {
            k: (_number(file, f"{path}.thresholds.{k}", v, integer=False) if k in THRESHOLD_KEYS else v)
            for k, v in out["thresholds"].items()}
    for key, value in {**MONITOR_OPTION_DEFAULTS, **TYPE_OPTION_DEFAULTS.get(monitor_type, {})}.items():
        out.setdefault(key, value)
    threshold = _QUERY_THRESHOLD.search(query.strip()) if monitor_type in QUERY_THRESHOLD_TYPES else None
    if threshold and "critical" not in (out.get("thresholds") or {}):
        number = float(threshold[1])
        out["thresholds"] = {**(out.get("thresholds") or {}),
                             "critical": int(number) if number.is_integer() else number}
    return out


# -- dashboards -------------------------------------------------------------------------

def normalise_dashboard(file: str, raw: Any) -> dict:
    _expect(file, "$", raw, (dict,), "a JSON object (a dashboard)")
    if "query" in raw or "definition" in raw:
        raise CatalogError(file, "is a monitor, not a dashboard: move it to monitors/")
    for key in ("title", "layout_type", "widgets"):
        if key not in raw:
            raise CatalogError(file, f"is not a dashboard: it has no {key!r}", "$")
    _expect(file, "$.title", raw["title"], (str,), "a string")
    if raw["layout_type"] not in DASHBOARD_LAYOUTS:
        raise CatalogError(file, f"{raw['layout_type']!r} is not a layout "
                           f"({', '.join(DASHBOARD_LAYOUTS)})", "$.layout_type")
    _widgets(file, "$.widgets", raw["widgets"])
    body = {k: v for k, v in raw.items() if k not in DASHBOARD_COMPUTED}
    # is_read_only is no longer accepted: the provider strips it before sending
    # (resource_datadog_dashboard_json.go:112-114) and compares it as false (:333-342).
    body.pop("is_read_only", None)
    # The UI's export carries "pause_auto_refresh": false, which the API does not answer
    # (terraform-provider-datadog PR #4256, issue #2956; integrations-core PR #23681).
    if body.get("pause_auto_refresh") is False:
        del body["pause_auto_refresh"]
    # An absent description is answered null (27 recorded POST /api/v1/dashboard answers).
    body.setdefault("description", None)
    # Every recorded create sends notify_list and template_variables and gets them back
    # (178 POST /api/v1/dashboard in TestAccDatadogDashboard*.yaml); none records leaving
    # them out, so the catalog sends the empty list an export without them means.
    body.setdefault("notify_list", [])
    body.setdefault("template_variables", [])
    if body["description"] is not None:
        _expect(file, "$.description", body["description"], (str,), "a string or null")
    for key in ("template_variables", "template_variable_presets"):
        if key in body:
            _expect(file, f"$.{key}", body[key], (list,), "a list")
    if "notify_list" in body:
        _strings(file, "$.notify_list", body["notify_list"])
    return body


def _widgets(file: str, path: str, widgets: Any) -> None:
    _expect(file, path, widgets, (list,), "a list of widgets")
    for i, widget in enumerate(widgets):
        where = f"{path}[{i}]"
        _expect(file, where, widget, (dict,), "an object (a widget)")
        definition = widget.get("definition")
        _expect(file, f"{where}.definition", definition, (dict,), "an object")
        _expect(file, f"{where}.definition.type", definition.get("type"), (str,), "a string")
        if definition["type"] == "group":
            _widgets(file, f"{where}.definition.widgets", definition.get("widgets"))


# -- placeholders -------------------------------------------------------------------------

def substitute(file: str, body: Any, values: Mapping[str, str], path: str = "$") -> Any:
    """Replace `<<stack.NAME>>` in every string value; an unknown NAME fails with its path."""
    if isinstance(body, dict):
        return {k: substitute(file, v, values, f"{path}.{k}") for k, v in body.items()}
    if isinstance(body, list):
        return [substitute(file, v, values, f"{path}[{i}]") for i, v in enumerate(body)]
    if not isinstance(body, str) or _OPENING not in body:
        return body

    def replace(match: re.Match) -> str:
        name = match[1]
        if name not in values:
            raise CatalogError(file, f"<<stack.{name}>> is not a placeholder (known: "
                               f"{', '.join(f'<<stack.{n}>>' for n in PLACEHOLDERS)})", path)
        return values[name]

    out = _PLACEHOLDER.sub(replace, body)
    if _OPENING in out:
        raise CatalogError(file, "has an unterminated <<stack.…>> placeholder", path)
    return out


# -- the provider's diff --------------------------------------------------------------------

def provider_config(kind: str, body: dict) -> dict:
    """What the provider compares on the config side (the `monitor`/`dashboard` StateFunc)."""
    body = json.loads(json.dumps(body))
    if kind == DASHBOARD:
        return _prep_dashboard(body)
    _drop_computed(body)  # resource_datadog_monitor_json.go:77-80
    for key in ("name", "message"):  # :81-90
        if isinstance(body.get(key), str):
            body[key] = body[key].strip()
    for key in ("restricted_roles", "restriction_policy"):  # :94-99
        if key in body and body[key] is None:
            del body[key]
    return body


def provider_state(kind: str, answer: dict, config: dict) -> dict:
    """What the provider keeps in state from Datadog's answer (Create/Read/Update)."""
    answer = json.loads(json.dumps(answer))
    if kind == DASHBOARD:
        return _prep_dashboard(answer)  # resource_datadog_dashboard_json.go:264-282
    _drop_computed(answer)  # resource_datadog_monitor_json.go:238-241
    for key in ("restricted_roles", "restriction_policy"):  # :245-250
        if key in answer and answer[key] is None:
            del answer[key]
    if config.get("restricted_roles") is None:  # :258-261
        answer.pop("restricted_roles", None)
    if config.get("assets") is None:  # :266-268
        answer.pop("assets", None)
    return answer


def _drop_computed(monitor: dict) -> None:
    """monitorComputedFields, `options.silenced` included (utils.DeleteKeyInMap on a path)."""
    for field in MONITOR_COMPUTED:
        monitor.pop(field, None)
    if isinstance(monitor.get("options"), dict):
        monitor["options"].pop("silenced", None)


def read_query(kind: str, config: dict) -> str:
    """The query string of the provider's Read (resource_datadog_monitor_json.go:132-149)."""
    if kind == DASHBOARD:
        return ""
    params = [] if "restricted_roles" in config else ["with_restricted_roles=false"]
    params += ["with_restriction_policy=true"] if "restriction_policy" in config else []
    params += ["with_assets=true"] if "assets" in config else []
    return "?" + "&".join(params) if params else ""


def sent_body(kind: str, body: dict) -> dict:
    """The body the provider sends: a dashboard without is_read_only (stripDeprecatedFields,
    resource_datadog_dashboard_json.go:104-130); a monitor as written (:168-176)."""
    out = json.loads(json.dumps(body))
    if kind == DASHBOARD:
        out.pop("is_read_only", None)
    return out


def _prep_dashboard(board: dict) -> dict:
    """prepResource (resource_datadog_dashboard_json.go:284-351)."""
    for field in DASHBOARD_COMPUTED:
        board.pop(field, None)
    positions = {int(w["id"]): i + 1 for i, w in enumerate(board.get("widgets") or [])
                 if isinstance(w, dict) and isinstance(w.get("id"), (int, float))
                 and not isinstance(w.get("id"), bool)}
    for tab in board.get("tabs") or []:
        if isinstance(tab, dict):
            tab.pop("id", None)
            if positions and isinstance(tab.get("widget_ids"), list):
                tab["widget_ids"] = [f"@{positions[int(w)]}" if isinstance(w, (int, float))
                                     and int(w) in positions else w for w in tab["widget_ids"]]
    _drop_widget_ids(board.get("widgets") or [])
    if isinstance(board.get("restricted_roles"), list):
        board.pop("is_read_only", None)
    else:
        board.setdefault("is_read_only", False)
    if isinstance(board.get("notify_list"), list):
        board["notify_list"] = sorted(board["notify_list"])
    return board


def _drop_widget_ids(widgets: Iterable) -> None:
    """deleteWidgetID (resource_datadog_dashboard_json.go:89-102)."""
    for widget in widgets:
        if isinstance(widget, dict) and isinstance(widget.get("definition"), dict):
            if widget["definition"].get("type") == "group":
                _drop_widget_ids(widget["definition"].get("widgets") or [])
            widget.pop("id", None)


def differences(config: Any, state: Any, path: str = "$") -> list[str]:
    """Where two JSON values differ as the provider sees them: Go decodes every number as
    float64 (structure.ExpandJsonFromString), so 2 and 2.0 are equal; all else is exact."""
    if isinstance(config, dict) and isinstance(state, dict):
        out = []
        for key in sorted(set(config) | set(state)):
            if key not in state:
                out.append(f"{path}.{key}: only in the file")
            elif key not in config:
                out.append(f"{path}.{key}: only in Datadog's answer ({canonical(state[key])[:60]})")
            else:
                out += differences(config[key], state[key], f"{path}.{key}")
        return out
    if isinstance(config, list) and isinstance(state, list):
        if len(config) != len(state):
            return [f"{path}: {len(config)} items in the file, {len(state)} in Datadog's answer"]
        return [d for i, (a, b) in enumerate(zip(config, state))
                for d in differences(a, b, f"{path}[{i}]")]
    numbers = all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in (config, state))
    if (float(config) == float(state)) if numbers else (config == state and type(config) is type(state)):
        return []
    return [f"{path}: {canonical(config)[:60]} in the file, {canonical(state)[:60]} in Datadog's answer"]


def diff(kind: str, body: dict, answer: dict) -> list[str]:
    """The provider's diff between a catalog body and Datadog's answer for it."""
    return differences(provider_config(kind, body), provider_state(kind, answer, body))


# -- adoption: the account's own objects into the catalog -----------------------------------

CATALOG_COMPONENT = ("datadog-stack:index:Catalog", "catalog")  # components.catalog.TYPE


@dataclass(frozen=True)
class Adoption:
    kind: str
    id: str
    label: str  # the monitor's name or the dashboard's title
    file: str  # monitors/<stem>.json, relative to the catalog directory
    text: str  # the file's content

    @property
    def name(self) -> str:
        return CatalogObject(self.kind, self.file, {}).name


def _slug(label: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")[:80].strip("-")
    return slug or "untitled"


def adoptions(found: Iterable[tuple[str, dict]], managed: set[tuple[str, str]],
              taken: set[str], query: str | None = None) -> list[Adoption]:
    """The account's objects (kind, GET answer) that the stack does not manage (`managed`:
    (kind, id)) and whose name or title holds `query` (any case), each as a catalog file
    named after it; a stem in `taken` (existing files, `monitors/x.json`) or already used
    gets the object's id appended, so no file is ever overwritten."""
    out: list[Adoption] = []
    used = set(taken)
    for kind, answer in found:
        object_id = str(answer.get("id"))
        label = str(answer.get("name" if kind == MONITOR else "title") or "")
        if (kind, object_id) in managed or (query and query.lower() not in label.lower()):
            continue
        stem = _slug(label)
        if f"{kind}s/{stem}.json" in used:
            stem = f"{stem}-{_slug(object_id)}"
        file = f"{kind}s/{stem}.json"
        used.add(file)
        body = (normalise_monitor if kind == MONITOR else normalise_dashboard)(file, answer)
        out.append(Adoption(kind, object_id, label, file,
                            json.dumps(body, indent=2, ensure_ascii=False) + "\n"))
    return out


def adoption_import(adopted: list[Adoption]) -> dict:
    """`pulumi import --file` entries: each object under its catalog resource and the catalog
    component (`component: true`, as rules.adopt.import_document writes components)."""
    if not adopted:
        return {"resources": []}
    component_type, component = CATALOG_COMPONENT
    ref = f"{component}-component"
    return {"resources": [{"type": component_type, "name": ref, "logicalName": component,
                           "component": True}] +
            [{"type": RESOURCE_TYPES[a.kind], "name": a.name, "id": a.id, "parent": ref}
             for a in adopted]}
