"""Typed, validated settings: every config key is read and checked here, once.

`load(source, stack)` returns a frozen `domain.Settings` or raises `ConfigError(key,
problem)`; `__main__` turns that error into one line on stderr before any resource exists.
The types are declared in domain.py, which the rest of the code imports them from; this
module is the parser, the key registry (`KNOWN_KEYS`, `DEFAULTS`, the secrets) and the
checks. The source is anything with the `ConfigSource` methods
(`pulumi_config.PulumiConfig` under the engine), so this module imports no Pulumi SDK:
the Agent tier reads the real settings without one. Secrets stay opaque values (Pulumi
secret Outputs): their plain text is read once, from the source, to refuse what cannot
work (an error names the key, never the value), and is never kept. `DEFAULTS` is the one
table of defaults: Pulumi.yaml and docs/configuration.md are tested against it.
"""
from __future__ import annotations

import ipaddress
import json
import math
import re
import zoneinfo
from datetime import time
from typing import Any, Callable, Mapping, Protocol

from domain import (AgentSettings, Apm, ConfigError, Database, Host, OfficeHours, Secrets, Settings,
                    Thresholds)
from rules import fleet
from rules.downtimes import clock_change_problem, label
from rules.host_names import AGENT_HOSTNAME, AGENT_HOSTNAME_MAX, agent_hostname_problem, \
    reserved_reason

NAMESPACE = "datadog-stack"
# Secrets the program reads; the offline plan stands "[secret]" in for missing ones.
SECRET_KEYS = ("datadog:apiKey", f"{NAMESPACE}:databasePassword", f"{NAMESPACE}:sshPrivateKey")
# Secrets only the Datadog provider reads: checked here so a missing one fails early.
PROVIDER_SECRET_KEYS = ("datadog:appKey",)
# Datadog sites and their API endpoints (the provider's `datadog:apiUrl`).
SITES = {site: f"https://api.{site}/" for site in (
    "datadoghq.com", "us3.datadoghq.com", "us5.datadoghq.com", "datadoghq.eu",
    "ap1.datadoghq.com", "ap2.datadoghq.com", "ddog-gov.com")}
DATABASE_KINDS = {"postgres": 5432, "mysql": 3306}
# Every default of a `datadog-stack` key, in one place. `env`, `databasePort` and
# `databaseName` have none here: theirs follow the stack name and `databaseKind`.
DEFAULTS: dict[str, Any] = {
    "hostTags": [], "site": "datadoghq.com", "installDatabase": False,
    "warningThreshold": 500, "criticalThreshold": 800,
    # my_metric is uniform on 0-1000: its 5-minute average centres on 500, so 200 is as
    # rare a low as 800 is a high and a warning clears about as seldom as an alert fires;
    # an alert steps down only once halfway back to the warning (`make bench`,
    # rules/monitor_states.py).
    "warningRecovery": 200, "criticalRecovery": 650,
    "noDataTimeframe": 10, "timezone": "UTC", "officeHoursStart": "09:00",
    "officeHoursEnd": "19:00", "checkInterval": 45, "logsEnabled": False,
    "installAgent": False, "apmService": "flask-app", "apmVersion": "1.0.0", "apmPort": 5050,
    # Loopback: the seed's development server listened on every interface; exposing the
    # app (0.0.0.0, ::, or one interface's address) is a choice to make.
    "apmBindAddress": "127.0.0.1",
    # Empty: the commands log in with sshPrivateKey. A path: through that ssh-agent's
    # socket instead (exactly one of the two is set).
    "sshAgentSocket": "",
    # The team's own monitors and dashboards, relative to the project (docs/catalog.md).
    "catalogDir": "catalog",
    # A fleet (docs/fleet.md): `all` declares the Datadog objects and the hosts, `account`
    # only the objects, `hosts` only its hosts, beside the account stack it names.
    "role": fleet.ALL, "accountStack": "",
    # An account stack lists none; every other role at least one.
    "hosts": [],
}
# Every pattern is matched against the whole value (re.fullmatch): `$` would also match
# before a trailing newline, and a pasted "team:a\n" would reach datadog.yaml.
# A Datadog host tag is `key:value`: lowercase-friendly ASCII, no spaces (both seeds
# broke their host map with spaces or a flow-style string here).
_TAG = re.compile(r"[A-Za-z][A-Za-z0-9_./-]*:[A-Za-z0-9_./:-]+")
_HANDLE = re.compile(r"@[A-Za-z0-9][A-Za-z0-9._%+-]*@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")
_TAG_VALUE = re.compile(r"[A-Za-z0-9_.:/-]{1,200}")  # a Datadog tag value: no spaces
_USER = re.compile(r"[a-z_][a-z0-9_-]{0,31}")
_CLOCK = re.compile(r"(\d{2}):(\d{2})")
# A local path: no control characters (a pasted "catalog\n" would name no directory and
# silently mean "no catalog"), no surrounding spaces.
_PATH = re.compile(r"[^\x00-\x1f\x7f\s](?:[^\x00-\x1f\x7f]*[^\x00-\x1f\x7f\s])?")
# Tag keys Datadog reserves (https://docs.datadoghq.com/getting_started/tagging/, the
# "reserved tag keys" table: host, device, source, service, env, version; env has its own
# setting). The Agent, its integrations and the tracer set them per source of data.
RESERVED_TAG_KEYS = {"host": "the host's name", "device": "a device of the host",
                     "source": "the integration a log comes from",
                     "service": "the app's apmService", "version": "the app's apmVersion"}
