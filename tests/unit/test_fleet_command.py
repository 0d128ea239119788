"""`python -m tools.fleet`: the account stacks first, then the others N at a time, a line per
stack, and the stacks to run again. The scheduling runs here with a fake runner in place of
the Automation API (no engine)."""
from __future__ import annotations

import itertools
import json
import threading
import time

import pytest

from tools import fleet

pytestmark = pytest.mark.unit


class FakeRunner:
    """Runs a stack by sleeping a little; records order and concurrency; fails as told."""

    def __init__(self, fail: dict[str, str] | None = None, seconds: float = 0.02):
        self.fail, self.seconds = fail or {}, seconds
        self.events: list[tuple[str, str]] = []
        self.running = self.most = 0
        self.lock = threading.Lock()

    def __call__(self, stack: str):
        with self.lock:
            self.events.append(("start", stack))
            self.running += 1
            self.most = max(self.most, self.running)
        time.sleep(self.seconds)
        with self.lock:
            self.running -= 1
            self.events.append(("end", stack))
        if stack in self.fail:
            raise RuntimeError(self.fail[stack])
        return {"create": 2, "same": 5}


PLAN = fleet.Waves(accounts=("acct",), others=("group-a", "group-b", "group-c", "group-d"))


def run(runner, workers=2, plan=PLAN):
    lines: list[str] = []
    outcomes, skipped = fleet.run_fleet(plan, "up", runner, workers, lines.append)
    return outcomes, skipped, lines


def test_the_account_stack_ends_before_any_group_starts():
    runner = FakeRunner()
    run(runner)
    assert runner.events[:2] == [("start", "acct"), ("end", "acct")], \
        "group stacks read the account's outputs: it runs first, alone"


def test_groups_run_in_parallel_up_to_the_workers():
    runner = FakeRunner(seconds=0.1)
    run(runner, workers=2)
    assert runner.most == 2, "two workers: two group stacks at once, never more"


def test_one_worker_runs_the_groups_one_at_a_time():
    runner = FakeRunner()
    run(runner, workers=1)
    assert runner.most == 1


def test_a_failed_group_leaves_the_others_done():
    outcomes, skipped, _ = run(FakeRunner(fail={"group-b": "error: boom"}))
    assert {o.stack: o.ok for o in outcomes} == {
        "acct": True, "group-a": True, "group-b": False, "group-c": True, "group-d": True}
    assert skipped == []


def test_the_last_line_names_only_the_failed_stacks_to_rerun():
    outcomes, skipped, _ = run(FakeRunner(fail={"group-b": "x", "group-d": "y"}))
    line = fleet.summary_line("up", outcomes, skipped)
    assert line.startswith("rerun: python -m tools.fleet up --stacks ")
    assert sorted(line.split("--stacks ")[1].split()) == ["group-b", "group-d"]


def test_a_failed_account_stack_starts_no_group_and_all_are_to_rerun():
    runner = FakeRunner(fail={"acct": "error: 401 Unauthorized"})
    outcomes, skipped, lines = run(runner)
    assert [e for e in runner.events if e[1] != "acct"] == [], "no group runs on a failed account"
    assert skipped == list(PLAN.others)
    assert fleet.summary_line("up", outcomes, skipped) == \
        "rerun: python -m tools.fleet up --stacks acct group-a group-b group-c group-d"
    assert "group-a: not started: account stack acct failed" in lines


def test_every_stack_has_a_started_and_an_end_line():
    _, _, lines = run(FakeRunner(fail={"group-c": "error: no route"}))
    for stack in ("acct",) + PLAN.others:
        assert f"{stack}: started up" in lines
        assert sum(line.startswith(f"{stack}: done in ") or line.startswith(f"{stack}: failed after ")
                   for line in lines) == 1, f"{stack}: one line when it ends"


def test_a_done_line_gives_the_time_and_the_change_summary():
    clock = itertools.count(10.0, 2.5).__next__
    outcome = fleet.run_one("group-a", lambda s: {"same": 5, "create": 2, "update": 0}, clock)
    assert fleet.outcome_line(outcome) == "group-a: done in 2.5 s: create 2, same 5"


def test_a_failed_line_gives_the_first_error_line():
    clock = itertools.count(0.0, 1.0).__next__
    text = ("code: 255\n stdout: Updating (group-a)\n    error: ssh: handshake failed: EOF\n"
            "    error: update failed\n")
    outcome = fleet.run_one("group-a", lambda s: (_ for _ in ()).throw(RuntimeError(text)), clock)
    assert fleet.outcome_line(outcome) == \
        "group-a: failed after 1.0 s: error: ssh: handshake failed: EOF"


@pytest.mark.parametrize("text, line", [
    ("\n\nerror: one\nerror: two", "error: one"),
    ("code: 1\nsomething went wrong", "code: 1"),
    ("", "failed without a message"),
])
def test_first_error_line(text, line):
    assert fleet.first_error_line(text) == line


def test_all_done_says_so():
    outcomes, skipped, _ = run(FakeRunner())
    assert fleet.summary_line("up", outcomes, skipped) == "5 stacks done, none to rerun"


