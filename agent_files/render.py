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
    Idempotent SQL creating/updating the `datadog` user (PostgreSQL or MySQL/MariaDB), with
    the password as the verifier or hash agent_files/db_auth.py computes.
build_bundle(settings, host, api_key, db_password) -> bytes
    Deterministic uncompressed USTAR tar of the bundle install.sh consumes (layout in
    BUNDLE_LAYOUT). Not compressed on purpose: gzip output differs between zlib builds, and
    the bundle's sha256 is a trigger, so it must be the same bytes on every machine.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from agent_files import tarball
from agent_files.db_auth import DATADOG_DB_USER, mysql_native_hash, postgres_verifier
from domain import AgentSettings, Host

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
# The stack's root-only (0700) directory on the VM. Each bundle is unpacked into
# BUNDLES_DIR/<sha256 of the tar>; BUNDLE_DIR is a symlink to the current one, switched
# atomically (install.sh and the teardown use the symlink). install.sh keeps its state in
# STACK_DIR/state.
STACK_DIR = "/var/lib/datadog-stack"
BUNDLES_DIR = f"{STACK_DIR}/bundles"
BUNDLE_DIR = f"{STACK_DIR}/bundle"
BUNDLE_LAYOUT = """\
install.sh        the installer (agent_files/install.sh)
install.d/*.sh    its parts, one concern a file, sourced by install.sh (agent_files/install.d)
manifest          one line per installed file: <octal mode> <owner> <sha256> <path relative to />
files/<path>      the content of each installed file; install.sh deletes files/ (and writes
                  `consumed`) once they are installed and verified: they hold the secrets
database.sql      idempotent SQL for the datadog database user (applied as DB superuser); it
                  carries a password verifier/hash, never the plaintext password
database-backup.sql read-only SQL printing what puts the user's current credentials back;
                  install.sh runs it before database.sql and applies its answer if the install fails
database-drop.sql SQL dropping that user (kept by install.sh if its SQL created the user)
settings.env      KEY=value lines read without eval: HOST_NAME, HOST_ADDRESS (for messages),
                  DB_KIND, DB_PORT, DB_METRIC (the custom gauge to verify), INSTALL_AGENT,
                  INSTALL_DATABASE, DD_SITE
secret.env        DD_API_KEY=..., only when installAgent is true (for Datadog's install script);
                  install.sh deletes it as soon as the Agent is present
"""
HEADER = b"# Managed by Pulumi (datadog-stack); local edits are overwritten on the next `pulumi up`.\n"
MAX_USER_CONNECTIONS = 5
# Printed by database.sql when it is about to create the user (install.sh greps for it).
DB_USER_CREATED = "datadog-stack: created the datadog user"

# The custom queries the database integrations run as the datadog user, on the connection
# the check already holds (PostgreSQL: to databaseName). Both read views every server has and
# every login can read, so they return rows on a fresh server: the check's own connection is
# always counted. Gauges, because `datadog-agent check` runs a check once and a
# monotonic_count only reports from its second sample: install.sh verifies a gauge.
POSTGRES_CUSTOM_QUERY = {
    "metric_prefix": "postgresql.custom",
    "query": ("SELECT numbackends, xact_commit + xact_rollback FROM pg_stat_database "
              "WHERE datname = current_database()"),
    "columns": [{"name": "connections", "type": "gauge"},
                {"name": "transactions", "type": "monotonic_count"}],
    "tags": ["query:database_activity"],
}
MYSQL_CUSTOM_QUERY = {
    "metric_prefix": "mysql.custom",
    "query": ("SELECT COALESCE(NULLIF(command, ''), 'unknown'), COUNT(*) "
              "FROM information_schema.PROCESSLIST GROUP BY 1 ORDER BY 1"),
    "columns": [{"name": "command", "type": "tag"}, {"name": "threads", "type": "gauge"}],
    "tags": ["query:threads_by_command"],
}
# The gauge install.sh expects in `datadog-agent check <integration>`'s output.
CUSTOM_METRIC = {"postgres": "postgresql.custom.connections", "mysql": "mysql.custom.threads"}


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


