"""The stack's resources, built from validated settings. `__main__` and the offline plan share it."""
from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Mapping

import pulumi

from components.agent_host import AgentHost, AgentHostArgs
from components.apm_dashboard import ApmDashboard, ApmDashboardArgs
from components.apm_service import ApmService, ApmServiceArgs
from components.catalog import Catalog, CatalogArgs
from components.downtimes import OffHoursDowntimes, OffHoursDowntimesArgs
from components.monitor import MetricMonitor, MetricMonitorArgs
from components import ssh
from components.timeboard import Timeboard, TimeboardArgs
from domain import Host, Settings
from rules import catalog, fleet
from rules.downtimes import downtime_scope, off_hours_tag
from settings import ConfigError

# Runs the program as if at another moment (ISO-8601 with a UTC offset): for the tests
# and demos that move a stand-in's clock; unset, the program uses the real clock.
CLOCK_VARIABLE = "DATADOG_STACK_NOW"
PROJECT_DIR = Path(__file__).resolve().parent


def clock(environ: Mapping[str, str] = os.environ) -> datetime:
    """The program's clock: the only input besides config, so a run is reproducible."""
    value = environ.get(CLOCK_VARIABLE)
    if not value:
        return datetime.now(timezone.utc)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        moment = None
    if moment is None or moment.utcoffset() is None:
        raise ConfigError(CLOCK_VARIABLE, f"{value!r} is not an ISO-8601 time with a UTC "
                          "offset, such as 2027-01-04T10:00:00+00:00")
    return moment


def build(settings: Settings, now: datetime) -> dict[str, pulumi.Input]:
    """Declare every resource of the stack's role (rules/fleet.py); return the stack
    outputs. `now` sets the downtimes' starts."""
    if settings.role == fleet.HOSTS:
        # A host-group stack: no Datadog object; the fleet tag and the account's ids come
        # from the account stack's outputs, never recomputed here.
        account = pulumi.StackReference(settings.account_stack)
        outputs = {name: account.get_output(name) for name in fleet.ACCOUNT_OUTPUTS}
        return {**outputs, **_hosts(settings, account.require_output(fleet.FLEET_TAG_OUTPUT))}
    # The catalog first: a bad file fails (rules.catalog.CatalogError) before any resource.
    objects = catalog_objects(settings)
    outputs = _datadog(settings, now)
    if objects:
        owned = Catalog("catalog", CatalogArgs(
            monitors={o.name: o.text for o in objects if o.kind == catalog.MONITOR},
            dashboards={o.name: o.text for o in objects if o.kind == catalog.DASHBOARD},
            app_url=settings.app_url))
        outputs["catalogUrls"] = owned.urls
    if settings.role == fleet.ACCOUNT:
        return outputs
    return {**outputs, **_hosts(settings, None)}


def host_tag(settings: Settings) -> str | None:
    """The tag the Datadog objects scope by: an account stack's fleet tag; None (host
    names) for a stack of role all."""
    if settings.role != fleet.ACCOUNT:
        return None
    return fleet.fleet_tag(pulumi.get_project(), settings.stack)


def _hosts(settings: Settings, fleet_tag: pulumi.Input[str] | None) -> dict[str, pulumi.Input]:
    """Each host's Agent and app; the `hosts` output."""
    agents = {host.name: AgentHost(f"{host.name}-agent", agent_host_args(settings, host, fleet_tag))
              for host in settings.hosts}
    # The app after its host's Agent: both may use apt, and traces need the trace agent.
    apps = {host.name: ApmService(f"{host.name}-app", apm_service_args(settings, host),
                                  pulumi.ResourceOptions(depends_on=[agents[host.name].install]))
            for host in settings.hosts}
    return {
        "hosts": {name: {"files": agent.files, "fileHashes": agent.file_hashes,
                         "checkResult": agent.check_result, "appUrl": apps[name].url}
                  for name, agent in agents.items()},
    }


