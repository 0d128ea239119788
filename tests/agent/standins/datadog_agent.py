"""Stand-in for the `datadog-agent` binary (configcheck, check <name>), for tests/agent and
the remote tier's test hosts.

Runs under venv-agent's python. Reads $DD_STACK_ROOT/etc/datadog-agent like the real Agent
reads /etc/datadog-agent, and appends each invocation to $STANDIN_LOG.
  configcheck     parses datadog.yaml and every YAML under conf.d; prints
                  "=== Configuration errors ===" and exits 1 on invalid YAML
  check my_metric imports checks.d/my_metric.py and runs each instance of conf.d/my_metric.yaml
  check postgres  runs each instance's custom_queries of conf.d/<name>.d/conf.yaml through
  check mysql     datadog_checks.base's QueryManager, logged in as the instance's user with the
                  `psql` / `mysql` client found on PATH (a real server on the test hosts, a
                  stand-in client in the install.sh tests)

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


def client_command(kind: str, instance: dict, query: str) -> tuple[list[str], dict]:
    """The CLI call running `query` as the instance's user, over TCP like the integrations'
    drivers (psycopg, pymysql), the password in the environment only."""
    host, port, user = str(instance["host"]), str(instance["port"]), instance["username"]
    if kind == "postgres":
        return (["psql", "-X", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-h", host,
                 "-p", port, "-U", user, "-d", instance["dbname"], "-c", query],
                {"PGPASSWORD": instance["password"], "PGCONNECT_TIMEOUT": "10"})
    return (["mysql", "--protocol=TCP", "-h", host, "-P", port, "-u", user, "-N", "-B",
             "-e", query], {"MYSQL_PWD": instance["password"]})


def cli_executor(kind: str, instance: dict):
    """A QueryManager executor: query -> rows (lists of strings; the check converts values
    with float(), as the integrations' drivers hand it numbers or numeric strings)."""
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
    the integrations use for custom_queries; the metrics land in the stub aggregator."""
    from datadog_checks.base import AgentCheck
    from datadog_checks.base.utils.db import QueryManager

    check = AgentCheck(kind, {}, [instance])
    manager = QueryManager(check, executor or cli_executor(kind, instance),
                           tags=list(instance.get("tags", [])))
    manager.compile_queries()
    manager.execute()


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
        # The integrations connect first and raise when they cannot (postgres.py `check`:
        # `self._connect()`, then "Error establishing connection to postgres://..."); a
        # failing custom query is only logged (`_collect_custom_queries`, QueryManager), so it
        # shows as a missing metric, not as an error.
        try:
            cli_executor(name, instance)("SELECT 1")
        except LoginFailed as exc:
            return str(exc)
        run_custom_queries(name, instance)
        return ""
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