def host_tags(settings: AgentSettings) -> list[str]:
    """Host tags as `key:value` strings: the configured ones, then env:<env> (no duplicates)."""
    tags: list[str] = []
    for tag in (*settings.host_tags, f"env:{settings.env}"):
        if tag not in tags:
            tags.append(tag)
    return tags


# Check instances never tag env (or host, service, version): Datadog reserves those keys
# for the Agent, which adds env from datadog.yaml to every metric.
def instance_tags(settings: AgentSettings) -> list[str]:
    """Tags on the metrics of the stack's checks; host tags and env are added by the Agent."""
    return [f"stack:{settings.stack}"]


def datadog_yaml(settings: AgentSettings, host: Host, api_key: str) -> bytes:
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


def check_config(settings: AgentSettings) -> bytes:
    return _dump({
        "init_config": {},
        "instances": [{
            "min_collection_interval": int(settings.check_interval),
            "tags": instance_tags(settings),
        }],
    })


def database_config(settings: AgentSettings, db_password: str) -> bytes:
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


def database_user_sql(settings: AgentSettings, db_password: str) -> bytes:
    """Idempotent SQL: creates the datadog user or resets its password and grants. The
    password appears only as a verifier (PostgreSQL SCRAM-SHA-256) or hash (MySQL/MariaDB
    mysql_native_password), so no error message quoting the SQL can reveal it."""
    db = settings.database
    if db.kind == "postgres":
        password = _pg_literal(postgres_verifier(db_password))
        sql = f"""\
-- Managed by Pulumi (datadog-stack): the Agent's read-only monitoring role.
SET standard_conforming_strings = on;
-- Only warnings and errors: a rerun's "role datadog is already a member of role pg_monitor"
-- NOTICE is expected, and a user reads any output as trouble.
SET client_min_messages = warning;
SELECT '{DB_USER_CREATED}' WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'datadog');
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
        # `IDENTIFIED WITH mysql_native_password AS '<hash>'`: MariaDB 10.4+, MySQL 5.7/8.0.
        identified = f"IDENTIFIED WITH mysql_native_password AS '{mysql_native_hash(db_password)}'"
        lines = ["-- Managed by Pulumi (datadog-stack): the Agent's monitoring user.",
                 "SET SESSION sql_mode = '';",
                 f"SELECT '{DB_USER_CREATED}' FROM DUAL "
                 "WHERE NOT EXISTS (SELECT 1 FROM mysql.user WHERE User = 'datadog');"]
        for where in ("localhost", "127.0.0.1"):
            account = f"'datadog'@'{where}'"
            lines += [
                f"CREATE USER IF NOT EXISTS {account} {identified};",
                f"ALTER USER {account} {identified} "
                f"WITH MAX_USER_CONNECTIONS {MAX_USER_CONNECTIONS};",
                f"GRANT REPLICATION CLIENT, PROCESS ON *.* TO {account};",
                f"GRANT SELECT ON performance_schema.* TO {account};",
            ]
        sql = "\n".join(lines) + "\n"
    else:
        raise ValueError(f"unknown database kind {db.kind!r}")
    return sql.encode()


def database_drop_sql(settings: AgentSettings) -> bytes:
    """SQL removing the datadog user and everything granted to it. install.sh keeps a copy
    and runs it on `remove` only if its own SQL created the user (the first run printed
    DB_USER_CREATED): a user that existed before the stack is left in place."""
    if settings.database.kind == "postgres":
        # DROP OWNED also revokes its privileges here and on shared objects (the CONNECT on
        # databaseName), without which DROP ROLE fails.
        sql = """\
