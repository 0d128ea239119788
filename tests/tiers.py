"""`make test`'s tiers, at most TEST_JOBS at a time (default 2), each tier's output kept whole.

Each tier runs as its own make target (`make test-<tier>`, or `make e2e`) with its output,
stdout and stderr together, captured to build/test-results/<tier>.log. The logs are printed
in the order the tiers are named, each as soon as it and every tier before it have ended, so
the output reads as a serial run's; the one line of tests/summary.py comes last, unchanged.
Exits 1 when any tier's make failed, as the serial loop did.

Why in parallel: the remote tier mostly waits (SSH sessions, sshd, database servers) and the
unit tier is CPU-bound, so on a 2-core machine the two overlap instead of adding up
(docs/testing.md has the figures). Tiers start longest-waiting first (START_ORDER); TEST_JOBS=1
is the old serial run, one tier after another.

    python3 -m tests.tiers unit agent apm e2e remote
"""
from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from tests import summary

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "build" / "test-results"
# The remote tier waits on SSH and database servers for most of its wall time; e2e (where an
# engine is installed) on the engine; the unit tier keeps both cores busy. Unnamed tiers last.
START_ORDER = ("remote", "e2e", "unit", "apm", "agent")


def target(tier: str) -> str:
    return tier if tier == "e2e" else f"test-{tier}"


def started_in(tiers: list[str]) -> list[str]:
    """The order tiers start in: START_ORDER's first, the rest as named."""
    known = [t for t in START_ORDER if t in tiers]
    return known + [t for t in tiers if t not in known]


class Run:
    """One tier's make, its log and, once it ended, its status and wall time."""

    def __init__(self, tier: str, make: str, results: Path):
        self.tier, self.make = tier, make
        self.log = results / f"{tier}.log"
        self.status: int | None = None
        self.seconds = self.cpu = 0.0
        self.ended = threading.Event()

    def __call__(self) -> None:
        started = time.monotonic()
        try:
            with open(self.log, "wb") as log:
                proc = subprocess.Popen(
                    [self.make, "--no-print-directory", "IN_TEST=1", target(self.tier)],
                    cwd=ROOT, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
            # wait4: this make's own CPU and its waited-for descendants' (pytest, its
            # workers, the commands tests run; not servers that daemonise).
            _, status, usage = os.wait4(proc.pid, 0)
            proc.returncode = self.status = os.waitstatus_to_exitcode(status)
            self.cpu = usage.ru_utime + usage.ru_stime
        except OSError as error:  # make itself missing or not runnable: the tier did not run
            self.log.write_text(f"{self.make} {target(self.tier)}: {error}\n")
            self.status = 1
        self.seconds = time.monotonic() - started
        self.ended.set()


def run(tiers: list[str], jobs: int, make: str = "make", out=None, results: Path = RESULTS) -> int:
    """Run the tiers' make targets, `jobs` at a time; write their logs to `out` in the order
    named; 0 when every one succeeded, else 1."""
    out = out or sys.stdout.buffer
    results.mkdir(parents=True, exist_ok=True)
    runs = {tier: Run(tier, make, results) for tier in tiers}
    queue = [runs[t] for t in started_in(tiers)]
    lock = threading.Lock()

    def worker() -> None:
        while True:
            with lock:
                if not queue:
                    return
                step = queue.pop(0)
            step()

    workers = [threading.Thread(target=worker, daemon=True) for _ in range(max(1, jobs))]
    for thread in workers:
        thread.start()
    for tier in tiers:  # printed in the order named, each once it has ended
        step = runs[tier]
        step.ended.wait()
        out.write(f"\n== {tier} (make {target(tier)}): {step.seconds:.0f} s wall, "
                  f"{step.cpu:.0f} s CPU\n".encode())
        out.write(step.log.read_bytes())
        out.flush()
    return 0 if all(r.status == 0 for r in runs.values()) else 1


def main(argv: list[str]) -> int:
    jobs = int(os.environ.get("TEST_JOBS") or 2)
    status = run(argv, jobs, os.environ.get("MAKE") or "make")
    print(summary.line(summary.load(argv)), flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
