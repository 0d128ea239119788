"""What one config change costs: which resources' inputs change between two plans.

A remote command whose inputs are unchanged is not run again, so the commands whose
inputs differ are the SSH sessions a `pulumi up` opens; a Datadog resource whose inputs
differ is one API write.
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from tools.plan import StackConfig, run

DEV = Path(__file__).resolve().parents[2] / "Pulumi.dev.yaml"
TWO_HOSTS = json.dumps([{"name": "vm1", "address": "192.0.2.10"},
                        {"name": "vm2", "address": "192.0.2.11"}])


@lru_cache(maxsize=None)
def inputs(**changes) -> dict[str, dict]:
    config = StackConfig.from_file(DEV)
    config.values.update({"datadog-stack:hosts": TWO_HOSTS})
    config.values.update({f"datadog-stack:{key}": value for key, value in changes.items()})
    # Secrets are real values here (not placeholders), as in a real stack.
    config.values.update({key: f"value-of-{key}" for key in config.secret_keys})
    plan = run(config, "dev", created=True, mask=False)
    return {f'{r["type"]} {r["name"]}': r["inputs"] for r in plan.resources}


def changed(before: dict, after: dict) -> set[str]:
    return {name for name in before if before[name] != after.get(name)}


def test_an_unchanged_config_changes_nothing():
    assert changed(inputs(), inputs(checkInterval="45")) == set(), \
        "a second `pulumi up` with the same config must open no SSH session and write nothing"


def test_a_threshold_change_updates_only_the_monitor():
    assert changed(inputs(), inputs(criticalThreshold="900")) == \
        {"datadog:index/monitor:Monitor my-metric-high-monitor"}, \
        "a threshold is Datadog-side only: one monitor update, no SSH session"


def test_an_interval_change_costs_two_remote_commands_per_host_and_no_datadog_write():
    names = changed(inputs(), inputs(checkInterval="30"))
    assert names == {f"command:remote:Command vm{i}-agent-{step}"
                     for i in (1, 2) for step in ("bundle", "install")}, (
        "min_collection_interval lives in my_metric.yaml: copy the bundle and run install.sh "
        "on each host, nothing else")


def test_a_new_host_touches_no_existing_host():
    three = json.dumps(json.loads(TWO_HOSTS) + [{"name": "vm3", "address": "192.0.2.12"}])
    names = changed(inputs(), inputs(hosts=three))
    assert not any(name.startswith("command:remote:Command vm1") or
                   name.startswith("command:remote:Command vm2") for name in names), \
        "adding vm3 must not redeploy vm1 or vm2"