-- Managed by Pulumi (datadog-stack): removes the Agent's monitoring role.
SET client_min_messages = warning;
DO $datadog$
BEGIN
  IF EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'datadog') THEN
    EXECUTE 'DROP OWNED BY datadog';
    EXECUTE 'DROP ROLE datadog';
  END IF;
END
$datadog$;
"""
    else:
        sql = ("-- Managed by Pulumi (datadog-stack): removes the Agent's monitoring user.\n"
               "DROP USER IF EXISTS 'datadog'@'localhost', 'datadog'@'127.0.0.1';\n")
    return sql.encode()


# Printed by database-backup.sql for an account whose credentials it cannot write back as
# SQL (install.sh then stops before changing anything).
DB_UNRESTORABLE = "datadog-stack: cannot back up"
_PG_DROP_ONE_LINE = ("DO $r$ BEGIN IF EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = "
                     "'datadog') THEN EXECUTE 'DROP OWNED BY datadog'; EXECUTE 'DROP ROLE datadog'; "
                     "END IF; END $r$;")


def database_backup_sql(settings: AgentSettings) -> bytes:
    """SQL whose answer is SQL: run as the superuser just before database_user_sql, it prints
    the statements that put the datadog user's credentials back as they are now (install.sh
    keeps them until the new ones are verified and applies them on any failure, so the
    previous password keeps working). Read-only; what it prints carries the stored verifier
    or hash (never a plaintext password), as database.sql does.

    PostgreSQL: pg_authid.rolpassword (SCRAM or md5 verifier, stored as is by ALTER ROLE ...
    PASSWORD '<verifier>') and rolcanlogin; no role: the statement dropping it.
    MariaDB/MySQL: each account's plugin, authentication_string and max_user_connections
    (mysql.user: a view over mysql.global_priv on MariaDB 10.4+), written back with
    `ALTER USER ... IDENTIFIED WITH <plugin> AS '<string>'`; a missing account: DROP USER.
    mysql's batch output escapes backslashes and MariaDB's `AS` takes no hex literal, so an
    authentication string that is not plain base64/hex text (MySQL 8's binary
    caching_sha2_password) is reported (DB_UNRESTORABLE) instead of backed up wrongly.
    The grants database.sql adds (read-only monitoring) are not taken back."""
    if settings.database.kind == "postgres":
        drop = _pg_literal(_PG_DROP_ONE_LINE)
        sql = f"""\
-- Managed by Pulumi (datadog-stack): prints what restores the datadog role's credentials.
SELECT format('ALTER ROLE datadog WITH %s PASSWORD %s;',
              CASE WHEN rolcanlogin THEN 'LOGIN' ELSE 'NOLOGIN' END,
              COALESCE(quote_literal(rolpassword), 'NULL'))
  FROM pg_catalog.pg_authid WHERE rolname = 'datadog';