def catalog_files(directory: Path) -> dict[str, str]:
    """`monitors/x.json` -> text for every JSON file under the catalog directory (none when
    it is absent); rules.catalog judges where each file sits and what it holds."""
    if not directory.is_dir():
        return {}
    files = {}
    for path in sorted(directory.rglob("*.json")):
        relative = path.relative_to(directory)
        if not path.is_file() or any(part.startswith(".") for part in relative.parts):
            continue
        try:
            files[relative.as_posix()] = path.read_bytes().decode("utf-8")
        except UnicodeDecodeError:
            raise catalog.CatalogError(str(path), "is not UTF-8 text (Datadog exports UTF-8 JSON)") from None
        except OSError as error:
            raise catalog.CatalogError(str(path), f"cannot be read: {error.strerror}") from None
    return files


def catalog_objects(settings: Settings) -> tuple[catalog.CatalogObject, ...]:
    """The catalog's objects for this stack, or CatalogError naming the file and JSON path."""
    directory = PROJECT_DIR / settings.catalog_dir  # an absolute catalogDir stays as it is
    if directory.exists() and not directory.is_dir():
        raise ConfigError("datadog-stack:catalogDir", f"{settings.catalog_dir!r} is a file, "
                          "not a directory of monitors/ and dashboards/")
    values = catalog.placeholder_values(
        stack=settings.stack, env=settings.env,
        host_scope=downtime_scope((host.name for host in settings.hosts), host_tag(settings)),
        notify=settings.notify,
        downtime_tag=off_hours_tag(pulumi.get_project(), settings.stack))
    return catalog.objects(catalog_files(directory), values, settings.catalog_dir)


def agent_host_args(settings: Settings, host: Host,
                    fleet_tag: pulumi.Input[str] | None = None) -> AgentHostArgs:
    return AgentHostArgs(
        host=ssh.Host.of(host), agent=settings.agent, api_key=settings.secrets.api_key,
        database_password=settings.secrets.database_password,
        ssh_private_key=settings.secrets.ssh_private_key,
        ssh_agent_socket=settings.ssh_agent_socket or None, fleet_tag=fleet_tag)


def apm_service_args(settings: Settings, host: Host) -> ApmServiceArgs:
    return ApmServiceArgs(host=ssh.Host.of(host), stack=settings.stack, env=settings.env,
                          apm=settings.apm,
                          ssh_private_key=settings.secrets.ssh_private_key,
                          ssh_agent_socket=settings.ssh_agent_socket or None)


def _datadog(settings: Settings, now: datetime) -> dict[str, pulumi.Input]:
    """The Datadog side, each component given only what it uses; its stack outputs."""
    host_names = tuple(host.name for host in settings.hosts)
    tag = host_tag(settings)
    timeboard = Timeboard("timeboard", TimeboardArgs(
        stack=settings.stack, database_kind=settings.database.kind, host_names=host_names,
        app_url=settings.app_url, host_tag=tag))
    downtime_tag = off_hours_tag(pulumi.get_project(), settings.stack)
    monitor = MetricMonitor("my-metric-high", MetricMonitorArgs(
        stack=settings.stack, host_names=host_names, thresholds=settings.thresholds,
        no_data_minutes=settings.no_data_minutes, notify=settings.notify,
        tags=settings.resource_tags, downtime_tag=downtime_tag, validate=settings.validate,
        app_url=settings.app_url, host_tag=tag))
    downtimes = OffHoursDowntimes("off-hours", OffHoursDowntimesArgs(
        office_hours=settings.office_hours, timezone=settings.timezone,
        host_names=host_names, notify=settings.notify, monitor_tag=downtime_tag,
        now=now.isoformat(), host_tag=tag))
    apm_dashboard = ApmDashboard("apm", ApmDashboardArgs(
        service=settings.apm.service, env=settings.env, host_names=host_names,
        resource_tags=settings.resource_tags, app_url=settings.app_url, host_tag=tag))
    outputs: dict[str, pulumi.Input] = {
        "dashboardId": timeboard.id,
        "dashboardUrl": timeboard.url,
        "monitorId": monitor.id,
        "monitorUrl": monitor.url,
        "downtimeIds": downtimes.ids,
        "apmDashboardUrl": apm_dashboard.url,
    }
    if tag:
        # What the account's host-group stacks read through their StackReference.
        outputs.update({fleet.FLEET_TAG_OUTPUT: tag, "downtimeTag": downtime_tag})
    return outputs
