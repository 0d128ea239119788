"""Stand-in for the `datadog-agent` binary (configcheck, check <name>), for tests/agent and
the remote tier's test hosts.

Runs under venv-agent's python. Reads $DD_STACK_ROOT/etc/datadog-agent like the real Agent
reads /etc/datadog-agent, and appends each invocation to $STANDIN_LOG.
  configcheck     parses datadog.yaml and every YAML under conf.d; prints
                  "=== Configuration errors ===" and exits 1 on invalid YAML
  check my_metric imports checks.d/my_metric.py and runs each instance of conf.d/my_metric.yaml
  check postgres  connects as the instance of conf.d/<name>.d/conf.yaml says, with the
  check mysql     integration's own driver and arguments (psycopg 3 for postgres, PyMySQL for
                  mysql: see `connect`), then runs its custom_queries through
                  datadog_checks.base's QueryManager on that connection. Only the install.sh
                  tests of tests/agent, whose database server is a stand-in client on PATH, set
                  DD_STANDIN_DB_LOGIN=client: the login then goes through that `psql` / `mysql`

What it prints, modelled on the real Agent (DataDog/datadog-agent,
pkg/cli/subcommands/check/command.go): the series as indented JSON under "=== Series ==="
(printer.PrintMetrics), then the check's status block from the collector status template
(pkg/status/templates/collector.tmpl: "Instance ID: {{.CheckID}} {{status .}}", then
"Error: {{lastErrorMessage .LastError}}" when the run raised): "[OK]" or "[ERROR]" and the
exception's message. The real command returns nil after printing, so it exits
0 even when the check's run raised: a failed login is visible in the output only.
"""
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(os.environ.get("DD_STACK_ROOT", "/"))
AGENT = ROOT / "etc/datadog-agent"
DATABASE_CHECKS = ("postgres", "mysql")


def log(line):
    if os.environ.get("STANDIN_LOG"):
        with open(os.environ["STANDIN_LOG"], "a") as f:
            f.write(line + "\n")


def configcheck():
    errors = []
    for path in [AGENT / "datadog.yaml", *sorted((AGENT / "conf.d").rglob("*.yaml"))]:
        try:
            yaml.safe_load(path.read_text())
        except Exception as exc:  # the real Agent reports the file and the parse error
            errors.append(f"{path.relative_to(AGENT)}: {exc}")
    if errors:
        print("=== Configuration errors ===")
        print("\n".join(errors))
        return 1
    print("=== my_metric check ===\nConfiguration provider: file")
    return 0


class LoginFailed(Exception):
    """The database client could not connect or log in; its message is the server's."""


# --- the integrations' drivers ------------------------------------------------------------
# What the real checks pass their driver, from DataDog/integrations-core (read 2026-12-04):
# * mysql/datadog_checks/mysql/mysql.py `_get_connection_args`: {'ssl': None (no `ssl`
#   option), 'connect_timeout': config.connect_timeout (default 10), 'read_timeout',
#   'autocommit': True} ('read_timeout': None unless configured, so left out here), then
#   `connection_args.update({'user': ..., 'passwd': ...})` and
#   `{'host': ...}` (no mysql_sock) and `{'port': ...}`; `_connect` hands them to
#   `pymysql.connect(**connection_args)`. The password goes as the config's `str`, which
#   PyMySQL 1.1.1 encodes as latin-1 (pymysql/connections.py `Connection.__init__`:
#   `self.password = self.password.encode("latin1")`): a character outside latin-1 raises
#   UnicodeEncodeError before any byte is sent.
# * postgres/datadog_checks/postgres/postgres.py `build_connection_args` (host 'localhost'
#   and an empty password: user and application_name only, a Unix-socket peer login;
#   otherwise host, port, password and sslmode too) and connection_pool.py
#   `PostgresConnectionArgs.as_kwargs(dbname)` -> {user, dbname, application_name
#   ('datadog-agent' by default), sslmode ('allow' by default), host, port, password}, given
#   to psycopg 3's `Connection.connect(**kwargs)` (`_new_connection`), autocommit set after.
MYSQL_CONNECT_TIMEOUT = 10  # mysql config_models/defaults.py instance_connect_timeout
POSTGRES_APPLICATION_NAME = "datadog-agent"  # postgres config.py application_name default


def connect(kind: str, instance: dict):
    """A DB-API connection logged in exactly as the integration logs in."""
    if kind == "mysql":
        import pymysql

        args = {"ssl": None, "connect_timeout": MYSQL_CONNECT_TIMEOUT, "autocommit": True,
                "user": instance["username"], "passwd": instance["password"],
                "host": instance["host"], "port": int(instance["port"])}
        return pymysql.connect(**args)
    import psycopg

    kwargs = {"user": instance["username"], "dbname": instance["dbname"],
              "application_name": POSTGRES_APPLICATION_NAME, "sslmode": "allow"}
    if not (instance["host"] == "localhost" and instance.get("password", "") == ""):
        kwargs.update({"host": instance["host"], "port": int(instance["port"])})
        if instance.get("password"):
            kwargs["password"] = instance["password"]
    connection = psycopg.connect(**kwargs)
    connection.autocommit = True
    return connection


