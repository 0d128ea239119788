"""Pure rendering of everything the Datadog Agent needs on one VM.

Nothing here touches the network, the clock, randomness or the disk (except reading the
check's source next to this module). Secrets arrive as plain `str` ONLY inside a
`pulumi.Output.apply` (or as the offline plan's "[secret]" placeholder); this module never
imports pulumi, so the Agent tier (venv-agent) can use it too.

Public API
----------
render_host_files(settings, host, api_key, db_password) -> dict[str, bytes]
    Absolute VM path -> content of every file install.sh installs under /etc/datadog-agent.
    The SQL that creates the `datadog` database user is NOT in it (it is applied, not
    installed): get it from `database_user_sql(settings, db_password)`.
agent_files(settings, host, api_key, db_password) -> tuple[AgentFile, ...]
    The same files with mode, owner and whether they carry a secret.
file_attributes(settings) -> dict[str, tuple[int, str]]
    Absolute VM path -> (mode, owner), without needing any secret.
database_user_sql(settings, db_password) -> bytes
    Idempotent SQL creating/updating the `datadog` user (PostgreSQL or MySQL/MariaDB).
build_bundle(settings, host, api_key, db_password) -> bytes
    Deterministic .tar.gz of the bundle install.sh consumes (layout in BUNDLE_LAYOUT).
"""
from __future__ import annotations

import gzip
import hashlib
import io
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:  # settings imports pulumi, which venv-agent does not have
    from settings import Host, Settings

AGENT_DIR = "/etc/datadog-agent"
DATADOG_YAML = f"{AGENT_DIR}/datadog.yaml"
CHECK_PY = f"{AGENT_DIR}/checks.d/my_metric.py"
CHECK_YAML = f"{AGENT_DIR}/conf.d/my_metric.yaml"
DB_CONF = {
    "postgres": f"{AGENT_DIR}/conf.d/postgres.d/conf.yaml",
    "mysql": f"{AGENT_DIR}/conf.d/mysql.d/conf.yaml",
}
OWNER = "dd-agent"
CONFIG_MODE = 0o640  # readable by the Agent (group dd-agent), not by other users
CHECK_MODE = 0o644
# Where the bundle is unpacked on the VM (root-only, 0700); install.sh lives in it too.
BUNDLE_DIR = "/var/lib/datadog-stack/bundle"
BUNDLE_LAYOUT = """\
install.sh        the installer (agent_files/install.sh)
manifest          one line per installed file: <octal mode> <owner> <path relative to />
files/<path>      the content of each installed file
database.sql      idempotent SQL for the datadog database user (applied as DB superuser)
settings.env      KEY=value lines read without eval: DB_KIND, DB_PORT, INSTALL_AGENT, DD_SITE
secret.env        DD_API_KEY=..., only when installAgent is true (for Datadog's install script)
"""
HEADER = b"# Managed by Pulumi (datadog-stack); local edits are overwritten on the next `pulumi up`.\n"
CHECK_TAG = "check:my_metric"
DATADOG_DB_USER = "datadog"
MAX_USER_CONNECTIONS = 5

# The custom queries the database integrations run as the datadog user. Both report, per
# table, a cumulative counter as a gauge, tagged `table:<schema>.<table>`.
POSTGRES_CUSTOM_QUERY = {
    "metric_prefix": "postgresql.custom",
    "query": ("SELECT schemaname || '.' || relname AS table_name, seq_scan "
              "FROM pg_stat_user_tables ORDER BY 1"),
    "columns": [{"name": "table", "type": "tag"}, {"name": "seq_scans", "type": "gauge"}],
    "tags": ["query:seq_scans_per_table"],
}
MYSQL_CUSTOM_QUERY = {
    "metric_prefix": "mysql.custom",
    "query": ("SELECT CONCAT(object_schema, '.', object_name) AS table_name, count_read "
              "FROM performance_schema.table_io_waits_summary_by_table "
              "WHERE object_schema NOT IN ('mysql', 'performance_schema', 'information_schema', "
              "'sys') ORDER BY 1"),
    "columns": [{"name": "table", "type": "tag"}, {"name": "rows_read", "type": "gauge"}],
    "tags": ["query:rows_read_per_table"],
}