# Ports the Datadog Agent listens on on every VM (datadog-agent's
# pkg/config/config_template.yaml at commit 0007516b: `dogstatsd_port` 8125, APM
# `apm_config.receiver_port` 8126, `expvar_port` 5000, `cmd_port` 5001,
# `apm_config.debug.port` 5012, the process Agent's `process_config.expvar_port` 6062 and
# `process_config.cmd_port` 6162; `GUI_port` 5002 is off by default on Linux, refused so
# turning the GUI on cannot collide with the app). The app's port must not take one.
AGENT_PORTS = {8125: "DogStatsD", 8126: "APM trace intake", 5000: "expvar", 5001: "IPC API",
               5002: "GUI", 5012: "trace Agent debug server", 6062: "process Agent expvar",
               6162: "process Agent runtime settings"}
# Below this port Linux needs CAP_NET_BIND_SERVICE (capabilities(7): "Bind a socket to
# Internet domain privileged ports (port numbers less than 1024)"); the app's unit runs it
# under DynamicUser=yes with NoNewPrivileges=yes and no AmbientCapabilities= (systemd.exec(5)),
# so gunicorn could not bind it.
FIRST_UNPRIVILEGED_PORT = 1024
# Downtime windows that touch office hours must not contain a daylight-saving change
# (see downtime_rules): DST changes happen before 04:00 local, so office hours must
# start at 06:00 or later (04:00 plus the one hour a DST change can shift a window).
EARLIEST_OFFICE_START = time(6, 0)


class ConfigSource(Protocol):
    """Where config comes from; keys are full (`datadog-stack:site`, `datadog:apiUrl`)."""

    def get(self, key: str) -> str | None:
        """The value as the engine hands it over: a string, JSON for lists and mappings.
        For a secret, its plain text: settings reads it only to validate it (the error
        names the key, never the value) and keeps the opaque `secret` instead."""

    def is_secret(self, key: str) -> bool:
        """Whether the stack file stores the value encrypted."""

    def secret(self, key: str) -> Any:
        """The value as an opaque secret (never unwrapped here), or None when unset."""


