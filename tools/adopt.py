"""Adopt what was built by hand: find the Datadog objects that are the stack's resources
and write a `pulumi import --file` document that maps them onto the stack's own names.

    python -m tools.adopt [--stack NAME | --config-file PATH] [--output adopt.json]
    python -m tools.adopt --catalog [--query TEXT] [--stack NAME | --config-file PATH] [--output adopt.json]

`--catalog` adopts the account's other monitors and dashboards into the catalog instead:
each one the stack does not manage (not one of its own resources, not tagged as made by
this stack, not already a catalog file's object) whose name or title holds TEXT (any case)
is written to the catalog directory as `monitors/<name>.json` / `dashboards/<title>.json`
(never over an existing file), and all of them to the import file, so that `pulumi import
--file` then `pulumi up` changes nothing (docs/catalog.md).

Reads the account through Datadog's API (datadog-api-client) with the keys in
DD_API_KEY/DD_APP_KEY (or DATADOG_API_KEY/DATADOG_APP_KEY), at the stack's
`datadog:apiUrl` or its site's API. The stack's resources, names and parents come from
the offline plan (tools/plan.py). Prints each match and why, each object it could not
match or matched twice, and each downtime it refuses with the reason and what replaces
it. Exit 0: written (or nothing to adopt); 1: an ambiguous match, nothing written;
2: bad input (no keys, config, unreachable API), nothing written.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import tempfile
from pathlib import Path

from rules import adopt as rules
from rules import catalog as catalog_rules
from tools import plan as offline
from tools import stack_args
from tools.graph_snapshot import InputError, keys  # the same key variables as make graph-snapshot

NEXT_STEPS = ("pulumi import --file {out} --protect=false --generate-code=false, "
              "then pulumi preview --diff and pulumi up")


class AdoptError(Exception):
    """Bad input or an unusable API: one line for the user."""


def stack_resources(plan: offline.Plan) -> list[rules.Resource]:
    """The plan's Datadog resources with their parents' type tokens (the project's own
    components, `datadog-stack:*`: a component and its child may share a name)."""
    types = {r["name"]: r["type"] for r in plan.resources if r["type"].startswith(f"{offline.PROJECT}:")}
    return [rules.Resource(r["type"], r["name"], r["parent"], types.get(r["parent"]), r["inputs"])
            for r in plan.resources if r["type"] in (rules.MONITOR, rules.DASHBOARD, rules.DOWNTIME)]


class Account:
    """The objects of one Datadog account, read with datadog-api-client, as API JSON."""

    def __init__(self, url: str, api_key: str, app_key: str):
        from datadog_api_client import ApiClient, Configuration

        config = Configuration(host=url.rstrip("/"), return_http_data_only=True)
        config.api_key = {"apiKeyAuth": api_key, "appKeyAuth": app_key}
        self.url = url
        self.keys = (api_key, app_key)
        self.client = ApiClient(config)

    def _read(self, call):
        """One API call; connection and HTTP failures become one AdoptError line."""
        from datadog_api_client.exceptions import ApiException
        from urllib3.exceptions import HTTPError

        try:
            return call()
        except ApiException as error:
            raise AdoptError(f"the Datadog API at {self.url} answered {error.status} "
                             f"{error.reason}") from None
        except HTTPError as error:
            reason = getattr(error, "reason", None) or error
            raise AdoptError(f"cannot reach the Datadog API at {self.url}: {reason}") from None

    def monitors(self) -> list[dict]:
        from datadog_api_client.v1.api.monitors_api import MonitorsApi

        api = MonitorsApi(self.client)
        return self._read(lambda: [m.to_dict() for m in api.list_monitors_with_pagination()])

    def dashboards(self) -> list[dict]:
        """Every dashboard with its widgets (the list answers summaries only)."""
        from datadog_api_client.v1.api.dashboards_api import DashboardsApi

        api = DashboardsApi(self.client)
        ids = self._read(lambda: [d.id for d in api.list_dashboards_with_pagination()])
        return [self._read(lambda i=i: api.get_dashboard(i).to_dict()) for i in ids]

    def answer(self, kind: str, object_id: str) -> dict:
        """`GET /api/v1/<kind>/<id>` as Datadog answers it, every field kept (the client's
        models would convert or drop some: the catalog wants the JSON itself)."""
        import urllib.error
        import urllib.request

        request = urllib.request.Request(
            f"{self.url.rstrip('/')}/api/v1/{kind}/{object_id}", headers={
                "DD-API-KEY": self.keys[0], "DD-APPLICATION-KEY": self.keys[1],
                "Accept": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return json.load(response)
        except urllib.error.HTTPError as error:
            raise AdoptError(f"the Datadog API at {self.url} answered {error.code} "
                             f"{error.reason} for {kind} {object_id}") from None
        except (urllib.error.URLError, OSError) as error:
            raise AdoptError(f"cannot reach the Datadog API at {self.url}: "
                             f"{getattr(error, 'reason', error)}") from None

    def downtimes(self) -> list[dict]:
        """Every v2 downtime. Downtimes made with the v1 API or the old UI are listed here
        too, under their v2 id (a v1 answer carries it as `uuid`)."""
        from datadog_api_client.v2.api.downtimes_api import DowntimesApi

        api = DowntimesApi(self.client)
        return self._read(lambda: [d.to_dict() for d in api.list_downtimes_with_pagination()])


def api_url(config: offline.StackConfig, settings) -> str:
    from settings import SITES

    return config.values.get("datadog:apiUrl") or SITES[settings.site]


def _label(downtime: dict) -> str:
    message = downtime.get("attributes", {}).get("message") or ""
    return message.splitlines()[0] if message else "(no message)"


def judge_downtimes(downtimes: list[dict], resources: list[rules.Resource], monitor_id: str | None,
                    hosts: set[str], now: dt.datetime):
    """(adopted [(schedule, id, why)], refused [Refusal]) among the downtimes in our scope."""
    schedules = [r for r in resources if r.type == rules.DOWNTIME]
    monitor_tags = {tag for r in resources if r.type == rules.MONITOR for tag in r.inputs.get("tags", [])}
    adopted, refused = [], []
    for downtime in downtimes:
        why = rules.downtime_relevance(downtime.get("attributes", {}), monitor_id, monitor_tags, hosts)
        if why is None:
            continue
        verdict = rules.classify_downtime(downtime, now, schedules)
        if isinstance(verdict, rules.Resource):
            adopted.append((verdict, downtime["id"], why))
        else:
            refused.append(rules.Refusal(downtime["id"], _label(downtime), f"{why}; {verdict}",
                                         rules.replacement_text(schedules)))
    return adopted, refused


def report(matches, adopted, refused) -> list[str]:
    lines = []
    for m in matches:
        head = f"{m.status:<9}  {m.resource.name} ({m.resource.type})"
        if m.status == "unmatched":
            lines.append(f"{head}: no existing object; `pulumi up` creates it")
            continue
        if m.also_claimed_by:
            head += f", its candidate also fits {', '.join(m.also_claimed_by)}"
        lines.append(head + (":" if m.status == "ambiguous" else " <-"))
        lines += [f"             {c.id} {c.label!r}: {'; '.join(c.reasons)}" for c in m.candidates]
    for schedule, object_id, why in adopted:
        lines.append(f"{'matched':<9}  {schedule.name} ({schedule.type}) <- downtime {object_id}: "
                     f"{why}; it is exactly this schedule")
    for r in refused:
        lines.append(f"{'refused':<9}  downtime {r.id} {r.label!r}: {r.reason} -> {r.replacement}")
    return lines


def write_atomically(path: Path, document: dict) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent or Path("."))
    with os.fdopen(fd, "w") as f:
        json.dump(document, f, indent=2)
        f.write("\n")
    os.replace(tmp, path)


def adopt(config_path: Path, stack: str, out: Path, env: dict[str, str],
          now: dt.datetime) -> tuple[int, list[str]]:
    api_key, app_key = keys(env)
    config = offline.StackConfig.from_file(config_path)
    plan = offline.run(config, stack)
    resources = stack_resources(plan)
    hosts = {h.name for h in plan.settings.hosts}
    account = Account(api_url(config, plan.settings), api_key, app_key)
    monitors, dashboards, downtimes = account.monitors(), account.dashboards(), account.downtimes()
    matches = rules.match(resources, monitors, dashboards, hosts)
    monitor = next((m for m in matches if m.resource.type == rules.MONITOR), None)
    monitor_id = monitor.candidates[0].id if monitor and monitor.status == "matched" else None
    adopted, refused = judge_downtimes(downtimes, resources, monitor_id, hosts, now)
    lines = [f"stack {stack}: read {len(monitors)} monitors, {len(dashboards)} dashboards, "
             f"{len(downtimes)} downtimes at {account.url}"]
    lines += report(matches, adopted, refused)
    taken = [schedule.name for schedule, _, _ in adopted]
    if any(m.status == "ambiguous" for m in matches) or len(taken) != len(set(taken)):
        return 1, lines + ["error: ambiguous match (see above): nothing written; rename or "
                           "delete the extra objects, then run again"]
    document = rules.import_document(matches, [(s, i) for s, i, _ in adopted])
    if not document["resources"]:
        return 0, lines + ["nothing to adopt: nothing written"]
    write_atomically(out, document)
    count = sum(1 for e in document["resources"] if not e.get("component"))
    return 0, lines + [f"wrote {out} ({count} objects to import); next: " + NEXT_STEPS.format(out=out)]


def managed_by_stack(plan: offline.Plan, monitors: list[dict], dashboards: list[dict]) -> set[tuple[str, str]]:
    """(kind, id) of what the stack already manages or would adopt as its own resources:
    every candidate of its typed resources, and every object tagged as made by this stack."""
    resources = stack_resources(plan)
    hosts = {h.name for h in plan.settings.hosts}
    found = {(catalog_rules.MONITOR if m.resource.type == rules.MONITOR else catalog_rules.DASHBOARD, c.id)
             for m in rules.match(resources, monitors, dashboards, hosts) for c in m.candidates}
    ours = set(plan.settings.resource_tags)
    found |= {(catalog_rules.MONITOR, str(m["id"])) for m in monitors if ours <= set(m.get("tags") or [])}
    return found


def adopt_catalog(config_path: Path, stack: str, out: Path, env: dict[str, str],
                  query: str | None) -> tuple[int, list[str]]:
    import program

    api_key, app_key = keys(env)
    config = offline.StackConfig.from_file(config_path)
    plan = offline.run(config, stack)
    account = Account(api_url(config, plan.settings), api_key, app_key)
    monitors, dashboards = account.monitors(), account.dashboards()
    managed = managed_by_stack(plan, monitors, dashboards)
    directory = program.PROJECT_DIR / plan.settings.catalog_dir
    existing = program.catalog_files(directory)
    cataloged = [(o.kind, o.body) for o in program.catalog_objects(plan.settings)]
    lines = [f"stack {stack}: read {len(monitors)} monitors, {len(dashboards)} dashboards at "
             f"{account.url}; catalog {directory}"]
    found = []
    for kind, listed in [(catalog_rules.MONITOR, monitors), (catalog_rules.DASHBOARD, dashboards)]:
        label = "name" if kind == catalog_rules.MONITOR else "title"
        for item in listed:
            object_id = str(item["id"])
            if (kind, object_id) in managed or (query and query.lower() not in str(item.get(label, "")).lower()):
                continue
            answer = account.answer(kind, object_id)
            if any(k == kind and not catalog_rules.diff(kind, body, answer) for k, body in cataloged):
                lines.append(f"{'skipped':<9}  {kind} {object_id} {answer.get(label)!r}: already in the catalog")
                continue
            found.append((kind, answer))
    adopted = catalog_rules.adoptions(found, managed, set(existing), query)
    if not adopted:
        return 0, lines + ["nothing to adopt: nothing written"]
    for item in adopted:
        target = directory / item.file
        target.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomically(target, item.text)
        lines.append(f"{'adopted':<9}  {item.name} <- {item.kind} {item.id} {item.label!r}: "
                     f"{plan.settings.catalog_dir}/{item.file}")
    write_atomically(out, catalog_rules.adoption_import(adopted))
    return 0, lines + [f"wrote {out} ({len(adopted)} objects to import); next: " + NEXT_STEPS.format(out=out)]


def write_text_atomically(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.adopt", description=__doc__.split("\n\n")[0])
    stack_args.add(parser)
    parser.add_argument("--output", type=Path, default=Path("adopt.json"), help="import file to write")
    parser.add_argument("--catalog", action="store_true",
                        help="adopt the account's other monitors and dashboards into the catalog")
    parser.add_argument("--query", help="with --catalog: only objects whose name or title holds TEXT")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    if args.query is not None and not args.catalog:
        parser.error("--query goes with --catalog")
    path, stack = stack_args.resolve(args)
    from settings import ConfigError

    try:
        if not path.is_file():
            raise AdoptError(f"no stack config file {path}")
        if args.catalog:
            code, lines = adopt_catalog(path, stack, args.output, dict(os.environ), args.query)
        else:
            code, lines = adopt(path, stack, args.output, dict(os.environ), dt.datetime.now(dt.timezone.utc))
    except (AdoptError, InputError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except ConfigError as error:
        print(f"error: invalid configuration: {error}", file=sys.stderr)
        return 2
    print("\n".join(lines[:-1]))
    print(lines[-1], file=sys.stderr if code else sys.stdout)
    return code


if __name__ == "__main__":
    sys.exit(main())
