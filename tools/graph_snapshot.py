"""Send a snapshot of the timeboard's my_metric graph to the stack's notify handle.

    python -m tools.graph_snapshot --dashboard ID [--stack NAME | --config-file PATH] [--minutes N]
                                   [--api-url URL]

1. GET /api/v1/dashboard/ID: the timeboard; its my_metric graph is the widget with the query
   the stack gives it (rules.timeboard), `$host` resolved to the template variable's default.
2. GET /api/v1/graph/snapshot over the last N minutes (default 5, the seeds' timeboard view):
   Datadog renders the graph to a PNG and answers its URL.
3. POST /api/v1/events: an event whose text starts with the notify handle (@-notation) and
   embeds the image; Datadog notifies @-mentioned handles of an event.

Keys come from DD_API_KEY / DD_APP_KEY (or DATADOG_API_KEY / DATADOG_APP_KEY); the API URL
from --api-url, else DATADOG_HOST / DD_HOST (the provider's variables), else the stack's site.
The notify handle and site come from the stack config, read and validated by settings.py.
Bad input prints one line on stderr and exits 2; an API failure prints one line and exits 1.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KEY_VARIABLES = (("DD_API_KEY", "DD_APP_KEY"), ("DATADOG_API_KEY", "DATADOG_APP_KEY"))
URL_VARIABLES = ("DATADOG_HOST", "DD_HOST")


class InputError(Exception):
    """Bad input: the message is the one line the user sees."""


@dataclass(frozen=True)
class Graph:
    title: str
    query: str  # with the dashboard's template variables resolved


# ----------------------------------------------------------------------------- pure functions

def keys(environ) -> tuple[str, str]:
    for api, app in KEY_VARIABLES:
        if environ.get(api) and environ.get(app):
            return environ[api], environ[app]
    names = " or ".join(f"{api} and {app}" for api, app in KEY_VARIABLES)
    raise InputError(f"no Datadog keys in the environment: set {names}")


def api_url(arg: str | None, environ, site_url: str) -> str:
    url = arg or next((environ[name] for name in URL_VARIABLES if environ.get(name)), site_url)
    if not re.match(r"^https?://[^/\s]+", url):
        raise InputError(f"API URL {url!r} is not an http(s) URL")
    return url.rstrip("/")


def _widgets(widgets: list):
    for widget in widgets or []:
        definition = widget.get("definition") or {}
        yield definition
        yield from _widgets(definition.get("widgets"))


def _queries(definition: dict):
    for request in definition.get("requests") or []:
        if request.get("q"):
            yield request["q"]
        yield from (q.get("query") for q in request.get("queries") or [] if q.get("query"))


def resolve_variables(query: str, template_variables: list) -> str:
    """`$name` -> `prefix:default` (the dashboard's default view), `*` without a default."""
    for variable in sorted(template_variables or [], key=lambda v: -len(v["name"])):
        defaults = variable.get("defaults") or ([variable["default"]] if variable.get("default") else [])
        prefix = variable.get("prefix")
        value = f"{prefix}:{defaults[0]}" if prefix and defaults and defaults[0] != "*" else "*"
        query = query.replace(f"${variable['name']}", value)
    return query


def find_graph(dashboard: dict, title: str, query: str) -> Graph:
    """The dashboard's widget that graphs `query`; InputError if it has none."""
    for definition in _widgets(dashboard.get("widgets")):
        if query in _queries(definition):
            return Graph(definition.get("title") or title,
                         resolve_variables(query, dashboard.get("template_variables")))
    raise InputError(f"dashboard {dashboard.get('id')} has no graph of {query} "
                     "(is it this stack's timeboard?)")


def event_text(handle: str, graph: Graph, snapshot_url: str, dashboard_url: str,
               start: dt.datetime, end: dt.datetime) -> str:
    """Markdown between %%% markers (the events API's markdown form); the handle first, followed
    by a space, as an @-notification must be."""
    span = f"{start:%Y-%m-%d %H:%M} - {end:%H:%M} UTC"
    return (f"%%% \n{handle} snapshot of **{graph.title}** ({graph.query}), {span}\n\n"
            f"![{graph.title}]({snapshot_url})\n\n[Open the timeboard]({dashboard_url})\n %%%")


# ----------------------------------------------------------------------------- the calls

def stack_settings(path: Path, stack: str):
    """The stack's settings, read and validated by settings.load as the program reads them."""
    import pulumi

    import settings
    from pulumi_config import PulumiConfig
    from tools.plan import StackConfig

    config = StackConfig.from_file(path)
    pulumi.runtime.set_all_config(config.values, config.secret_keys)
    return settings.load(PulumiConfig(), stack)


def send(url: str, api_key: str, app_key: str, dashboard_id: str, minutes: int, loaded,
         now: dt.datetime) -> str:
    """The three calls; returns the posted event's URL."""
    from datadog_api_client import ApiClient, Configuration
    from datadog_api_client.v1.api.dashboards_api import DashboardsApi
    from datadog_api_client.v1.api.events_api import EventsApi
    from datadog_api_client.v1.api.snapshots_api import SnapshotsApi
    from datadog_api_client.v1.model.event_create_request import EventCreateRequest

    from rules.timeboard import graphs

    config = Configuration(host=url, api_key={"apiKeyAuth": api_key, "appKeyAuth": app_key})
    with ApiClient(config) as client:
        dashboard = DashboardsApi(client).get_dashboard(dashboard_id).to_dict()
        my_metric = graphs(loaded.database.kind)[0]
        graph = find_graph(dashboard, my_metric.title, my_metric.query)
        start = now - dt.timedelta(minutes=minutes)
        snapshot = SnapshotsApi(client).get_graph_snapshot(
            start=int(start.timestamp()), end=int(now.timestamp()), metric_query=graph.query,
            title=graph.title)
        text = event_text(loaded.notify, graph, snapshot.snapshot_url,
                          f"{loaded.app_url}{dashboard.get('url', '')}", start, now)
        event = EventsApi(client).create_event(EventCreateRequest(
            title=f"Snapshot: {graph.title}", text=text, tags=list(loaded.resource_tags)))
        return event.event.url


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tools.graph_snapshot", description=__doc__.split("\n\n")[0])
    parser.add_argument("--dashboard", required=True, help="the timeboard's id (`pulumi stack output dashboardId`)")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--stack", default="dev", help="use Pulumi.<NAME>.yaml (default dev)")
    source.add_argument("--config-file", type=Path, help="use this stack config file")
    parser.add_argument("--minutes", type=int, default=5, help="the window, ending now (default 5)")
    parser.add_argument("--api-url", help="Datadog API URL (default: DATADOG_HOST, DD_HOST, the stack's site)")
    return parser.parse_args(argv)


def run(args: argparse.Namespace, environ, now: dt.datetime) -> str:
    from datadog_api_client.exceptions import ApiException, NotFoundException
    from urllib3.exceptions import HTTPError

    import settings

    if not 1 <= args.minutes <= 7 * 24 * 60:
        raise InputError(f"--minutes {args.minutes}: must be 1 to 10080 (a week)")
    path = args.config_file or ROOT / f"Pulumi.{args.stack}.yaml"
    if not path.is_file():
        raise InputError(f"no stack config file {path}")
    stack = args.stack if args.config_file is None else path.stem.removeprefix("Pulumi.")
    api_key, app_key = keys(environ)
    try:
        loaded = stack_settings(path, stack)
    except settings.ConfigError as error:
        raise InputError(f"invalid configuration: {error}") from None
    url = api_url(args.api_url, environ, settings.SITES[loaded.site])
    try:
        return send(url, api_key, app_key, args.dashboard, args.minutes, loaded, now)
    except NotFoundException:
        raise InputError(f"dashboard {args.dashboard} not found at {url}") from None
    except ApiException as error:
        raise RuntimeError(f"Datadog answered {error.status} {error.reason} at {url}") from None
    except HTTPError as error:
        raise RuntimeError(f"cannot reach {url}: {type(error).__name__}") from None


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        print(f"posted to {run(args, os.environ, dt.datetime.now(dt.timezone.utc))}")
    except InputError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except RuntimeError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
