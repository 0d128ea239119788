"""Figures for a fleet (issue 21 item 4): 1, 5 and 20 SSH test hosts in one stack (role
`all`) and as group stacks (an account stack first, then up to 4 `hosts` stacks run at
once by tools.fleet's layer), each through an `up` from empty and a no-op `up`; then a
model of 100 and 1,000 hosts from those figures. Goals, not assertions (docs/fleet.md,
"Figures").

    venv/bin/python -m tests.bench.fleet [--hosts 1,5,20] [--layouts one,groups]
                                         [--no-probe] [--fallback] [--group-size 25]

`make bench-fleet`. Needs root: the SSH test hosts are namespaces, and CPU is counted in
cgroups. Through the real engine where `pulumi` and its plugins are installed
(tests/e2e/lifecycle.missing); else through the remote tier's engine -- the stack's offline
plan and its remote commands over real SSH (tests/remote/runner.py), no Datadog side and no
checkpoint -- and it says so in one line.

What each column is, and how it is counted:

* wall: the whole layout's `up` (account stack, then the groups 4 at a time), with the
  1-minute load average at its end: the machine is shared, so CPU seconds are the figures
  to reason from.
* controller CPU: each stack's controller in a cgroup of its own (cgroup v2 cpu.stat,
  tests/standins/ssh_hosts/cgroups.py). Through the engine: the `pulumi` CLI and everything
  it starts (the engine, the language host, the program, the provider plugins, ssh
  sessions the command provider opens), joined by tests/bench/pulumi_in_cgroup.sh; in the
  fallback: the stack's process (the program under the mock runtime, the ssh and scp
  clients). The Automation API's own Python and the Datadog stand-in are outside both.
* host CPU: each SSH test host's cgroup: every session's sshd and all it runs, what it
  leaves running (the app, the Agent stand-in), the host's database server -- what a VM
  would spend on its own CPU.
* SSH sessions: the hosts' sshd logins; writes: Datadog writes the stand-in saw (not the
  provider's validate calls); checkpoint: the file backend's stack JSON after the step
  (fallback: the remote tier's state of applied command inputs, a smaller thing).

One host's share, command by command (`--no-breakdown` skips it): the plan's commands for
one fresh SSH test host applied one at a time through the remote tier's engine, each one's
host CPU and wall: where the host-side seconds go.

The checkpoint probe (engine only, `--no-probe` skips it): the 20-host one-stack `up` again
on fresh hosts with PULUMI_SKIP_CHECKPOINTS=true; the controller CPU it saves is what the
engine's snapshot writes cost at 20 hosts, the model's measured K.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from agent_files import wheels
from tests.bench import fleet_model
from tests.bench.fleet_model import Step, StackRun
from tests.e2e.lifecycle import ACCOUNT
from tests.standins.ssh_hosts import HostSpec, TestHosts, cgroups

REPO = Path(__file__).resolve().parents[2]
WORKERS = 4  # tools.fleet's default: every group of the bench at once
SETTLE = 0.5  # s for the last sessions' sshd to exit before their CPU is read
WRAPPER = Path(__file__).resolve().parent / "pulumi_in_cgroup.sh"
SAVED = REPO / "build" / "bench-fleet.json"


def quiet(line: str) -> None:
    if "ready" not in line:
        print(f"  ({line})", flush=True)


def stacks_of(layout: str, hosts) -> dict[str, tuple[str, list]]:
    """Stack name -> (role, its hosts) of a layout."""
    if layout == "one":
        return {"one": ("all", list(hosts))}
    groups = fleet_model.split(list(hosts))
    return {ACCOUNT: ("account", []),
            **{f"group-{i}": ("hosts", part) for i, part in enumerate(groups, 1)}}


class EngineFleet:
    """The layout's stacks in one file backend, run through the real engine by tools.fleet's
    Automation API layer, each stack's `pulumi` in its own cgroup."""

    mode = "engine"
    state_label = "checkpoint KB"

    def __init__(self, hosts, layout: str, accounting: cgroups.CpuGroup, extra_env=None):
        from tests.e2e.lifecycle import FleetProject
        from tests.standins.datadog_api import start_server

        self.standin = start_server(0, tempfile.mkdtemp(prefix="bench-standin-"), clock_offset=0)
        self.project = FleetProject(hosts, self.standin)
        # The app's wheel set cached on the controller, as `make app-wheels` or a CI cache
        # leaves it: no stack's figures include fetching it (the program only checks it).
        cache = wheels.ensure(wheels.load())
        seeded = self.project.work / wheels.CACHE
        seeded.mkdir(parents=True)
        shutil.copy(cache, seeded / cache.name)
        self.stacks = stacks_of(layout, hosts)
        self.groups = {name: accounting.child(name) for name in self.stacks}
        self.bin = self.project.dir / "bin"
        self.bin.mkdir()
        (self.bin / "pulumi").symlink_to(WRAPPER)
        self.real = shutil.which("pulumi")
        self.extra_env = dict(extra_env or {})
        for name, (role, members) in self.stacks.items():
            self.project.create(name, role, members)

    def env_of(self, stack: str) -> dict[str, str]:
        return {**self.project.env, **self.extra_env,
                "PATH": f"{self.bin}:{os.environ['PATH']}",
                "BENCH_CGROUP": str(self.groups[stack].path), "BENCH_PULUMI": self.real}

    def run(self, accounts: tuple[str, ...], others: tuple[str, ...]) -> dict:
        outcomes, _, _ = self.project.run("up", accounts, others, workers=WORKERS, env_of=self.env_of)
        return outcomes

    def writes(self) -> int | None:
        from tests.e2e.lifecycle import datadog_writes
        return datadog_writes(self.standin)

    def state(self, stack: str) -> tuple[int | None, int | None]:
        """(bytes, resources) of the stack's checkpoint."""
        path = self.project.checkpoint(stack)
        if path is None:
            return None, None
        text = path.read_text()
        deployment = json.loads(text).get("checkpoint", {}).get("latest") or {}
        return len(text.encode()), len(deployment.get("resources") or [])

    def close(self) -> None:
        self.project.close(destroy=False)
        self.standin.stop()


