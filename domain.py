"""The stack's domain types, each declared once: what validated settings are made of.

`settings.load` builds them from config (and is the only place that validates); `rules/`,
`agent_files/`, `components/` and `program.py` read them. This module imports nothing of the
project (no parser, no rules, no Pulumi SDK), so the Agent's and the VM's code can use it,
and it leaves annotations evaluated (no `from __future__ import annotations`): the
components' Args carry these types, and a schema analyzer must be able to resolve them.
The types a component's Args carry have a docstring per field (the package schema's
descriptions) and sequences typed `Sequence` (a schema array; tuples here, lists from the
package's provider).
"""
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


class ConfigError(Exception):
    """Bad input: names the config key (or the file and JSON path) and says what is wrong
    with it. Raised by settings.load and the pure rules that judge input (rules/catalog)."""

    def __init__(self, key: str, problem: str):
        super().__init__(f"{key}: {problem}")
        self.key = key
        self.problem = problem


@dataclass(frozen=True)
class Host:
    """One VM: how Datadog names it and how SSH reaches it.

    The configured host, every value known. The components take `components.ssh.Host`:
    the same fields, its address a `pulumi.Input` (this module imports no Pulumi SDK)."""

    name: str
    """The Datadog hostname, and the start of the host's resource names."""
    address: str
    """The address SSH connects to (IP or DNS name)."""
    ssh_port: int
    """The SSH port."""
    ssh_user: str
    """The SSH user: root, or a user with passwordless sudo."""


@dataclass(frozen=True)
class Database:
    """The database the Agent's integration monitors."""

    kind: str
    """`postgres` or `mysql`."""
    host: str
    """Where the Agent connects to it, as seen from the VM."""
    port: int
    """Its port."""
    name: str
    """The database the integration connects to."""
    install: bool = False
    """installDatabase: install.sh installs the server package if missing."""


@dataclass(frozen=True)
class Thresholds:
    """The monitor alerts on a 5-minute average above `warning`/`critical`, and leaves
    each state only at or below its recovery threshold (Datadog's hysteresis)."""

    warning: float
    """Warn above this 5-minute average."""
    critical: float
    """Alert above this 5-minute average."""
    warning_recovery: float
    """Leave Warn at or below this."""
    critical_recovery: float
    """Leave Alert at or below this."""


@dataclass(frozen=True)
class OfficeHours:
    """Monday-Friday, [start, end) local wall-clock time; end may be 24:00."""

    start_minutes: int
    """Minutes after midnight when the office opens (9:00 is 540)."""
    end_minutes: int
    """Minutes after midnight when it closes (1440 for 24:00)."""


@dataclass(frozen=True)
class Apm:
    """The traced Flask app: its Datadog service and where it listens."""

    service: str
    """Datadog service name (DD_SERVICE); also the systemd unit's and app dir's name."""
    version: str
    """DD_VERSION of its traces."""
    port: int
    """The port gunicorn listens on."""
    bind_address: str
    """The IP address gunicorn listens on."""


@dataclass(frozen=True)
class Secrets:
    """Secret inputs as Pulumi secret Outputs; never unwrapped outside an apply. An account
    stack (role account) has no hosts: its database password and SSH key are None."""

    api_key: Any
    database_password: Any
    ssh_private_key: Any


@dataclass(frozen=True)
class AgentSettings:
    """What every host's Agent files are rendered from (agent_files/render.py): `Settings`
    holds it as `agent`, and `components.agent_host.AgentHostArgs` carries it to each host."""

    stack: str
    """The Pulumi stack: tags the check's metrics (stack:<name>)."""
    env: str
    """Datadog env of the host and its metrics."""
    site: str
    """Datadog site the Agent reports to (datadoghq.com, datadoghq.eu...)."""
    host_tags: Sequence[str]
    """Host tags (`key:value`) in datadog.yaml, before env:<env>."""
    database: Database
    """The database the Agent's integration monitors on the host."""
    check_interval: int
    """Seconds between two runs of the my_metric check (min_collection_interval)."""
    logs_enabled: bool
    """Whether the Agent collects logs."""
    install_agent: bool
    """Whether install.sh installs the Agent when it is missing (needs the API key there)."""


@dataclass(frozen=True)
class Settings:
    """Every validated setting of one stack (`settings.load`)."""

    agent: AgentSettings
    """The stack, its env, site and database, and the Agent's options: the values the
    Agent's files are rendered from; `stack`, `env`, `site` and `database` read them."""
    hosts: tuple[Host, ...]
    thresholds: Thresholds
    no_data_minutes: int
    notify: str
    timezone: str
    office_hours: OfficeHours
    apm: Apm
    secrets: Secrets
    catalog_dir: str = "catalog"
    """catalogDir: the team's own monitors/ and dashboards/ JSON, relative to the project
    (settings.DEFAULTS holds the same default; tests/unit keep them equal)."""
    # datadog:validate: off only for offline previews; then the monitor skips the
    # provider's plan-time validation call too (see components/monitor.py).
    validate: bool = True
    # sshAgentSocket: the ssh-agent socket the commands log in through; "" when they use
    # secrets.ssh_private_key (then set; else None).
    ssh_agent_socket: str = ""
    role: str = "all"
    """role: `all` (the Datadog objects and the hosts), `account` (only the objects, scoped
    by the fleet tag) or `hosts` (only the hosts): rules/fleet.py."""
    account_stack: str = ""
    """accountStack: a `hosts` stack's account stack (StackReference name); else ""."""

    @property
    def stack(self) -> str:
        return self.agent.stack

    @property
    def env(self) -> str:
        return self.agent.env

    @property
    def site(self) -> str:
        return self.agent.site

    @property
    def database(self) -> Database:
        return self.agent.database

    @property
    def app_url(self) -> str:
        """The web app of the site: app.datadoghq.com, app.datadoghq.eu, us3.datadoghq.com."""
        return f"https://app.{self.site}" if self.site.count(".") == 1 else f"https://{self.site}"

    @property
    def resource_tags(self) -> tuple[str, ...]:
        """Tags on every Datadog object, so a search finds what this stack owns."""
        return ("managed-by:pulumi", f"stack:{self.stack}", f"env:{self.env}")