def driver_executor(connection):
    """A QueryManager executor over a driver connection: query -> rows."""
    def execute(query):
        with connection.cursor() as cursor:
            cursor.execute(query)
            return cursor.fetchall()
    return execute


# --- the install.sh tests' stand-in server ------------------------------------------------

def client_command(kind: str, instance: dict, query: str) -> tuple[list[str], dict]:
    """The stand-in client call running `query` as the instance's user (DD_STANDIN_DB_LOGIN
    =client only: the install.sh tests have no server, their psql/mysql answer instead)."""
    host, port, user = str(instance["host"]), str(instance["port"]), instance["username"]
    if kind == "postgres":
        return (["psql", "-X", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-h", host,
                 "-p", port, "-U", user, "-d", instance["dbname"], "-c", query],
                {"PGPASSWORD": instance["password"], "PGCONNECT_TIMEOUT": "10"})
    return (["mysql", "--protocol=TCP", "-h", host, "-P", port, "-u", user, "-N", "-B",
             "-e", query], {"MYSQL_PWD": instance["password"]})


def cli_executor(kind: str, instance: dict):
    """A QueryManager executor: query -> rows (lists of strings; the check converts values
    with float())."""
    def execute(query):
        argv, extra = client_command(kind, instance, query)
        result = subprocess.run(argv, env={**os.environ, **extra}, capture_output=True,
                                text=True, timeout=60)
        if result.returncode != 0:
            raise LoginFailed(result.stderr.strip().removeprefix("psql: error: "))
        return [line.split("\t") for line in result.stdout.splitlines() if line]
    return execute


def run_custom_queries(kind: str, instance: dict, executor=None):
    """The instance's custom_queries through QueryManager (datadog_checks.base), the runner
    the integrations use for custom_queries; the metrics land in the stub aggregator. Without
    an executor: on a fresh connection made as the integration makes it."""
    from datadog_checks.base import AgentCheck
    from datadog_checks.base.utils.db import QueryManager

    connection = None
    if executor is None:
        connection = connect(kind, instance)
        executor = driver_executor(connection)
    try:
        check = AgentCheck(kind, {}, [instance])
        manager = QueryManager(check, executor, tags=list(instance.get("tags", [])))
        manager.compile_queries()
        manager.execute()
    finally:
        if connection is not None:
            connection.close()


def run_database_instance(kind: str, instance: dict) -> str:
    """Log in as the integration does, then run the custom queries; the error message or ''.

    The integrations connect first and raise when they cannot (postgres.py `check`:
    `self._connect()`; mysql.py `check`: `with self._connect() as db`), so the run is an
    [ERROR] with the driver's own message; a failing custom query is only logged
    (QueryManager), so it shows as a missing metric, not as an error."""
    if os.environ.get("DD_STANDIN_DB_LOGIN") == "client":
        try:
            cli_executor(kind, instance)("SELECT 1")
        except LoginFailed as exc:
            return str(exc)
        run_custom_queries(kind, instance, cli_executor(kind, instance))
        return ""
    try:
        connection = connect(kind, instance)
    except Exception as exc:  # the driver's error, whatever its class, is the run's error
        return f"{type(exc).__name__}: {exc}"
    try:
        run_custom_queries(kind, instance, driver_executor(connection))
    finally:
        connection.close()
    return ""


def load_check_class(name):
    from datadog_checks.base import AgentCheck

    spec = importlib.util.spec_from_file_location(name, AGENT / "checks.d" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return next(v for v in vars(module).values()
                if isinstance(v, type) and issubclass(v, AgentCheck) and v is not AgentCheck)


def run_instance(name, init_config, instance):
    """Run one instance; return the error message ('' on success)."""
    if name in DATABASE_CHECKS:
        return run_database_instance(name, instance)
    return load_check_class(name)(name, init_config, [instance]).run()


def check(name):
    from datadog_checks.base.stubs import aggregator

    conf_path = AGENT / "conf.d" / (f"{name}.d/conf.yaml" if name in DATABASE_CHECKS else f"{name}.yaml")
    conf = yaml.safe_load(conf_path.read_text())
    aggregator.reset()
    errors = [run_instance(name, conf.get("init_config") or {}, instance)
              for instance in conf["instances"]]
    series = [{"metric": m.name, "points": [[0, m.value]], "tags": list(m.tags), "type": "gauge"}
              for metric in aggregator._metrics.values() for m in metric]
    print("=== Series ===")
    print(json.dumps(series, indent=2))
    print(f"=========\nCollector\n=========\n\n  Running Checks\n  ==============\n\n    {name}\n    {'-' * len(name)}")
    for error in errors:
        print(f"      Instance ID: {name} [{'ERROR' if error else 'OK'}]")
        if error:
            print(f"      Error: {error}")
    return 0  # as the real command: errors are in the output, not the exit status


def main(argv):
    log("datadog-agent " + " ".join(argv))
    if argv[:1] == ["configcheck"]:
        return configcheck()
    if argv[:1] == ["check"] and len(argv) == 2:
        return check(argv[1])
    print(f"stand-in datadog-agent: unsupported {argv}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