def test_roles_from_the_stack_files_put_account_stacks_first(tmp_path):
    (tmp_path / "Pulumi.acct.yaml").write_text("config:\n  datadog-stack:role: account\n")
    (tmp_path / "Pulumi.group-a.yaml").write_text("config:\n  datadog-stack:role: hosts\n")
    (tmp_path / "Pulumi.dev.yaml").write_text("config:\n  datadog-stack:env: dev\n")
    assert fleet.waves(fleet.stack_roles(tmp_path)) == \
        fleet.Waves(accounts=("acct",), others=("dev", "group-a"))


def test_the_command_exits_1_when_a_stack_failed_and_prints_the_rerun_line(tmp_path, capsys):
    (tmp_path / "Pulumi.acct.yaml").write_text("config:\n  datadog-stack:role: account\n")
    (tmp_path / "Pulumi.g1.yaml").write_text("config:\n  datadog-stack:role: hosts\n")
    (tmp_path / "Pulumi.g2.yaml").write_text("config:\n  datadog-stack:role: hosts\n")
    code = fleet.main(["up", "--work-dir", str(tmp_path), "--workers", "2"],
                      runner=FakeRunner(fail={"g2": "error: boom"}))
    out = capsys.readouterr().out.splitlines()
    assert code == 1 and out[-1] == "rerun: python -m tools.fleet up --stacks g2"


def test_the_command_exits_0_when_every_stack_is_done(tmp_path, capsys):
    (tmp_path / "Pulumi.g1.yaml").write_text("config:\n  datadog-stack:role: hosts\n")
    assert fleet.main(["preview", "--work-dir", str(tmp_path)], runner=FakeRunner()) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "1 stack done, none to rerun"


def test_stacks_limits_the_run_to_the_named_stacks(tmp_path, capsys):
    for name in ("g1", "g2", "g3"):
        (tmp_path / f"Pulumi.{name}.yaml").write_text("config:\n  datadog-stack:role: hosts\n")
    runner = FakeRunner()
    fleet.main(["up", "--work-dir", str(tmp_path), "--stacks", "g2"], runner=runner)
    assert {stack for _, stack in runner.events} == {"g2"}


def test_zero_workers_is_refused(tmp_path, capsys):
    with pytest.raises(SystemExit) as raised:
        fleet.main(["up", "--workers", "0", "--work-dir", str(tmp_path)], runner=FakeRunner())
    assert raised.value.code == 2 and "--workers" in capsys.readouterr().err


def test_the_matrix_lists_account_and_group_stacks_as_step_outputs(tmp_path, capsys):
    (tmp_path / "Pulumi.acct.yaml").write_text("config:\n  datadog-stack:role: account\n")
    (tmp_path / "Pulumi.g1.yaml").write_text("config:\n  datadog-stack:role: hosts\n")
    (tmp_path / "Pulumi.dev.yaml").write_text("config:\n  datadog-stack:env: dev\n")
    assert fleet.main(["matrix", "--work-dir", str(tmp_path)], runner=FakeRunner()) == 0
    lines = dict(line.split("=", 1) for line in capsys.readouterr().out.splitlines())
    assert {name: json.loads(value) for name, value in lines.items()} == \
        {"accounts": ["acct"], "groups": ["g1"]}, \
        "what fleet.yml's jobs read as their matrices; dev (role all) is deploy.yml's"


class FakeStack:
    """What `automation_runner` uses of an Automation API Stack (preview, up)."""

    def __init__(self, name):
        self.name = name

    def preview(self, on_output=None, color=None):
        if on_output:
            on_output(f"Previewing update ({self.name})\n")
        return type("PreviewResult", (), {"change_summary": {"create": 3}})()

    def up(self, on_output=None, color=None):
        if on_output:
            on_output(f"Updating ({self.name})\n")
        summary = type("UpdateSummary", (), {"resource_changes": {"same": 7}})()
        return type("UpResult", (), {"summary": summary})()


@pytest.fixture
def selected(monkeypatch):
    from pulumi import automation as auto

    calls = []

    def select_stack(stack_name, work_dir=None, opts=None):
        calls.append((stack_name, work_dir, opts.env_vars if opts else None))
        return FakeStack(stack_name)

    monkeypatch.setattr(auto, "select_stack", select_stack)
    return calls


@pytest.mark.parametrize("command, changes", [("preview", {"create": 3}), ("up", {"same": 7})])
def test_the_automation_layer_returns_the_engines_change_summary(selected, tmp_path, command, changes):
    run = fleet.automation_runner(command, tmp_path, env={"PULUMI_BACKEND_URL": "file:///x"})
    assert run("g1") == changes
    assert selected == [("g1", str(tmp_path), {"PULUMI_BACKEND_URL": "file:///x"})], \
        "the named stack of the project, in the backend the environment names"


def test_the_automation_layer_keeps_each_stacks_output_in_its_log(selected, tmp_path):
    fleet.automation_runner("up", tmp_path, log_dir=tmp_path)("g1")
    assert (tmp_path / "g1.log").read_text() == "Updating (g1)\n"