SELECT {drop} WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'datadog');
"""
    else:
        hosts = ("localhost", "127.0.0.1")
        lines = ["-- Managed by Pulumi (datadog-stack): prints what restores the datadog user's credentials.",
                 "SET SESSION sql_mode = '';",
                 "SELECT IF(authentication_string REGEXP '^[A-Za-z0-9*+/=._$-]*$', "
                 "CONCAT('ALTER USER ', QUOTE(User), '@', QUOTE(Host), ' IDENTIFIED WITH ', "
                 "IF(plugin = '', 'mysql_native_password', plugin), ' AS ', "
                 "QUOTE(authentication_string), ' WITH MAX_USER_CONNECTIONS ', "
                 "max_user_connections, ';'), "
                 f"CONCAT('{DB_UNRESTORABLE} ', User, '@', Host, "
                 "': its authentication string is not plain text')) "
                 "FROM mysql.user WHERE User = 'datadog' "
                 f"AND Host IN ('{hosts[0]}', '{hosts[1]}') ORDER BY Host;"]
        for where in hosts:
            lines.append(f"SELECT 'DROP USER IF EXISTS ''datadog''@''{where}'';' FROM DUAL WHERE NOT "
                         f"EXISTS (SELECT 1 FROM mysql.user WHERE User = 'datadog' AND Host = '{where}');")
        sql = "\n".join(lines) + "\n"
    return sql.encode()


def agent_files(settings: AgentSettings, host: Host, api_key: str,
                db_password: str) -> tuple[AgentFile, ...]:
    files = [
        AgentFile(DATADOG_YAML, datadog_yaml(settings, host, api_key), CONFIG_MODE, OWNER, True),
        AgentFile(CHECK_PY, check_source(), CHECK_MODE, OWNER, False),
        AgentFile(CHECK_YAML, check_config(settings), CONFIG_MODE, OWNER, False),
        AgentFile(DB_CONF[settings.database.kind], database_config(settings, db_password),
                  CONFIG_MODE, OWNER, True),
    ]
    return tuple(sorted(files, key=lambda f: f.path))


def render_host_files(settings: AgentSettings, host: Host, api_key: str,
                      db_password: str) -> dict[str, bytes]:
    return {f.path: f.content for f in agent_files(settings, host, api_key, db_password)}


def file_attributes(settings: AgentSettings) -> dict[str, tuple[int, str]]:
    return {f.path: (f.mode, f.owner)
            for f in agent_files(settings, _NoHost(), "[secret]", "[secret]")}


class _NoHost:
    name = "[host]"


def install_script() -> bytes:
    return (Path(__file__).parent / "install.sh").read_bytes()


def install_parts() -> dict[str, bytes]:
    """install.sh's parts, bundle-relative path (install.d/<name>.sh) -> content."""
    return {f"install.d/{part.name}": part.read_bytes()
            for part in sorted((Path(__file__).parent / "install.d").glob("*.sh"))}


def _env_file(values: dict[str, str]) -> bytes:
    for key, value in values.items():
        if "\n" in value or "\r" in value:
            raise ValueError(f"{key} must be a single line")
    return "".join(f"{key}={value}\n" for key, value in values.items()).encode()


def bundle_members(settings: AgentSettings, host: Host, api_key: str,
                   db_password: str) -> dict[str, tuple[bytes, int]]:
    """Bundle-relative path -> (content, mode inside the bundle)."""
    files = agent_files(settings, host, api_key, db_password)
    members: dict[str, tuple[bytes, int]] = {
        "install.sh": (install_script(), 0o700),
        **{path: (content, 0o600) for path, content in install_parts().items()},
        "manifest": ("".join(f"{f.mode:04o} {f.owner} {sha256(f.content)} {f.path.lstrip('/')}\n"
                             for f in files).encode(), 0o600),
        "database.sql": (database_user_sql(settings, db_password), 0o600),
        "database-backup.sql": (database_backup_sql(settings), 0o600),
        "database-drop.sql": (database_drop_sql(settings), 0o600),
        "settings.env": (_env_file({
            "HOST_NAME": host.name,
            "HOST_ADDRESS": host.address,
            "DB_KIND": settings.database.kind,
            "DB_PORT": str(settings.database.port),
            "DB_METRIC": CUSTOM_METRIC[settings.database.kind],
            "INSTALL_AGENT": "true" if settings.install_agent else "false",
            "INSTALL_DATABASE": "true" if settings.database.install else "false",
            "DD_SITE": settings.site,
        }), 0o600),
    }
    if settings.install_agent:
        members["secret.env"] = (_env_file({"DD_API_KEY": api_key}), 0o600)
    for f in files:
        members["files/" + f.path.lstrip("/")] = (f.content, 0o600)
    return dict(sorted(members.items()))


def build_bundle(settings: AgentSettings, host: Host, api_key: str, db_password: str) -> bytes:
    """The bundle install.sh consumes, as a tar from the one builder (agent_files.tarball)."""
    return tarball.build(bundle_members(settings, host, api_key, db_password))
