"""The catalog's test corpus: Datadog-authored monitors and dashboards in every shape the
catalog takes, built from what we may use (README.md beside this file).

* `get-monitor`: a recorded answer to `GET /api/v1/monitor/{id}` (TestAccDatadogMonitor*.yaml).
* `ui-monitor`: the UI's "Export monitor" JSON. The recorded request bodies of
  TestAccDatadogMonitorJSON*.yaml are such exports (they carry `classification` and `multi`,
  which only an export holds); the others are those GET answers cut to the export's keys.
* `get-dashboard`: a recorded answer to `GET /api/v1/dashboard/{id}` (TestAccDatadogDashboard*.yaml).
* `ui-dashboard`: the UI's "Export dashboard JSON": the recorded request bodies of
  TestAccDatadogDashboardJSON*.yaml (they carry the exported `id` and `author_handle`),
  and GET answers as the UI exports them, with `"pause_auto_refresh": false`
  (terraform-provider-datadog PR #4256: "Dashboards exported from the UI include it").
* `recommended-monitor`, `integration-dashboard`: integrations-core assets (integrations-core/).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# The keys of the UI's monitor export (a GET answer without who/when/state).
UI_MONITOR_KEYS = ("id", "name", "type", "query", "message", "tags", "options", "priority",
                   "restricted_roles", "multi")
UI_DASHBOARD_DROPS = ("author_name", "created_at", "modified_at", "url")
SHAPES = ("get-monitor", "ui-monitor", "recommended-monitor",
          "get-dashboard", "ui-dashboard", "integration-dashboard")


@dataclass(frozen=True)
class Sample:
    kind: str  # "monitor" | "dashboard"
    shape: str  # one of SHAPES
    name: str  # the catalog file's stem
    raw: dict  # the file's content
    source: str  # where it comes from

    @property
    def file(self) -> str:
        return f"{self.kind}s/{self.name}.json"


def _exchanges(path: Path):
    for it in yaml.load(path.read_text(), Loader=_LOADER).get("interactions", []):
        request, response = it["request"], it["response"]
        yield request["method"], request["url"].split("?")[0], request.get("body") or "", \
            int(response["code"]), response.get("body") or ""


def _first(path: Path, method: str, endpoint: str) -> dict | None:
    """The first successful exchange's JSON: the answer to `GET endpoint/{id}`, or the body
    of `POST endpoint`."""
    for m, url, body, code, answer in _exchanges(path):
        if m != method or code != 200 or endpoint not in url:
            continue
        tail = url.split(endpoint, 1)[1]
        one = tail.count("/") == 1 and len(tail) > 1 and not tail.startswith("/lists")
        if (method == "GET" and one) or (method == "POST" and tail == ""):
            try:
                return json.loads(answer if method == "GET" else body)
            except ValueError:
                return None
    return None


def from_cassettes(directory: Path) -> list[Sample]:
    samples = []
    for path in sorted(directory.glob("TestAccDatadogMonitor*.yaml")):
        got = _first(path, "GET", "/api/v1/monitor")
        if got and "id" in got:
            stem = path.stem.removeprefix("TestAccDatadog")
            samples.append(Sample("monitor", "get-monitor", f"get-{stem}", got, path.name))
            if "JSON" not in path.stem:
                samples.append(Sample("monitor", "ui-monitor", f"ui-{stem}",
                                      {k: got[k] for k in UI_MONITOR_KEYS if k in got}, path.name))
        if "JSON" in path.stem:
            sent = _first(path, "POST", "/api/v1/monitor")
            if sent:
                samples.append(Sample("monitor", "ui-monitor", f"export-{path.stem}", sent, path.name))
    for path in sorted(directory.glob("TestAccDatadogDashboard*.yaml")):
        got = _first(path, "GET", "/api/v1/dashboard")
        stem = path.stem.removeprefix("TestAccDatadog")
        if got and "widgets" in got:
            samples.append(Sample("dashboard", "get-dashboard", f"get-{stem}", got, path.name))
            exported = {k: v for k, v in got.items() if k not in UI_DASHBOARD_DROPS}
            samples.append(Sample("dashboard", "ui-dashboard", f"ui-{stem}",
                                  {**exported, "pause_auto_refresh": False}, path.name))
        if "JSON" in path.stem:
            sent = _first(path, "POST", "/api/v1/dashboard")
            if sent:
                samples.append(Sample("dashboard", "ui-dashboard", f"export-{path.stem}", sent, path.name))
    return samples


def integrations_core() -> list[Sample]:
    samples = []
    for path in sorted((HERE / "integrations-core").glob("*.json")):
        raw = json.loads(path.read_text())
        monitor = "definition" in raw
        samples.append(Sample("monitor" if monitor else "dashboard",
                              "recommended-monitor" if monitor else "integration-dashboard",
                              f"ic-{path.stem}", raw, f"integrations-core/{path.name}"))
    return samples


def corpus(cassettes: Path) -> list[Sample]:
    return integrations_core() + from_cassettes(cassettes)
