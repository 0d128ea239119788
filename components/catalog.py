"""The catalog's objects: one pulumi-datadog MonitorJson or DashboardJson per catalog file.

The bodies come ready from rules/catalog.py (normalised, placeholders replaced); this
component only declares them, each named after its file (`monitor-<stem>`,
`dashboard-<stem>`) and parented here. Renaming a file renames its resource: move the
object with `pulumi state rename` first (docs/catalog.md), or `pulumi up` replaces it.
"""
from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_datadog as datadog

from components import package
from components.args import read

TYPE = package.token("Catalog")
OLD_TYPE = "datadog-stack:catalog:Catalog"  # deployed stacks' token (the alias)


@dataclass(frozen=True)
class CatalogArgs:
    monitors: Optional[dict[str, str]] = None
    """Resource name -> the monitor's JSON body (rules.catalog.CatalogObject.text)."""
    dashboards: Optional[dict[str, str]] = None
    """Resource name -> the dashboard's JSON body."""
    app_url: str = "https://app.datadoghq.com"
    """The Datadog site's web app (`Settings.app_url`), where `urls` point."""


class Catalog(pulumi.ComponentResource):
    """Monitors and dashboards as Datadog exports them (JSON), one MonitorJson or
    DashboardJson each."""

    ids: pulumi.Output[dict[str, str]]
    """Resource name -> the object's Datadog id."""
    urls: pulumi.Output[dict[str, str]]
    """Resource name -> the object in the site's web app."""

    def __init__(self, name: str, args: CatalogArgs,
                 opts: Optional[pulumi.ResourceOptions] = None):
        args = read(CatalogArgs, args)
        super().__init__(TYPE, name, None, package.options(opts, OLD_TYPE))
        child = pulumi.ResourceOptions(parent=self)
        monitors = {key: datadog.MonitorJson(key, monitor=body, opts=child)
                    for key, body in sorted((args.monitors or {}).items())}
        dashboards = {key: datadog.DashboardJson(key, dashboard=body, opts=child)
                      for key, body in sorted((args.dashboards or {}).items())}
        self.ids = pulumi.Output.all(
            **{key: r.id for key, r in {**monitors, **dashboards}.items()}) \
            if monitors or dashboards else pulumi.Output.from_input({})
        urls = {key: r.id.apply(lambda id_: f"{args.app_url}/monitors/{id_}")
                for key, r in monitors.items()}
        urls.update({key: r.url.apply(lambda path: f"{args.app_url}{path or ''}")
                     for key, r in dashboards.items()})
        self.urls = pulumi.Output.all(**urls) if urls else pulumi.Output.from_input({})
        self.register_outputs({"ids": self.ids, "urls": self.urls})
