"""Preview or deploy a fleet's stacks: the account stacks first, then every other stack with
N workers, one progress line per stack (docs/fleet.md).

    python -m tools.fleet preview|up [--workers N] [--stacks NAME ...] [--log-dir DIR]
    python -m tools.fleet matrix      # accounts=[...] and groups=[...] for $GITHUB_OUTPUT

Without `--stacks`, the stacks are the project's `Pulumi.<name>.yaml` files. A stack's
`datadog-stack:role` in its file orders it: `account` stacks run first (their host-group
stacks read their outputs), then the `hosts` and `all` stacks, N at a time. Each stack runs
in its own engine process with its own lock, in the backend the environment names
(PULUMI_BACKEND_URL, as for `pulumi`). A failed stack leaves the others done; the last line
names the stacks to run again, and the exit status is 1. When an account stack fails, the
other stacks are not started (they would read its old outputs).

The scheduling and the lines are plain functions, tested with a fake runner
(tests/unit/test_fleet_command.py); `automation_runner` is the thin layer over Pulumi's
Automation API that runs one stack.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import re
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Mapping

import yaml

ROOT = Path(__file__).resolve().parent.parent
COMMANDS = ("preview", "up", "matrix")
ROLE_KEY = "datadog-stack:role"
ACCOUNT, HOSTS, DEFAULT_ROLE = "account", "hosts", "all"
DEFAULT_WORKERS = 4
# A stack's run: its name -> the engine's change summary ({"create": 2, "same": 5}); any
# exception is a failure, whose text's first error line is reported.
Runner = Callable[[str], Mapping[str, int]]


@dataclass(frozen=True)
class Outcome:
    stack: str
    ok: bool
    seconds: float
    changes: Mapping[str, int] = field(default_factory=dict)
    error: str = ""


@dataclass(frozen=True)
class Waves:
    """The order of a run: the account stacks, then the rest."""
    accounts: tuple[str, ...]
    others: tuple[str, ...]


def waves(roles: Mapping[str, str]) -> Waves:
    """Stack name -> role: the account stacks first, each wave in name order."""
    return Waves(accounts=tuple(sorted(s for s, r in roles.items() if r == ACCOUNT)),
                 others=tuple(sorted(s for s, r in roles.items() if r != ACCOUNT)))


def first_error_line(text: str) -> str:
    """The engine's first `error:` line (its diagnostics), else the first non-empty line."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    for line in lines:
        if re.match(r"error:", line, re.IGNORECASE):
            return line
    return lines[0] if lines else "failed without a message"


def changes_text(changes: Mapping[str, int]) -> str:
    """`create 2, update 1, same 5`: the engine's operation names, the changes first."""
    ordered = sorted(changes.items(), key=lambda item: (item[0] == "same", item[0]))
    return ", ".join(f"{op} {count}" for op, count in ordered if count) or "no resources"


def started_line(stack: str, command: str) -> str:
    return f"{stack}: started {command}"


def outcome_line(outcome: Outcome) -> str:
    if outcome.ok:
        return f"{outcome.stack}: done in {outcome.seconds:.1f} s: {changes_text(outcome.changes)}"
    return f"{outcome.stack}: failed after {outcome.seconds:.1f} s: {outcome.error}"


def skipped_line(stack: str, accounts: Iterable[str]) -> str:
    return f"{stack}: not started: account stack {', '.join(accounts)} failed"


def summary_line(command: str, outcomes: list[Outcome], skipped: list[str]) -> str:
    """The last line: every stack done, or which to run again (failed and not started)."""
    again = [o.stack for o in outcomes if not o.ok] + skipped
    if not again:
        return f"{len(outcomes)} stack{'' if len(outcomes) == 1 else 's'} done, none to rerun"
    return f"rerun: python -m tools.fleet {command} --stacks {' '.join(again)}"


def run_one(stack: str, runner: Runner, clock: Callable[[], float]) -> Outcome:
    started = clock()
    try:
        changes = runner(stack)
    except Exception as error:  # noqa: BLE001 - any failure of one stack is that stack's
        return Outcome(stack, False, clock() - started, error=first_error_line(str(error)))
    return Outcome(stack, True, clock() - started, dict(changes))


