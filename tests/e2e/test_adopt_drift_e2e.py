"""The real engine on adoption and Datadog-side drift, against the Datadog API stand-in.

`pulumi import --file` of what tools.adopt wrote, then `pulumi up` of the Datadog resources
(targeted: the hosts' SSH commands need VMs), then a preview that must show no change.
Drift: the monitor edited behind the stack's back shows in `tools.drift --only datadog`.
Skips with one line where there is no `pulumi` CLI (this machine: see the README's last
section).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import urllib.request

import pytest

from tests.standins.datadog_api import start_server
from tests.unit.adopt_fixtures import ROOT, SEED_OBJECTS, seed_stack_config
from tools import drift

if not shutil.which("pulumi"):
    pytest.skip("no pulumi CLI on PATH: the engine tests cannot run here", allow_module_level=True)

KEYS = {"DD_API_KEY": "k", "DD_APP_KEY": "a"}


@pytest.fixture
def stack(tmp_path, monkeypatch):
    """A `seed` stack in a throwaway file backend, its Datadog provider on the stand-in."""
    handle = start_server(0, tmp_path / "standin")
    config = seed_stack_config(ROOT, handle.url)  # Pulumi.seed.yaml next to Pulumi.yaml
    env = {**os.environ, **KEYS, "PULUMI_BACKEND_URL": f"file://{tmp_path}",
           "PULUMI_CONFIG_PASSPHRASE": "e2e", "PULUMI_SKIP_UPDATE_CHECK": "1"}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    pulumi("stack", "init", "seed")
    for key in ("datadog:apiKey", "datadog:appKey", "datadog-stack:databasePassword",
                "datadog-stack:sshPrivateKey"):
        pulumi("config", "set", "--secret", key, "e2e-secret")
    yield handle
    pulumi("stack", "rm", "--force", "--yes", "seed")
    config.unlink()
    handle.stop()


def pulumi(*args: str) -> str:
    proc = subprocess.run(["pulumi", *args, "--non-interactive"], cwd=ROOT, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, f"pulumi {' '.join(args)}:\n{proc.stdout}{proc.stderr}"
    return proc.stdout


def post(handle, path: str, body: dict, method: str = "POST") -> dict:
    request = urllib.request.Request(handle.url + path, data=json.dumps(body).encode(), method=method,
                                     headers={"DD-API-KEY": "k", "DD-APPLICATION-KEY": "a",
                                              "Content-Type": "application/json"})
    with urllib.request.urlopen(request) as answer:
        return json.load(answer)


def datadog_targets() -> list[str]:
    """`--target` URNs of the Datadog resources and their components."""
    urns = json.loads(pulumi("stack", "export"))["deployment"]["resources"]
    return [arg for r in urns if ":index/" in r["type"] or r["type"].startswith("datadog-stack:")
            for arg in ("--target", r["urn"])]


def test_adopted_seed_objects_converge_and_a_second_up_changes_nothing(stack, tmp_path):
    monitor = {**SEED_OBJECTS["monitor"], "options": {**SEED_OBJECTS["monitor"]["options"], "renotify_interval": 0}}
    post(stack, "/api/v1/monitor", monitor)
    post(stack, "/api/v1/dashboard", SEED_OBJECTS["dashboard"])
    out = tmp_path / "adopt.json"
    assert subprocess.run(["python", "-m", "tools.adopt", "--stack", "seed", "--output", str(out)],
                          cwd=ROOT).returncode == 0
    pulumi("import", "--file", str(out), "--protect=false", "--generate-code=false", "--yes", "--stack", "seed")
    targets = datadog_targets()
    pulumi("up", "--yes", "--stack", "seed", *targets)
    pulumi("preview", "--expect-no-changes", "--stack", "seed", *targets)
    assert len(stack.objects()["monitors"]) == 1 and len(stack.objects()["dashboards"]) == 1, \
        "adopted, not duplicated"


def test_a_monitor_edited_behind_the_stacks_back_is_reported(stack, capsys):
    pulumi("up", "--yes", "--stack", "seed", "--target-dependents",
           "--target", "urn:pulumi:seed::datadog-stack::datadog-stack:monitoring:MetricMonitor::my-metric-high")
    [monitor_id] = stack.objects()["monitors"]
    post(stack, f"/api/v1/monitor/{monitor_id}", {"query": "avg(last_5m):avg:my_metric{*} > 900",
                                                  "options": {"thresholds": {"critical": 900}}}, method="PUT")
    assert drift.main(["--stack", "seed", "--only", "datadog"]) == 1
    assert "update   my-metric-high (datadog:index/monitor:Monitor): changed outside the stack" in capsys.readouterr().out
