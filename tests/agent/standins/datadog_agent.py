"""Stand-in for the `datadog-agent` binary (configcheck, check <name>), for tests/agent.

Runs under venv-agent's python. Reads $DD_STACK_ROOT/etc/datadog-agent like the real Agent
reads /etc/datadog-agent, and appends each invocation to $STANDIN_LOG.
  configcheck   parses datadog.yaml and every YAML under conf.d; prints
                "=== Configuration errors ===" and exits 1 on invalid YAML
  check NAME    imports checks.d/NAME.py, runs each instance of conf.d/NAME.yaml through
                datadog_checks.base's stub aggregator, prints the series as JSON
"""
import importlib.util
import json
import os
import sys
from pathlib import Path

import yaml

ROOT = Path(os.environ.get("DD_STACK_ROOT", "/"))
AGENT = ROOT / "etc/datadog-agent"


def log(line):
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


def check(name):
    from datadog_checks.base import AgentCheck
    from datadog_checks.base.stubs import aggregator

    conf = yaml.safe_load((AGENT / "conf.d" / f"{name}.yaml").read_text())
    spec = importlib.util.spec_from_file_location(name, AGENT / "checks.d" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    cls = next(v for v in vars(module).values()
               if isinstance(v, type) and issubclass(v, AgentCheck) and v is not AgentCheck)
    aggregator.reset()
    for instance in conf["instances"]:
        error = cls(name, conf.get("init_config") or {}, [instance]).run()
        if error:
            print(f"Error: {error}")
            return 1
    series = [{"metric": m.name, "points": [[0, m.value]], "tags": list(m.tags), "type": "gauge"}
              for metric in aggregator._metrics.values() for m in metric]
    print("=== Series ===")
    print(json.dumps(series, indent=2))
    return 0


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
