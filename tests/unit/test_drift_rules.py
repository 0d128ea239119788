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
from domain import Host
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
    # systemctl(1): is-active prints the unit's state, exit 0 only when active; a unit it
    # does not know is "inactive" (exit 3).
    (bin_dir / "systemctl").write_text(
        '#!/bin/sh\n[ "$2" = datadog-agent ] || { echo inactive; exit 3; }\n'
        'echo "$AGENT_STATE"; [ "$AGENT_STATE" = active ]\n')
    (bin_dir / "systemctl").chmod(0o755)
    expected = {str(tmp_path / rel): rules.Expected(sha(data), 0o640, OWNER) for rel, data in files.items()}
    return tmp_path, expected


ROOT_HOST = Host(name="vm1", address="192.0.2.10", ssh_port=22, ssh_user="root")


def run_script(root: Path, expected: dict, agent_state: str = "active", dirs: list[str] | None = None):
    """The script as tools.drift runs it: the remote command line tools.drift builds (its
    arguments quoted there) parsed by a shell, the script on stdin."""
    dirs = rules.watched_dirs(expected) + [str(root / "conf.d/postgres.d")] if dirs is None else dirs
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


@pytest.mark.parametrize("stray", ["checks.d/extra.py", "conf.d/extra.yaml", "conf.d/.extra.yaml",
                                   "conf.d/postgres.d/conf.yaml.bak"])
def test_a_stray_file_in_any_watched_directory_is_reported_added(host_dir, stray):
    root, expected = host_dir
    (root / stray).write_text("put there by hand\n")
    assert run_script(root, expected) == [f"added    {root}/{stray}"], \
        "every directory the stack owns is watched for strays, hidden files included"


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


def test_stack_files_outside_the_watched_directories_are_still_checked(host_dir):
    # datadog.yaml lives in /etc/datadog-agent, which is not watched for strays (the Agent
    # package keeps its own files there): only the script's list of paths reaches it.
    root, expected = host_dir
    dirs = [str(root / "checks.d"), str(root / "conf.d")]  # the root itself is not watched
    outside = {root / "a gone.yaml": b"x: 1\n", root / "datadog.yaml": b"api_key: x\n",
               root / "install info": b"tool: stack\n"}
    for path, data in outside.items():
        path.write_bytes(data)
        path.chmod(0o640)
        expected[str(path)] = rules.Expected(sha(data), 0o640, OWNER)
    (root / "a gone.yaml").unlink()
    (root / "datadog.yaml").write_text("api_key: edited by hand\n")
    assert run_script(root, expected, dirs=dirs) == [f"removed  {root}/a gone.yaml",
                                          f"edited   {root}/datadog.yaml"], \
        "every file the stack installs is compared, in a watched directory or not, spaces and all"


def test_a_host_exactly_as_rendered_reports_no_drift(tmp_path):
    # What the stack renders (content, mode, owner) is what a clean host shows: a drift report
    # must clear once the host is put back, or it would never close.
    from tests.unit.adopt_fixtures import seed_stack_config
    from tools import plan as offline

    settings = offline.run(offline.StackConfig.from_file(seed_stack_config(tmp_path)), "seed").settings
    files = render.agent_files(settings.agent, settings.hosts[0], "[secret]", "[secret]")
    deployed = {f.path: render.sha256(f.content) for f in files if f.secret}
    expected = rules.expected_files(files, deployed)
    seen = {f.path: rules.Seen(render.sha256(f.content), f.mode, f.owner) for f in files}
    assert rules.compare(expected, seen, "active") == [], \
        "a host holding exactly the rendered files, modes and owners has no findings"
    chmod = {**seen, files[0].path: rules.Seen(seen[files[0].path].sha256, 0o777, files[0].owner)}
    assert rules.compare(expected, chmod, "active") == [
        f"mode     {files[0].path}: 0777, the stack set {files[0].mode:04o}"]


def test_an_agent_state_the_report_does_not_give_is_unknown_and_reported():
    for output in ("", "A \n"):
        seen, agent = rules.parse_report(output)
        assert rules.compare({}, seen, agent) == ["agent    datadog-agent is not running (unknown)"], \
            "a report cut short or without a state must not pass for a running Agent"


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
