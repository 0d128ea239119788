"""The offline plan: `python -m tools.plan`, tested in-process (one subprocess smoke test)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tools import plan as plan_tool

ROOT = Path(__file__).resolve().parents[2]
SNAPSHOT = ROOT / "tests" / "snapshots" / "dev-plan.json"


def run_cli(capsys, *argv) -> tuple[int, str, str]:
    code = plan_tool.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def write_config(tmp_path: Path, **changes) -> Path:
    document = yaml.safe_load((ROOT / "Pulumi.dev.yaml").read_text())
    document["config"].update(changes)
    path = tmp_path / "Pulumi.review.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


def test_json_plan_lists_every_resource_with_type_name_parent_and_inputs(capsys):
    code, out, _ = run_cli(capsys, "--json")
    plan = json.loads(out)
    assert code == 0 and plan["stack"] == "dev"
    types = {r["type"] for r in plan["resources"]}
    assert {"datadog:index/dashboard:Dashboard", "datadog:index/monitor:Monitor",
            "datadog:index/downtimeSchedule:DowntimeSchedule"} <= types
    assert all(set(r) - {"ignoreChanges"} == {"type", "name", "parent", "inputs"}
               for r in plan["resources"])
    monitor = next(r for r in plan["resources"] if r["type"] == "datadog:index/monitor:Monitor")
    assert monitor["parent"] == "my-metric-high", "the monitor is a child of its component"


def test_table_plan_is_readable(capsys):
    code, out, _ = run_cli(capsys)
    assert code == 0
    assert "datadog:index/monitor:Monitor" in out and "Outputs:" in out


def test_plan_matches_the_committed_snapshot(capsys):
    _, out, _ = run_cli(capsys, "--json")
    if os.environ.get("UPDATE_SNAPSHOT"):
        SNAPSHOT.parent.mkdir(exist_ok=True)
        SNAPSHOT.write_text(out)
    assert json.loads(out) == json.loads(SNAPSHOT.read_text()), (
        "what the dev stack provisions changed: review the diff, then run `make plan-snapshot`")


def test_two_runs_at_the_same_clock_give_identical_plans(capsys):
    first = run_cli(capsys, "--json")[1]
    second = run_cli(capsys, "--json")[1]
    assert first == second, "the program must be deterministic so a second `pulumi up` changes nothing"


def test_a_clock_without_utc_offset_exits_2_naming_the_variable(capsys, monkeypatch):
    monkeypatch.setenv("DATADOG_STACK_NOW", "2027-01-04T10:00:00")
    code, out, err = run_cli(capsys)
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "DATADOG_STACK_NOW" in err and "Traceback" not in err


def test_secure_config_values_print_as_secret(capsys, tmp_path):
    canary = "v1:CANARYciphertextNEVERshown=="
    path = write_config(tmp_path, **{"datadog-stack:databasePassword": {"secure": canary}})
    code, out, _ = run_cli(capsys, "--json", "--config-file", str(path))
    assert code == 0 and canary not in out


def test_bad_config_exits_2_with_one_line_naming_the_key(capsys, tmp_path):
    path = write_config(tmp_path, **{"datadog-stack:warningThreshold": 900})
    code, out, err = run_cli(capsys, "--config-file", str(path))
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "datadog-stack:warningThreshold" in err
    assert "Traceback" not in err


def test_unknown_stack_exits_2(capsys):
    code, _, err = run_cli(capsys, "--stack", "nosuchstack")
    assert code == 2 and "Pulumi.nosuchstack.yaml" in err


def test_plan_runs_as_a_command():
    result = subprocess.run([sys.executable, "-m", "tools.plan", "--json"], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["stack"] == "dev"


def test_render_dir_writes_each_hosts_files_at_their_vm_paths(capsys, tmp_path):
    code, _, _ = run_cli(capsys, "--render-dir", str(tmp_path))
    datadog_yaml = yaml.safe_load((tmp_path / "vm1/etc/datadog-agent/datadog.yaml").read_text())
    assert code == 0 and datadog_yaml["hostname"] == "vm1"
    assert datadog_yaml["api_key"] == "[secret]", "secrets are replaced by [secret] in rendered files"
    assert (tmp_path / "vm1/etc/datadog-agent/checks.d/my_metric.py").is_file()
    assert (tmp_path / "vm1/etc/systemd/system/flask-app.service").is_file()


def test_a_config_that_is_not_a_mapping_exits_2(capsys, tmp_path):
    path = tmp_path / "Pulumi.bad.yaml"
    path.write_text("config:\n  - one\n  - two\n")
    code, _, err = run_cli(capsys, "--config-file", str(path))
    assert code == 2 and "`config` must be a mapping" in err and "Traceback" not in err


def test_plan_as_a_command_refuses_a_hostile_value_in_one_line(tmp_path):
    # `make plan` with a tag pasted from a YAML block scalar (its trailing newline).
    path = write_config(tmp_path, **{"datadog-stack:hostTags": ["team:a\n"]})
    result = subprocess.run([sys.executable, "-m", "tools.plan", "--config-file", str(path)],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert (result.returncode, result.stdout) == (2, ""), result.stderr
    assert result.stderr == ("error: invalid configuration: datadog-stack:hostTags[0]: "
                             "'team:a\\n' is not a key:value tag without spaces\n"), \
        "one line naming the key and what is wrong, no traceback"
