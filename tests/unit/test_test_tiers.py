"""`make test`'s tiers run TEST_JOBS at a time (tests/tiers.py): each tier's output is printed
whole and in the order the tiers are named, whatever order they end in, and a failed tier
fails the run. A stand-in `make` plays the tiers (its sleeps make a later tier end first)."""
from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from tests import tiers

# argv: --no-print-directory IN_TEST=1 <target>. Prints two lines (one on stderr) around a
# sleep, records how many tiers were running, exits 1 for test-agent.
STAND_IN = """\
import os, sys, time
target = sys.argv[-1]
log = os.environ["STANDIN_LOG"]
def running(delta):
    with open(log, "a") as f:
        f.write(f"{delta} {target}\\n")
running(+1)
print(f"{target}: first line", flush=True)
time.sleep({"test-unit": 0.6, "test-remote": 0.1}.get(target, 0.2))
print(f"{target}: last line", file=sys.stderr, flush=True)
running(-1)
sys.exit(1 if target == "test-agent" else 0)
"""


@pytest.fixture
def make(tmp_path, monkeypatch) -> Path:
    script = tmp_path / "make"
    script.write_text(f"#!{sys.executable}\n{STAND_IN}")
    script.chmod(0o755)
    monkeypatch.setenv("STANDIN_LOG", str(tmp_path / "running.log"))
    return script


def play(make: Path, tmp_path: Path, names: list[str], jobs: int) -> tuple[int, str]:
    out = io.BytesIO()
    status = tiers.run(names, jobs, str(make), out, tmp_path / "results")
    return status, out.getvalue().decode()


def most_at_once(tmp_path: Path) -> int:
    now = peak = 0
    for line in (tmp_path / "running.log").read_text().splitlines():
        now += int(line.split()[0])
        peak = max(peak, now)
    return peak


def test_each_tiers_output_is_printed_whole_in_the_order_named(make, tmp_path):
    # remote starts first and ends long before unit: still printed after it.
    _, text = play(make, tmp_path, ["unit", "apm", "remote"], jobs=2)
    lines = [l for l in text.splitlines() if l and not l.startswith("==")]
    assert lines == [f"test-{t}: {which} line" for t in ("unit", "apm", "remote")
                     for which in ("first", "last")], \
        "one tier's lines together, stdout and stderr, tiers in the order named"
    assert [l.split(" (")[0] for l in text.splitlines() if l.startswith("==")] == \
        ["== unit", "== apm", "== remote"], "each tier's output under its own header"


@pytest.mark.parametrize("jobs", [1, 2])
def test_no_more_tiers_run_at_once_than_test_jobs(make, tmp_path, jobs):
    play(make, tmp_path, ["unit", "apm", "remote"], jobs)
    assert most_at_once(tmp_path) == jobs, f"TEST_JOBS={jobs} bounds the tiers running at once"


@pytest.mark.parametrize("names, status", [
    (["unit", "remote"], 0),
    (["unit", "agent", "remote"], 1),
], ids=["all-passed", "one-failed"])
def test_the_run_fails_exactly_when_a_tier_failed(make, tmp_path, names, status):
    assert play(make, tmp_path, names, jobs=2)[0] == status, \
        "make test fails when any tier's make failed, and only then"


def test_the_remote_tier_starts_with_the_unit_tier_whatever_the_order_named(make, tmp_path):
    play(make, tmp_path, ["unit", "apm", "remote"], jobs=2)
    starts = [l.split()[1] for l in (tmp_path / "running.log").read_text().splitlines()
              if l.startswith("1 ")]
    assert set(starts[:2]) == {"test-unit", "test-remote"}, \
        "remote (mostly waiting on SSH and servers) overlaps the CPU-bound unit tier"