class _Reader:
    """Reads raw config values, turning every failure into a ConfigError."""

    def __init__(self, source: ConfigSource):
        self._source = source

    def raw(self, key: str) -> Any:
        """A structured (list or mapping) value, or its default."""
        text = self._source.get(_k(key))
        if text is None:
            return DEFAULTS.get(key)
        try:
            return json.loads(text)
        except ValueError:  # the engine hands structured values over as JSON
            raise ConfigError(_k(key), "must be a list or mapping, not a plain value") from None

    def value(self, key: str, derived: Any = None) -> Any:
        """A scalar value, as the string the engine hands over; else its default from
        DEFAULTS, or `derived` for a key whose default follows other settings."""
        value = self._source.get(_k(key))
        if value is not None:
            return value
        return DEFAULTS[key] if key in DEFAULTS else derived

    def is_set(self, key: str) -> bool:
        return self._source.get(_k(key)) is not None

    def secret(self, key: str, problem: Callable[[str], str | None] | None = None) -> Any:
        """The opaque secret, after `problem(text)` (None when the text is acceptable)
        checked its plain text. The text is never kept, printed or put in the error."""
        how = f"set it with `pulumi config set --secret {_k(key)} ...`"
        value = self._source.secret(_k(key))
        if value is None:
            raise ConfigError(_k(key), f"is missing; {how}")
        if not self._source.is_secret(_k(key)):
            raise ConfigError(_k(key), f"is stored in plain text in the stack file; {how}")
        text = self._source.get(_k(key))
        found = problem(text) if problem is not None and isinstance(text, str) else None
        if found:
            raise ConfigError(_k(key), f"{found}; {how}")
        return value


def _k(key: str) -> str:
    return key if ":" in key else f"{NAMESPACE}:{key}"


def _string(key: str, value: Any, pattern: re.Pattern | None = None, what: str = "") -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(key, "must be a non-empty string")
    if pattern is not None and not pattern.fullmatch(value):
        raise ConfigError(key, f"{value!r} is not {what}")
    return value


def _number(key: str, value: Any) -> float:
    if isinstance(value, bool):
        raise ConfigError(key, f"{value!r} is not a number")
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        raise ConfigError(key, f"{str(value)[:40]!r} is not a number") from None
    if not math.isfinite(number):
        raise ConfigError(key, f"{value!r} is not a finite number")
    return number


def _integer(key: str, value: Any, low: int, high: int, unit: str = "") -> int:
    number = _number(key, value)
    if number != int(number):
        raise ConfigError(key, f"{value!r} is not a whole number")
    if not low <= number <= high:
        raise ConfigError(key, f"{int(number)} is outside {low}-{high}{unit}")
    return int(number)