def run_fleet(plan: Waves, command: str, runner: Runner, workers: int,
              emit: Callable[[str], None], clock: Callable[[], float] = time.monotonic
              ) -> tuple[list[Outcome], list[str]]:
    """Run the account stacks one by one, then the others with `workers` at a time; emit
    a line as each starts and ends. Returns (outcomes in finishing order, stacks not started)."""
    lock = threading.Lock()
    outcomes: list[Outcome] = []

    def one(stack: str) -> Outcome:
        with lock:
            emit(started_line(stack, command))
        outcome = run_one(stack, runner, clock)
        with lock:
            outcomes.append(outcome)
            emit(outcome_line(outcome))
        return outcome

    failed_accounts = [stack for stack in plan.accounts if not one(stack).ok]
    if failed_accounts:
        skipped = list(plan.others)
        for stack in skipped:
            emit(skipped_line(stack, failed_accounts))
        return outcomes, skipped
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        list(pool.map(one, plan.others))
    return outcomes, []


def matrix(roles: Mapping[str, str]) -> dict[str, list[str]]:
    """The account and host-group stacks as .github/workflows/fleet.yml's job matrices read
    them. A stack of role `all` (dev) is not in it: deploy.yml and pull-request.yml run it."""
    plan = waves({stack: role for stack, role in roles.items() if role in (ACCOUNT, HOSTS)})
    return {"accounts": list(plan.accounts), "groups": list(plan.others)}


def stack_roles(directory: Path, names: Iterable[str] | None = None) -> dict[str, str]:
    """Stack name -> role from its `Pulumi.<name>.yaml` (every such file without `names`);
    a stack without a file, or without the key, has the default role."""
    if names is None:
        names = [p.name[len("Pulumi."):-len(".yaml")] for p in sorted(directory.glob("Pulumi.*.yaml"))]
    roles = {}
    for name in names:
        path = directory / f"Pulumi.{name}.yaml"
        document = yaml.safe_load(path.read_text()) if path.is_file() else None
        config = document.get("config") if isinstance(document, dict) else None
        roles[name] = str((config or {}).get(ROLE_KEY, DEFAULT_ROLE))
    return roles


def automation_runner(command: str, work_dir: Path, log_dir: Path | None = None,
                      env: Mapping[str, str] | None = None) -> Runner:
    """One stack's `preview` or `up` through the Automation API (a `pulumi` CLI on PATH);
    the backend and secrets come from the environment, as for the CLI (and `env`). With
    `log_dir`, the engine's whole output of each stack goes to `<log_dir>/<stack>.log`."""
    from pulumi import automation as auto

    options = auto.LocalWorkspaceOptions(env_vars=dict(env)) if env else None

    def run(stack_name: str) -> Mapping[str, int]:
        stack = auto.select_stack(stack_name=stack_name, work_dir=str(work_dir), opts=options)
        with contextlib.ExitStack() as files:
            on_output = None
            if log_dir is not None:
                log = files.enter_context(open(log_dir / f"{stack_name}.log", "w", encoding="utf-8"))
                on_output = log.write
            if command == "preview":
                return dict(stack.preview(on_output=on_output, color="never").change_summary or {})
            return dict(stack.up(on_output=on_output, color="never").summary.resource_changes or {})

    return run


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tools.fleet", description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=COMMANDS)
    parser.add_argument("--workers", type=int, default=DEFAULT_WORKERS,
                        help=f"group stacks run at once (default {DEFAULT_WORKERS})")
    parser.add_argument("--stacks", nargs="+", metavar="NAME",
                        help="these stacks only (default: every Pulumi.<name>.yaml)")
    parser.add_argument("--work-dir", type=Path, default=ROOT, help="the Pulumi project")
    parser.add_argument("--log-dir", type=Path,
                        help="write each stack's whole engine output to DIR/<stack>.log")
    args = parser.parse_args(argv)
    if args.workers < 1:
        parser.error("--workers must be 1 or more")
    return args


def main(argv: list[str] | None = None, runner: Runner | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    roles = stack_roles(args.work_dir, args.stacks)
    if not roles:
        print(f"no stacks: no Pulumi.<name>.yaml in {args.work_dir}", file=sys.stderr)
        return 2
    if args.command == "matrix":
        # GitHub's step-output lines (name=value), each value JSON for fromJSON().
        for name, stacks in matrix(roles).items():
            print(f"{name}={json.dumps(stacks, separators=(',', ':'))}")
        return 0
    if args.log_dir is not None:
        args.log_dir.mkdir(parents=True, exist_ok=True)
    runner = runner or automation_runner(args.command, args.work_dir, args.log_dir)
    outcomes, skipped = run_fleet(waves(roles), args.command, runner, args.workers,
                                  lambda line: print(line, flush=True))
    print(summary_line(args.command, outcomes, skipped), flush=True)
    return 0 if all(o.ok for o in outcomes) and not skipped else 1


if __name__ == "__main__":
    sys.exit(main())
