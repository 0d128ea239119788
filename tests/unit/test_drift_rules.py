"""rules/drift.py and tools/drift.py's pure parts: the read-only host script (run here with
`sh` on a throwaway directory, a stand-in `systemctl` first on PATH), the comparison, the
Datadog-side preview summary."""
from __future__ import annotations

import hashlib
import os
import pwd
import subprocess
from pathlib import Path

import pytest

from agent_files import render
from rules import drift as rules
from settings import Host
from tools import drift as tool

OWNER = pwd.getpwuid(os.getuid()).pw_name


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def host_dir(tmp_path):
    """A fake host: conf.d/my_metric.yaml and checks.d/my_metric.py as deployed, a packaged
    conf.yaml.example, and a `systemctl` that answers `active`."""
    files = {"conf.d/my_metric.yaml": b"instances: [{}]\n", "checks.d/my_metric.py": b"# check\n"}
    for rel, data in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(data)
        (tmp_path / rel).chmod(0o640)
    (tmp_path / "conf.d/postgres.d").mkdir()
    (tmp_path / "conf.d/postgres.d/conf.yaml.example").write_text("packaged\n")
    (tmp_path / "conf.d/postgres.d/auto_conf.yaml").write_text("packaged\n")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    # systemctl(1): is-active prints the state, exit 0 only when active.
    (bin_dir / "systemctl").write_text('#!/bin/sh\necho "$AGENT_STATE"; [ "$AGENT_STATE" = active ]\n')
    (bin_dir / "systemctl").chmod(0o755)
    expected = {str(tmp_path / rel): rules.Expected(sha(data), 0o640, OWNER) for rel, data in files.items()}
    return tmp_path, expected


ROOT_HOST = Host(name="vm1", address="192.0.2.10", ssh_port=22, ssh_user="root")


def run_script(root: Path, expected: dict, agent_state: str = "active"):
    """The script as tools.drift runs it: the remote command line tools.drift builds (its
    arguments quoted there) parsed by a shell, the script on stdin."""
    dirs = rules.watched_dirs(expected) + [str(root / "conf.d/postgres.d")]
    env = {**os.environ, "PATH": f"{root / 'bin'}:{os.environ['PATH']}", "AGENT_STATE": agent_state}
    remote = tool.ssh_command(ROOT_HOST, None, None, rules.remote_args(sorted(expected), dirs))[-1]
    proc = subprocess.run(["sh", "-c", remote], input=rules.remote_script(),
                          capture_output=True, text=True, env=env, check=True)
    return rules.compare(expected, *rules.parse_report(proc.stdout))


def test_an_untouched_host_has_no_findings(host_dir):
    assert run_script(*host_dir) == []


def test_a_hand_edited_file_is_reported_edited(host_dir):
    root, expected = host_dir
    (root / "conf.d/my_metric.yaml").write_text("instances: [{min_collection_interval: 5}]\n")
    assert run_script(root, expected) == [f"edited   {root}/conf.d/my_metric.yaml"]


def test_a_deleted_check_is_reported_removed(host_dir):
    root, expected = host_dir
    (root / "checks.d/my_metric.py").unlink()
    assert run_script(root, expected) == [f"removed  {root}/checks.d/my_metric.py"]


def test_a_stray_file_beside_ours_is_reported_added_but_packaged_ones_are_not(host_dir):
    root, expected = host_dir
    (root / "checks.d/custom_random.py").write_text("# the seed's hand-made check\n")
    assert run_script(root, expected) == [f"added    {root}/checks.d/custom_random.py"]


def test_a_directory_with_shell_characters_is_listed_as_the_one_directory_it_is(tmp_path):
    """Paths travel as arguments on the SSH command line: the remote shell must not split,
    glob or evaluate them."""
    odd = tmp_path / "it's $(touch pwned) *"
    odd.mkdir()
    ours = odd / "my_metric.yaml"
    ours.write_text("instances: [{}]\n")
    ours.chmod(0o640)
    (odd / "stray.yaml").write_text("x\n")
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "systemctl").write_text("#!/bin/sh\necho active\n")
    (tmp_path / "bin" / "systemctl").chmod(0o755)
    expected = {str(ours): rules.Expected(sha(ours.read_bytes()), 0o640, OWNER)}
    assert run_script(tmp_path, expected) == [f"added    {odd}/stray.yaml"]
    assert not list(tmp_path.rglob("pwned")) and not Path("pwned").exists()


def test_a_changed_mode_is_reported_with_both_modes(host_dir):
    root, expected = host_dir
    (root / "checks.d/my_metric.py").chmod(0o666)
    assert run_script(root, expected) == [
        f"mode     {root}/checks.d/my_metric.py: 0666, the stack set 0640"]


def test_a_stopped_agent_is_reported(host_dir):
    assert run_script(*host_dir, agent_state="inactive") == [
        "agent    datadog-agent is not running (inactive)"]


def test_the_script_only_reads(host_dir):
    root, expected = host_dir
    before = {p: (p.stat().st_mtime_ns, p.stat().st_mode) for p in root.rglob("*")}
    run_script(root, expected)
    assert {p: (p.stat().st_mtime_ns, p.stat().st_mode) for p in root.rglob("*")} == before


def test_a_wrong_owner_is_reported():
    expected = {"/etc/x": rules.Expected("a" * 64, 0o640, "dd-agent")}
    seen = {"/etc/x": rules.Seen("a" * 64, 0o640, "root")}
    assert rules.compare(expected, seen, "active") == ["owner    /etc/x: root, the stack set dd-agent"]


def test_secret_files_are_compared_only_with_the_deployed_hash(tmp_path):
    from tests.unit.adopt_fixtures import seed_stack_config
    from tools import plan as offline

    settings = offline.run(offline.StackConfig.from_file(seed_stack_config(tmp_path)), "seed").settings
    files = render.agent_files(settings.agent, settings.hosts[0], "[secret]", "[secret]")
    without = rules.expected_files(files, {})
    assert rules.unchecked(without) == sorted(f.path for f in files if f.secret)
    deployed = {render.DATADOG_YAML: "d" * 64}
    assert rules.expected_files(files, deployed)[render.DATADOG_YAML].sha256 == "d" * 64
    assert rules.watched_dirs(without) == ["/etc/datadog-agent/checks.d", "/etc/datadog-agent/conf.d",
                                           "/etc/datadog-agent/conf.d/postgres.d"]


# -- Datadog side: `pulumi preview --refresh --json` (pulumi pkg/display/json.go previewDigest)

def test_the_preview_summary_names_each_resource_up_would_change():
    urn = "urn:pulumi:dev::datadog-stack::datadog-stack:monitoring:MetricMonitor$datadog:index/monitor:Monitor::"
    document = {"steps": [
        {"op": "same", "urn": urn + "other"},
        {"op": "update", "urn": urn + "my-metric-high-monitor", "diffReasons": ["query", "monitorThresholds"]},
        {"op": "create", "urn": urn.replace("monitor:Monitor", "dashboard:Dashboard") + "timeboard-dashboard"},
    ], "changeSummary": {"same": 1, "update": 1, "create": 1}}
    assert tool.summarize_preview(document) == [
        "update   my-metric-high-monitor (datadog:index/monitor:Monitor): changed outside the stack: "
        "query, monitorThresholds",
        "create   timeboard-dashboard (datadog:index/dashboard:Dashboard): gone (deleted outside the "
        "stack?); `pulumi up` recreates it",
    ]