class RemoteFleet:
    """The fallback: each stack's `up` a process of its own (tests/bench/remote_stack.py),
    in its cgroup, run by tools.fleet's scheduler."""

    mode = "remote"
    state_label = "state KB"

    def __init__(self, hosts, layout: str, accounting: cgroups.CpuGroup, extra_env=None):
        self.dir = Path(tempfile.mkdtemp(prefix="bench-fleet-remote-"))
        (self.dir / "outputs").mkdir()
        self.stacks = stacks_of(layout, hosts)
        self.groups = {name: accounting.child(name) for name in self.stacks}
        self.resources: dict[str, int] = {}
        for name, (role, members) in self.stacks.items():
            (self.dir / f"{name}.spec.json").write_text(json.dumps({
                "stack": name, "role": role, "key_file": str(hosts.key_file),
                "hosts": [{"name": h.name, "address": h.address, "port": h.port, "user": h.user}
                          for h in members],
                "state": str(self.dir / f"{name}.state.json"),
                "outputs_dir": str(self.dir / "outputs")}))

    def _runner(self, stack: str) -> dict[str, int]:
        done = subprocess.run(
            self.groups[stack].command([sys.executable, "-m", "tests.bench.remote_stack",
                                        str(self.dir / f"{stack}.spec.json")]),
            cwd=REPO, capture_output=True, text=True)
        lines = done.stdout.strip().splitlines()
        report = json.loads(lines[-1]) if lines and lines[-1].startswith("{") else {}
        if done.returncode:
            raise RuntimeError("\n".join(report.get("errors") or [done.stderr.strip()[-2000:]]))
        self.resources[stack] = report["resources"]
        return report["changes"]

    def run(self, accounts: tuple[str, ...], others: tuple[str, ...]) -> dict:
        from tools import fleet

        outcomes, _ = fleet.run_fleet(fleet.Waves(accounts, others), "up", self._runner,
                                      WORKERS, emit=lambda _: None)
        return {o.stack: o for o in outcomes}

    def writes(self) -> int | None:
        return None

    def state(self, stack: str) -> tuple[int | None, int | None]:
        path = self.dir / f"{stack}.state.json"
        return (path.stat().st_size if path.exists() else None), self.resources.get(stack)

    def close(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


def measure(driver, hosts: TestHosts, layout: str, step: str) -> Step:
    """One `up` of every stack of the driver's layout, and what it cost."""
    accounts = tuple(n for n, (role, _) in driver.stacks.items() if role == "account")
    others = tuple(n for n in driver.stacks if n not in accounts)
    cpu = {name: group.seconds() for name, group in driver.groups.items()}
    host_cpu = [h.cpu_seconds() for h in hosts]
    sessions, writes = hosts.sessions(), driver.writes()
    started = time.monotonic()
    outcomes = driver.run(accounts, others)
    wall = time.monotonic() - started
    time.sleep(SETTLE)
    runs = []
    for name, (role, members) in driver.stacks.items():
        outcome = outcomes.get(name)
        size, resources = driver.state(name)
        runs.append(StackRun(name, role, len(members), bool(outcome and outcome.ok),
                             driver.groups[name].seconds() - cpu[name], size, resources,
                             outcome.error if outcome else "not started"))
    after = [h.cpu_seconds() for h in hosts]
    spent = None if None in after else sum(a - b for a, b in zip(after, host_cpu))
    now_writes = driver.writes()
    return Step(layout, len(hosts), step, wall, os.getloadavg()[0], tuple(runs), spent,
                hosts.sessions() - sessions, None if writes is None else now_writes - writes)


def run_layout(fleet_class, layout: str, count: int, accounting, steps=("up", "no-op"),
               extra_env=None, tag: str = "") -> list[Step]:
    """Fresh hosts and stacks of a layout, and its steps; `tag` names its cgroups apart."""
    started = time.monotonic()
    with TestHosts([HostSpec()] * count, progress=quiet, cpu_accounting=True) as hosts:
        driver = fleet_class(hosts, layout, accounting.child(f"{layout}-{count}{tag}"), extra_env)
        print(f"  ({count} host(s) and {len(driver.stacks)} stack(s) set up in "
              f"{time.monotonic() - started:.1f} s, not counted)", flush=True)
        try:
            measured = []
            for step in steps:
                measured.append(measure(driver, hosts, layout, step))
                print("  " + "\n  ".join(fleet_model.render_table(
                    [measured[-1]], driver.state_label).splitlines()[1:]), flush=True)
            return measured
        finally:
            driver.close()


def host_breakdown() -> list[str]:
    """Where one host's share goes: the plan's commands for one SSH test host applied one at
    a time in dependency order (the remote tier's engine), each one's host CPU and wall."""
    from tests.remote.runner import Engine, plan

    with TestHosts([HostSpec()], progress=quiet, cpu_accounting=True) as hosts:
        host = hosts.hosts[0]
        commands, _ = plan(hosts, hosts.private_key)
        engine, lines = Engine(), []
        for index, command in enumerate(commands):
            before, started = host.cpu_seconds(), time.monotonic()
            outcome = engine.up(commands[:index + 1])  # the ones before are applied: skipped
            wall = time.monotonic() - started
            time.sleep(SETTLE)
            failed = " FAILED" if outcome.failed else ""
            lines.append(f"  {command.name:<22} {host.cpu_seconds() - before:5.2f} host CPU s "
                         f"{wall:5.1f} s wall{failed}")
        return lines


def machine() -> str:
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores, "
            f"load average {load}")


