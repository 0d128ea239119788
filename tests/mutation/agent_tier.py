"""The agent tier's pass (`make mutate`, docs/mutation-testing.md): each mutant of the
modules the agent tier covers that the unit tier let through, run against the agent tier.

The unit tier cannot tell a renamed install-script variable or a changed SQL keyword from
the original: install.sh and the SQL only mean something on a VM and to a real database,
which the agent tier runs (tests/agent: the script as root, PostgreSQL and MariaDB from
Debian). mutmut 3 runs one test command, in its own process, from one venv, and the agent
tier's venv cannot hold pulumi (datadog-checks-base pins protobuf 7, pulumi needs <7:
tests/requirements/agent.txt), so this pass runs the agent tier itself, with mutmut's own
switch: `MUTANT_UNDER_TEST=<id>` makes each mutated function's trampoline call that mutant
(mutmut/mutation/trampoline.py, get_mutant_under_test), in the copy under mutants/.

It reads mutmut's results (mutants/<file>.meta), writes mutants/agent-tier.json (mutant
id -> killed or survived, with a hash of the mutated file, so a changed file is run again)
and prints a line per mutant. tests/mutation/report.py counts a mutant this pass kills as
killed. Skips with one line where the agent tier cannot run (not root, no Debian database
servers), as the tier itself does.
"""
from __future__ import annotations

import argparse
import glob
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MUTANTS = ROOT / "mutants"
RESULTS = MUTANTS / "agent-tier.json"
# The modules the agent tier exercises (tests/agent imports them), and the tests that reach
# each function first: a killed mutant stops at its first failing test (-x).
COVERED = ("agent_files/render.py", "agent_files/db_auth.py", "agent_files/tarball.py")
SQL_TESTS = ["tests/agent/test_database_sql.py"]
QUERY_TESTS = ["tests/agent/test_custom_queries.py"]
INSTALL_TESTS = ["tests/agent/test_install_sh.py", "tests/agent/test_my_metric_check.py"]
FIRST = {"database_user_sql": SQL_TESTS, "database_backup_sql": SQL_TESTS,
         "database_drop_sql": SQL_TESTS, "_pg_ident": SQL_TESTS, "_pg_literal": SQL_TESTS,
         "database_config": QUERY_TESTS}
PER_MUTANT_TIMEOUT = 600  # seconds: a mutant that hangs install.sh counts as killed


def tests_for(name: str) -> list[str]:
    """The agent tier's test files for a mutant, the likeliest to kill it first."""
    function = name.rpartition(".")[2].removeprefix("x_").rpartition("__mutmut_")[0]
    if name.startswith("agent_files.db_auth."):
        first = SQL_TESTS
    else:
        first = FIRST.get(function, INSTALL_TESTS)
    return first + [t for t in SQL_TESTS + QUERY_TESTS + INSTALL_TESTS if t not in first]


def survivors(mutants: Path = MUTANTS) -> list[str]:
    """The unit tier's survivors (mutmut exit code 0) in COVERED, in mutmut's order."""
    found = []
    for file in COVERED:
        meta = mutants / f"{file}.meta"
        if meta.exists():
            codes = json.loads(meta.read_text())["exit_code_by_key"]
            found += sorted(name for name, code in codes.items() if code == 0)
    return found


def mutated_file_hash(name: str, mutants: Path = MUTANTS) -> str:
    """The mutated copy of the mutant's file (mutmut rewrites it when the original changes):
    a result recorded against other text is run again."""
    module = name.rpartition(".")[0]
    source = (mutants / (module.replace(".", "/") + ".py")).read_bytes()
    return hashlib.sha256(source).hexdigest()[:16]


def outcome(code: int) -> str:
    """pytest's exit code -> the mutant's fate: 1 a test failed (killed), 0 all passed."""
    return {0: "survived", 1: "killed"}.get(code, f"error {code}")


def unavailable() -> str | None:
    """Why the agent tier cannot run here, or None (as tests/needs.py judges it)."""
    if os.geteuid() != 0:
        return "not root (the agent tier runs install.sh and the database servers as root)"
    if not glob.glob("/usr/lib/postgresql/*/bin/initdb") or not shutil.which("mariadb-install-db"):
        return "PostgreSQL or MariaDB's server is missing (make deps)"
    return None


def run(name: str, python: str) -> tuple[str, float, str]:
    """(fate, seconds, pytest's last lines) of the agent tier with mutant `name` switched on."""
    started = time.monotonic()
    env = {**os.environ, "MUTANT_UNDER_TEST": name}
    try:
        done = subprocess.run([python, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider",
                               *tests_for(name)], cwd=MUTANTS, env=env, capture_output=True,
                              text=True, timeout=PER_MUTANT_TIMEOUT)
        fate, said = outcome(done.returncode), (done.stdout + done.stderr).strip()
    except subprocess.TimeoutExpired:
        fate, said = "killed", f"timed out after {PER_MUTANT_TIMEOUT} s"
    return fate, time.monotonic() - started, "\n".join(said.splitlines()[-15:])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2, help="mutants run side by side")
    args = parser.parse_args(argv)
    why = unavailable()
    if why:
        print(f"agent-tier mutation pass skipped: {why}")
        return 0
    names = survivors()
    done = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    todo = [n for n in names if done.get(n, {}).get("hash") != mutated_file_hash(n)]
    print(f"agent-tier mutation pass: {len(names)} unit-tier survivors in "
          f"{', '.join(COVERED)}; {len(todo)} to run, {len(names) - len(todo)} known")
    if not todo:
        return 0
    python = sys.executable
    # The tier must pass on the original code, or every mutant would look killed.
    fate, seconds, said = run("", python)
    if fate != "survived":
        print(f"agent-tier mutation pass: the agent tier fails without a mutant ({fate}, "
              f"{seconds:.0f} s); run `make test-agent`. pytest ended:\n{said}")
        return 2
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        for count, (name, (fate, seconds, _)) in enumerate(
                zip(todo, pool.map(lambda n: run(n, python), todo)), 1):
            done[name] = {"status": fate, "hash": mutated_file_hash(name), "seconds": round(seconds, 1)}
            RESULTS.write_text(json.dumps(done, indent=1, sort_keys=True) + "\n")
            print(f"agent-tier mutation pass: {count}/{len(todo)} {name} {fate} "
                  f"[{seconds:.1f} s; {time.monotonic() - started:.0f} s in all]", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