@dataclass(frozen=True)
class AgentFile:
    path: str  # absolute path on the VM
    content: bytes
    mode: int
    owner: str
    secret: bool  # carries the API key or the database password


def sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def _dump(document: Any) -> bytes:
    """YAML via PyYAML: block style, insertion order (deterministic), UTF-8."""
    return HEADER + yaml.safe_dump(document, default_flow_style=False, sort_keys=False,
                                   allow_unicode=True, width=200).encode()


def host_tags(settings: "Settings") -> list[str]:
    """Host tags as `key:value` strings: the configured ones, then env:<env> (no duplicates)."""
    tags: list[str] = []
    for tag in (*settings.host_tags, f"env:{settings.env}"):
        if tag not in tags:
            tags.append(tag)
    return tags


# Check instances never tag env (or host, service, version): Datadog reserves those keys
# for the Agent, which adds env from datadog.yaml to every metric.
def instance_tags(settings: "Settings") -> list[str]:
    """Tags on the metrics of the stack's checks; host tags and env are added by the Agent."""
    return [f"stack:{settings.stack}"]


def datadog_yaml(settings: "Settings", host: "Host", api_key: str) -> bytes:
    return _dump({
        "api_key": api_key,
        "site": settings.site,
        "hostname": host.name,
        "tags": host_tags(settings),
        "env": settings.env,
        "apm_config": {"enabled": True},
        "logs_enabled": bool(settings.logs_enabled),
    })


def check_source() -> bytes:
    return (Path(__file__).parent / "my_metric.py").read_bytes()


def check_config(settings: "Settings") -> bytes:
    return _dump({
        "init_config": {},
        "instances": [{
            "min_collection_interval": int(settings.check_interval),
            "tags": instance_tags(settings),
        }],
    })


def database_config(settings: "Settings", db_password: str) -> bytes:
    db = settings.database
    tags = instance_tags(settings) + [f"db:{db.name}"]
    if db.kind == "postgres":
        instance = {
            "host": db.host,
            "port": db.port,
            "username": DATADOG_DB_USER,
            "password": db_password,
            "dbname": db.name,
            "tags": tags,
            "custom_queries": [POSTGRES_CUSTOM_QUERY],
        }
    elif db.kind == "mysql":
        instance = {
            "host": db.host,
            "port": db.port,
            "username": DATADOG_DB_USER,
            "password": db_password,
            "tags": tags,
            "options": {
                "replication": False,
                "galera_cluster": False,
                "extra_status_metrics": True,
                "extra_innodb_metrics": True,
                "schema_size_metrics": False,
            },
            "custom_queries": [MYSQL_CUSTOM_QUERY],
        }
    else:
        raise ValueError(f"unknown database kind {db.kind!r}")
    return _dump({"init_config": {}, "instances": [instance]})


def _pg_literal(value: str) -> str:
    # standard_conforming_strings is forced on in the script: only ' needs doubling.
    return "'" + value.replace("'", "''") + "'"