def _boolean(key: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise ConfigError(key, f"{value!r} is not true or false")


def _clock(key: str, value: Any) -> int:
    match = _CLOCK.fullmatch(value) if isinstance(value, str) else None
    if not match:
        raise ConfigError(key, f"{value!r} is not a time of day HH:MM")
    hours, minutes = int(match[1]), int(match[2])
    if minutes > 59 or hours > 24 or (hours == 24 and minutes):
        raise ConfigError(key, f"{value!r} is outside 00:00-24:00")
    return hours * 60 + minutes


def _hosts(read: _Reader) -> tuple[Host, ...]:
    key = _k("hosts")
    raw = read.raw("hosts")
    if not isinstance(raw, list):
        raise ConfigError(key, "must be a list of hosts, each a mapping with name and address")
    if not raw:
        raise ConfigError(key, "must list at least one host (name, address)")
    hosts = tuple(_host(f"{key}[{i}]", item) for i, item in enumerate(raw))
    seen: set[str] = set()
    for i, host in enumerate(hosts):
        if host.name in seen:
            raise ConfigError(f"{key}[{i}].name", f"{host.name!r} is listed twice")
        seen.add(host.name)
    return hosts


def _host(key: str, item: Any) -> Host:
    if not isinstance(item, Mapping):
        raise ConfigError(key, "must be a mapping with name and address")
    unknown = set(item) - {"name", "address", "sshPort", "sshUser"}
    if unknown:
        raise ConfigError(f"{key}.{sorted(unknown)[0]}", "is not a known host setting "
                          "(name, address, sshPort, sshUser)")
    return Host(
        name=_host_name(f"{key}.name", item.get("name")),
        address=_address(f"{key}.address", item.get("address")),
        ssh_port=_integer(f"{key}.sshPort", item.get("sshPort", 22), 1, 65535),
        ssh_user=_string(f"{key}.sshUser", item.get("sshUser", "root"), _USER,
                         "a Unix user name"),
    )


def _host_name(key: str, value: Any) -> str:
    """The Datadog hostname: what the Agent's own validation takes (rules/host_names.py)."""
    name = _string(key, value)
    problem = agent_hostname_problem(name)
    if problem:
        raise ConfigError(key, problem)
    return name


def _address(key: str, value: Any) -> str:
    address = _string(key, value)
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        if re.fullmatch(r"[\d.]+", address) or len(address) > AGENT_HOSTNAME_MAX \
                or not AGENT_HOSTNAME.fullmatch(address):
            raise ConfigError(key, f"{address!r} is not a hostname or IP address") from None
        return address


def _site(read: _Reader) -> str:
    key = _k("site")
    site = _string(key, read.value("site"))
    if site not in SITES:
        raise ConfigError(key, f"{site!r} is not a Datadog site ({', '.join(SITES)})")
    # The provider reads its endpoint from datadog:apiUrl, not from our site: a site
    # other than the default needs both, and they must agree (a loopback URL is a test
    # stand-in of the API and is accepted).
    api_url = read.value("datadog:apiUrl")
    loopback = api_url is not None and re.fullmatch(
        r"https?://(127\.\d+\.\d+\.\d+|localhost)(:\d{1,5})?/?", api_url)
    if not loopback and (api_url or SITES["datadoghq.com"]).rstrip("/") != SITES[site].rstrip("/"):
        raise ConfigError("datadog:apiUrl", f"{api_url!r} does not match site {site}: set "
                          f"`pulumi config set datadog:apiUrl {SITES[site]}`")
    return site


def _host_tags(read: _Reader) -> tuple[str, ...]:
    key = _k("hostTags")
    raw = read.raw("hostTags")
    if not isinstance(raw, list):
        raise ConfigError(key, "must be a list of key:value strings")
    for i, tag in enumerate(raw):
        _string(f"{key}[{i}]", tag, _TAG, "a key:value tag without spaces")
        name = tag.partition(":")[0].lower()
        if name == "env":
            # datadog.yaml already tags the host env:<env>; a second env tag would put
            # the host in two environments.
            raise ConfigError(f"{key}[{i}]", f"{tag!r} sets the env tag: set "
                              f"`{NAMESPACE}:env` instead (the Agent tags the host with it)")
        if name == fleet.FLEET_TAG_KEY:
            raise ConfigError(f"{key}[{i}]", f"{tag!r} uses {name}, the fleet tag's key: a "
                              "host-group stack adds it from its account stack (docs/fleet.md)")
        if name in RESERVED_TAG_KEYS:
            raise ConfigError(f"{key}[{i}]", f"{tag!r} uses {name}, a tag key Datadog reserves "
                              f"({RESERVED_TAG_KEYS[name]}); a host tag would put it on every "
                              "metric of the host")
    return tuple(raw)


def _database(read: _Reader) -> Database:
    kind = read.value("databaseKind")
    if kind not in DATABASE_KINDS:
        raise ConfigError(_k("databaseKind"), f"{kind!r} is not one of "
                          f"{', '.join(sorted(DATABASE_KINDS))}")
    return Database(
        kind=kind,
        # The database runs on each VM, as in the seeds: install.sh applies the datadog
        # user's SQL to the local server, so the integration connects locally too.
        host="localhost",
        port=_integer(_k("databasePort"), read.value("databasePort", DATABASE_KINDS[kind]),
                      1, 65535),
        name=_string(_k("databaseName"), read.value("databaseName", "postgres"
                     if kind == "postgres" else "mysql"), _NAME, "a database name"),
        install=_boolean(_k("installDatabase"), read.value("installDatabase")),
    )


def _thresholds(read: _Reader) -> Thresholds:
    warning = _number(_k("warningThreshold"), read.value("warningThreshold"))
    critical = _number(_k("criticalThreshold"), read.value("criticalThreshold"))
    if warning >= critical:
        raise ConfigError(_k("warningThreshold"),
                          f"{warning:g} must be below criticalThreshold {critical:g} "
                          "(the monitor alerts on values above them)")
    return Thresholds(
        warning=warning, critical=critical,
        warning_recovery=_recovery(read, "warningRecovery", "warningThreshold", warning),
        critical_recovery=_recovery(read, "criticalRecovery", "criticalThreshold", critical),
    )


def _recovery(read: _Reader, key: str, threshold_key: str, threshold: float) -> float:
    # The query alerts on `>`: Datadog recovers a `>` monitor when the value is `<=` the
    # recovery threshold (docs: monitors/guide/recovery-thresholds), so a recovery
    # threshold at or above its alert threshold could not hold the state.
    recovery = _number(_k(key), read.value(key))
    if recovery >= threshold:
        raise ConfigError(_k(key), f"{recovery:g} must be below {threshold_key} {threshold:g} "
                          "(the monitor alerts above it and recovers at or below this value)")
    return recovery


def _timezone(read: _Reader, hours: OfficeHours) -> str:
    key = _k("timezone")
    name = _string(key, read.value("timezone"))
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ConfigError(key, f"{name!r} is not an IANA timezone such as Europe/Paris") from None
    problem = clock_change_problem(name, hours)
    if problem:
        raise ConfigError(key, f"{name!r} is not supported by the DST-safe downtimes: {problem}")
    return name


def _office_hours(read: _Reader) -> OfficeHours:
    start = _clock(_k("officeHoursStart"), read.value("officeHoursStart"))
    end = _clock(_k("officeHoursEnd"), read.value("officeHoursEnd"))
    if start >= end:
        raise ConfigError(_k("officeHoursStart"), f"{label(start)} must be before "
                          f"officeHoursEnd {label(end)}")
    earliest = EARLIEST_OFFICE_START.hour * 60
    if start < earliest:
        raise ConfigError(_k("officeHoursStart"), f"{label(start)} is before "
                          f"{label(earliest)}, the earliest start the "
                          "DST-safe downtimes support")
    return OfficeHours(start_minutes=start, end_minutes=end)


def _apm(read: _Reader, database: Database) -> Apm:
    return Apm(
        service=_apm_service(read),
        version=_string(_k("apmVersion"), read.value("apmVersion"), _TAG_VALUE,
                        "a version tag value (letters, digits, _ . : / -)"),
        port=_apm_port(read, database),
        bind_address=_bind_address(read),
    )


def _apm_service(read: _Reader) -> str:
    key = _k("apmService")
    service = _string(key, read.value("apmService"), _NAME,
                      "a service name (lowercase letters, digits, - and _)")
    reason = reserved_reason(service)
    if reason:
        raise ConfigError(key, f"{service!r} {reason}")
    return service


def _apm_port(read: _Reader, database: Database) -> int:
    key = _k("apmPort")
    port = _integer(key, read.value("apmPort"), 1, 65535)
    if port < FIRST_UNPRIVILEGED_PORT:
        raise ConfigError(key, f"{port} is below {FIRST_UNPRIVILEGED_PORT}: the app runs as an "
                          "unprivileged dynamic user without CAP_NET_BIND_SERVICE and could "
                          "not listen there")
    if port == database.port:
        raise ConfigError(key, f"{port} is databasePort, where the database listens")
    if port in AGENT_PORTS:
        raise ConfigError(key, f"{port} is the Datadog Agent's {AGENT_PORTS[port]} port")
    return port


def _bind_address(read: _Reader) -> str:
    key = _k("apmBindAddress")
    value = _string(key, read.value("apmBindAddress"))
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        raise ConfigError(key, f"{value!r} is not an IP address such as 127.0.0.1, "
                          "0.0.0.0 or ::") from None


def _ssh_login(read: _Reader) -> tuple[Any, str]:
    """(private key, agent socket): exactly one of sshPrivateKey and sshAgentSocket.

    The socket is a path in config, not $SSH_AUTH_SOCK read here: the same config gives the
    same inputs. pulumi-command dials it as given (net.Dial("unix", path), no ~ or $VAR
    expansion: provider/pkg/provider/remote/connection.go), so it must be absolute."""
    key, socket_key = SECRET_KEYS[2], _k("sshAgentSocket")
    socket = read.value("sshAgentSocket")
    if not isinstance(socket, str) or (socket and not re.fullmatch(r"/[^\x00-\x1f\x7f]*", socket)):
        raise ConfigError(socket_key, f"{socket!r} is not an absolute path to an ssh-agent socket "
                          "(the provider expands no ~ or $VAR)")
    if socket and read.is_set(key):
        raise ConfigError(socket_key, f"is set together with {key}: set only one of them "
                          "(the agent keeps the key out of config and state)")
    if socket:
        return None, socket
    if not read.is_set(key):
        raise ConfigError(key, f"is missing; set it with `pulumi config set --secret {key} ...`, "
                          f"or set {socket_key} to an ssh-agent's socket instead")
    return read.secret(key, _ssh_private_key_problem), ""


KNOWN_KEYS = set(DEFAULTS) | {
    "env", "databaseKind", "databasePort", "databaseName", "databasePassword",
    "notify", "sshPrivateKey",
}


def check_known_keys(keys: list[str]) -> None:
    """A misspelt key would silently fall back to a default: reject it instead."""
    for full in sorted(keys):
        namespace, _, key = full.partition(":")
        if namespace == NAMESPACE and key not in KNOWN_KEYS:
            raise ConfigError(full, "is not a setting of this stack (see docs/configuration.md)")


def _key_problem(text: str) -> str | None:
    """Datadog API and application keys: Datadog issues them as hexadecimal strings (32 and
    40 characters) and both travel in HTTP headers (DD-API-KEY, DD-APPLICATION-KEY) and in
    datadog.yaml. Only what cannot be the key is refused (the provider's validation call
    checks the key itself), above all a line break pasted with it."""
    if not text:
        return "is empty"
    if any(ch.isspace() for ch in text):
        return "contains whitespace or a line break (pasted with the key?)"
    if not all("!" <= ch <= "~" for ch in text):
        return "contains characters other than visible ASCII, which a Datadog key never has"
    return None


def _database_password_problem(kind: str) -> Callable[[str], str | None]:
    def problem(text: str) -> str | None:
        if not text:
            return ("is empty (what CI gets from an unset secret): the Agent's database user "
                    "needs a password")
        if "\0" in text:
            # libpq takes every connection parameter as a NUL-terminated C string.
            return "contains a NUL character, which no database client can send"
        if text.endswith(("\n", "\r")):
            return "ends in a line break (pasted from a file or `echo`?); set it without one"
        # postgres takes any Unicode password: psycopg 3 sends the connection string, the
        # password in it, as UTF-8 (psycopg/generators.py, 3.2.9 line 75 and 3.3.9 line 72:
        # `pq.PGconn.connect_start(conninfo.encode())`), and render.py's SCRAM verifier
        # prepares the same UTF-8 as the server (SASLprep).
        if kind == "mysql":
            try:
                text.encode("latin-1")
            except UnicodeEncodeError:
                # integrations-core's mysql check hands PyMySQL the password as a str
                # (mysql/datadog_checks/mysql/mysql.py, `connection_args.update({'user': ...,
                # 'passwd': self._config.password})`), and PyMySQL sends a str password as
                # Latin-1 (PyMySQL 1.1.1, integrations-core's pin, pymysql/connections.py:300-301:
                # `if isinstance(self.password, str):`
                # `    self.password = self.password.encode("latin1")`).
                return ("contains characters outside Latin-1, which the Agent's MySQL driver "
                        "(PyMySQL) cannot send; use Latin-1 characters with databaseKind mysql")
        return None

    return problem


def _ssh_private_key_problem(text: str) -> str | None:
    """The key's text is wanted; a path or a public key is a common mix-up."""
    first = text.strip().splitlines()[0] if text.strip() else ""
    if not first:
        return "is empty"
    if first.startswith(("ssh-", "ecdsa-sha2-", "sk-ssh-", "sk-ecdsa-")):
        return "is a public key: set the private key's text"
    if "\n" not in text.strip() and first.startswith(("/", "~", "./", "../")):
        return "is a file path, not the key's text: give the file on stdin (`< ~/.ssh/id_ed25519`)"
    return None


def _role(read: _Reader, stack: str) -> tuple[str, str]:
    """(role, account stack): what this stack declares (rules/fleet.py) and, for a
    host-group stack, the account stack it reads the fleet's values from."""
    key, account_key = _k("role"), _k("accountStack")
    role = read.value("role")
    if role not in fleet.ROLES:
        raise ConfigError(key, f"{role!r} is not a role ({fleet.roles_text()}: the Datadog "
                          "objects and the hosts, only the objects, only a group's hosts)")
    account = read.value("accountStack")
    if not isinstance(account, str):
        raise ConfigError(account_key, "must be a stack name or org/project/stack")
    if role != fleet.HOSTS:
        if account:
            raise ConfigError(account_key, f"is set on a stack with role {role}: only a "
                              f"`{fleet.HOSTS}` stack names its account stack")
        return role, ""
    if not account:
        raise ConfigError(account_key, f"is missing: a `{fleet.HOSTS}` stack names its account "
                          "stack (a stack name in this backend, or org/project/stack)")
    problem = fleet.stack_reference_problem(account, stack)
    if problem:
        raise ConfigError(account_key, problem)
    return role, account


def _no_hosts(read: _Reader) -> tuple[Host, ...]:
    """An account stack's hosts: none (its host-group stacks declare them)."""
    raw = read.raw("hosts")
    if raw not in (None, []):
        raise ConfigError(_k("hosts"), f"is set on a stack with role {fleet.ACCOUNT}: an "
                          "account stack declares no host; list them in a host-group stack "
                          f"(role {fleet.HOSTS}, accountStack naming this stack)")
    return ()


def load(source: ConfigSource, stack: str) -> Settings:
    """Read and validate every setting; raise ConfigError on the first bad one."""
    read = _Reader(source)
    role, account_stack = _role(read, stack)
    office_hours = _office_hours(read)
    # An account stack opens no SSH session and installs no database user: it needs
    # neither login nor password. A host-group stack declares no Datadog object: the
    # provider's application key is not needed there.
    ssh_key, ssh_agent_socket = _ssh_login(read) if role != fleet.ACCOUNT else (None, "")
    if role != fleet.HOSTS:
        for key in PROVIDER_SECRET_KEYS:
            read.secret(key, _key_problem)
    database = _database(read)
    # Read in the order the keys have always been checked: the first bad one is reported.
    env = _string(_k("env"), read.value("env", stack), _NAME, "an env tag value")
    site = _site(read)
    hosts = _hosts(read) if role != fleet.ACCOUNT else _no_hosts(read)
    host_tags = _host_tags(read)
    thresholds = _thresholds(read)
    no_data_minutes = _integer(_k("noDataTimeframe"), read.value("noDataTimeframe"),
                               1, 1440, " minutes")
    notify = _string(_k("notify"), read.value("notify"), _HANDLE,
                     "an email @-handle such as @ops@example.com")
    timezone = _timezone(read, office_hours)
    agent = AgentSettings(
        stack=stack, env=env, site=site, host_tags=host_tags, database=database,
        check_interval=_integer(_k("checkInterval"), read.value("checkInterval"),
                                1, 86400, " seconds"),
        logs_enabled=_boolean(_k("logsEnabled"), read.value("logsEnabled")),
        install_agent=_boolean(_k("installAgent"), read.value("installAgent")),
    )
    return Settings(
        agent=agent,
        hosts=hosts,
        thresholds=thresholds,
        no_data_minutes=no_data_minutes,
        notify=notify,
        timezone=timezone,
        office_hours=office_hours,
        apm=_apm(read, database),
        catalog_dir=_string(_k("catalogDir"), read.value("catalogDir"), _PATH,
                            "a directory path without control characters or surrounding spaces"),
        validate=_boolean("datadog:validate", read.value("datadog:validate") or "true"),
        secrets=Secrets(
            api_key=read.secret(SECRET_KEYS[0], _key_problem),
            database_password=read.secret(SECRET_KEYS[1],
                                          _database_password_problem(database.kind))
            if role != fleet.ACCOUNT else None,
            ssh_private_key=ssh_key,
        ),
        ssh_agent_socket=ssh_agent_socket,
        role=role,
        account_stack=account_stack,
    )