def report(figures: dict, group_size: int) -> None:
    """The table, the goals, the breakdown and the model, from the saved figures."""
    steps = fleet_model.from_json(figures["steps"])
    engine = figures["mode"] == EngineFleet.mode
    label = EngineFleet.state_label if engine else RemoteFleet.state_label
    probe = tuple(figures["probe"]) if figures.get("probe") else None
    print(f"\nfleet figures ({figures['mode']}; from {figures['started']} to {figures['ended']}):")
    print(fleet_model.render_table(steps, label))
    for line in fleet_model.goal_lines(steps, figures["cores"]):
        print(line)
    if probe:
        print(f"checkpoint probe, one stack of 20 hosts, up: controller {probe[0]:.1f} CPU s, "
              f"{probe[1]:.1f} with PULUMI_SKIP_CHECKPOINTS=true")
    if figures.get("breakdown"):
        print("\none host's up, command by command (remote tier, one at a time):")
        print("\n".join(figures["breakdown"]))
    for step in ("up", "no-op"):
        cal = fleet_model.calibrate(steps, step, engine, checkpoint_probe=probe)
        print()
        print(fleet_model.render_model(cal, fleet_model.model(cal, group_size=group_size),
                                       group_size))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.fleet",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--hosts", default="1,5,20", help="host counts (default 1,5,20)")
    parser.add_argument("--layouts", default="one,groups", help="one,groups (default both)")
    parser.add_argument("--no-probe", action="store_true",
                        help="skip the PULUMI_SKIP_CHECKPOINTS run (engine only)")
    parser.add_argument("--fallback", action="store_true",
                        help="the remote tier's engine even where the real engine is installed")
    parser.add_argument("--no-breakdown", action="store_true",
                        help="skip one host's commands timed one at a time")
    parser.add_argument("--group-size", type=int, default=25, help="the model's hosts a group")
    parser.add_argument("--save", type=Path, default=SAVED,
                        help=f"keep the figures here as they are measured (default {SAVED})")
    parser.add_argument("--from", dest="source", type=Path,
                        help="measure nothing: print the table and model of saved figures")
    args = parser.parse_args(argv)
    if args.source:
        report(json.loads(args.source.read_text()), args.group_size)
        return 0
    counts = [int(n) for n in args.hosts.split(",")]
    layouts = args.layouts.split(",")

    from tests.e2e.lifecycle import missing

    why = "--fallback" if args.fallback else missing()
    root = cgroups.writable_root()
    if root is None:
        print("bench-fleet needs root and a writable cgroup v2 hierarchy (CPU accounting)",
              file=sys.stderr)
        return 2
    if why:
        fleet_class = RemoteFleet
        print(f"through the remote tier's engine, not the real one ({why}): the plan's "
              "commands over real SSH; no Datadog side, no checkpoint", flush=True)
    else:
        fleet_class = EngineFleet
        version = subprocess.run(["pulumi", "version"], capture_output=True, text=True).stdout.strip()
        print(f"through the real engine: pulumi {version}, file backend, tools.fleet's "
              f"Automation API layer, {WORKERS} workers", flush=True)
    print(f"machine: {machine()}", flush=True)
    figures = {"mode": fleet_class.mode, "cores": os.cpu_count() or 1, "started": machine(),
               "ended": "", "steps": [], "probe": None, "breakdown": []}

    def save() -> None:
        figures["ended"] = machine()
        args.save.parent.mkdir(parents=True, exist_ok=True)
        args.save.write_text(json.dumps(figures, indent=1))

    accounting = cgroups.CpuGroup.make(root, f"bench-fleet-{os.getpid()}")
    print("  " + fleet_model.render_table([], fleet_class.state_label), flush=True)
    steps: list[Step] = []
    try:
        for count in counts:
            for layout in layouts:
                print(f"{fleet_model.LAYOUTS[layout]}, {count} host(s):", flush=True)
                steps += run_layout(fleet_class, layout, count, accounting)
                figures["steps"] = fleet_model.to_json(steps)
                save()
        if fleet_class is EngineFleet and not args.no_probe and 20 in counts and "one" in layouts:
            print("checkpoint probe: one stack, 20 hosts, up with PULUMI_SKIP_CHECKPOINTS=true:",
                  flush=True)
            skipped = run_layout(fleet_class, "one", 20, accounting, steps=("up",),
                                 extra_env={"PULUMI_SKIP_CHECKPOINTS": "true"}, tag="-probe")[0]
            measured = fleet_model.find(steps, "one", 20, "up")
            if not skipped.failed and measured:
                figures["probe"] = [measured.controller_cpu, skipped.controller_cpu]
                save()
    finally:
        accounting.remove()
    if not args.no_breakdown:
        figures["breakdown"] = host_breakdown()
    save()
    print(f"(figures kept in {args.save}: `python -m tests.bench.fleet --from {args.save}` "
          "prints this again)")
    report(figures, args.group_size)
    return 0


if __name__ == "__main__":
    sys.exit(main())