def _pg_ident(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


def _mysql_literal(value: str) -> str:
    # The script clears sql_mode (so NO_BACKSLASH_ESCAPES is off): escape \ then '.
    return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"


def database_user_sql(settings: "Settings", db_password: str) -> bytes:
    """Idempotent SQL: creates the datadog user or resets its password and grants."""
    db = settings.database
    if db.kind == "postgres":
        password = _pg_literal(db_password)
        sql = f"""\
-- Managed by Pulumi (datadog-stack): the Agent's read-only monitoring role.
SET standard_conforming_strings = on;
DO $datadog$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'datadog') THEN
    CREATE ROLE datadog LOGIN;
  END IF;
END
$datadog$;
ALTER ROLE datadog WITH LOGIN PASSWORD {password};
GRANT pg_monitor TO datadog;
GRANT SELECT ON pg_catalog.pg_stat_database TO datadog;
GRANT CONNECT ON DATABASE {_pg_ident(db.name)} TO datadog;
"""
    elif db.kind == "mysql":
        password = _mysql_literal(db_password)
        lines = ["-- Managed by Pulumi (datadog-stack): the Agent's monitoring user.",
                 "SET SESSION sql_mode = '';"]
        for where in ("localhost", "127.0.0.1"):
            account = f"'datadog'@'{where}'"
            lines += [
                f"CREATE USER IF NOT EXISTS {account} IDENTIFIED BY {password};",
                f"ALTER USER {account} IDENTIFIED BY {password} "
                f"WITH MAX_USER_CONNECTIONS {MAX_USER_CONNECTIONS};",
                f"GRANT REPLICATION CLIENT, PROCESS ON *.* TO {account};",
                f"GRANT SELECT ON performance_schema.* TO {account};",
            ]
        sql = "\n".join(lines) + "\n"
    else:
        raise ValueError(f"unknown database kind {db.kind!r}")
    return sql.encode()


def agent_files(settings: "Settings", host: "Host", api_key: str,
                db_password: str) -> tuple[AgentFile, ...]:
    files = [
        AgentFile(DATADOG_YAML, datadog_yaml(settings, host, api_key), CONFIG_MODE, OWNER, True),
        AgentFile(CHECK_PY, check_source(), CHECK_MODE, OWNER, False),
        AgentFile(CHECK_YAML, check_config(settings), CONFIG_MODE, OWNER, False),
        AgentFile(DB_CONF[settings.database.kind], database_config(settings, db_password),
                  CONFIG_MODE, OWNER, True),
    ]
    return tuple(sorted(files, key=lambda f: f.path))


def render_host_files(settings: "Settings", host: "Host", api_key: str,
                      db_password: str) -> dict[str, bytes]:
    return {f.path: f.content for f in agent_files(settings, host, api_key, db_password)}


def file_attributes(settings: "Settings") -> dict[str, tuple[int, str]]:
    return {f.path: (f.mode, f.owner)
            for f in agent_files(settings, _NoHost(), "[secret]", "[secret]")}


class _NoHost:
    name = "[host]"


def install_script() -> bytes:
    return (Path(__file__).parent / "install.sh").read_bytes()


def _env_file(values: dict[str, str]) -> bytes:
    for key, value in values.items():
        if "\n" in value or "\r" in value:
            raise ValueError(f"{key} must be a single line")
    return "".join(f"{key}={value}\n" for key, value in values.items()).encode()


def bundle_members(settings: "Settings", host: "Host", api_key: str,
                   db_password: str) -> dict[str, tuple[bytes, int]]:
    """Bundle-relative path -> (content, mode inside the bundle)."""
    files = agent_files(settings, host, api_key, db_password)
    members: dict[str, tuple[bytes, int]] = {
        "install.sh": (install_script(), 0o700),
        "manifest": ("".join(f"{f.mode:04o} {f.owner} {f.path.lstrip('/')}\n"
                             for f in files).encode(), 0o600),
        "database.sql": (database_user_sql(settings, db_password), 0o600),
        "settings.env": (_env_file({
            "DB_KIND": settings.database.kind,
            "DB_PORT": str(settings.database.port),
            "INSTALL_AGENT": "true" if settings.install_agent else "false",
            "DD_SITE": settings.site,
        }), 0o600),
    }
    if settings.install_agent:
        members["secret.env"] = (_env_file({"DD_API_KEY": api_key}), 0o600)
    for f in files:
        members["files/" + f.path.lstrip("/")] = (f.content, 0o600)
    return dict(sorted(members.items()))


def build_bundle(settings: "Settings", host: "Host", api_key: str, db_password: str) -> bytes:
    """Deterministic tar.gz (fixed mtime/owner, sorted entries): same input, same bytes."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        directories: set[str] = set()
        for name, (content, mode) in bundle_members(settings, host, api_key, db_password).items():
            parts = name.split("/")[:-1]
            for depth in range(1, len(parts) + 1):
                directory = "/".join(parts[:depth])
                if directory not in directories:
                    directories.add(directory)
                    tar.addfile(_tarinfo(directory, tarfile.DIRTYPE, 0o700, 0))
            tar.addfile(_tarinfo(name, tarfile.REGTYPE, mode, len(content)), io.BytesIO(content))
    packed = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=packed, mtime=0) as gz:
        gz.write(raw.getvalue())
    return packed.getvalue()


def _tarinfo(name: str, kind: bytes, mode: int, size: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.mode, info.size = kind, mode, size
    info.mtime, info.uid, info.gid, info.uname, info.gname = 0, 0, 0, "root", "root"
    return info
