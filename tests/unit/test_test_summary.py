"""The line `make test` ends with (tests/summary.py), from the counts each tier's pytest run
writes (tests/conftest.py, TEST_RESULTS): a partial run says so, and how to make it whole."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests import summary

ROOT = Path(__file__).resolve().parents[2]
DEPS = "shellcheck is missing: run `make deps`"


def result(passed=0, failed=0, skipped=None, exitstatus=0):
    return {"passed": passed, "failed": failed, "skipped": skipped or {}, "exitstatus": exitstatus}


@pytest.mark.parametrize("results, expected", [
    ({"unit": result(3)}, "PASSED: unit 3 passed"),
    ({"unit": result(3, skipped={DEPS: 2}), "remote": result(0, skipped={DEPS: 5, "x: y": 1})},
     f"PASSED: unit 3 passed, 2 skipped; remote 0 passed, 6 skipped | 8 skipped: 7 × {DEPS}; 1 × x: y"),
    ({"unit": result(3, failed=1, exitstatus=1), "agent": result(2)},
     "FAILED: unit 3 passed, 1 failed; agent 2 passed"),
    ({"unit": result(3), "agent": None}, "FAILED: unit 3 passed; agent did not run to the end"),
    ({"e2e": result(0, skipped={"no pulumi CLI": 2}, exitstatus=5)},
     "PASSED: e2e 0 passed, 2 skipped | 2 skipped: 2 × no pulumi CLI"),
], ids=["all-passed", "skips-by-reason-across-tiers", "a-failure", "a-tier-that-stopped",
        "e2e-without-an-engine"])
def test_the_summary_line(results, expected):
    assert summary.line(results) == expected, "one line: tiers, skips by reason, the verdict"


def test_a_run_writes_its_counts_and_skip_reasons(tmp_path):
    tests = tmp_path / "test_sample.py"
    tests.write_text(
        "import pytest\n"
        "def test_passes(): pass\n"
        "def test_skips(): pytest.skip('shellcheck is missing: run `make deps`')\n"
        "def test_fails(): assert False\n")
    skipped_module = tmp_path / "test_skipped_module.py"
    skipped_module.write_text("import pytest\npytest.skip('no pulumi CLI', allow_module_level=True)\n")
    out = tmp_path / "results" / "unit.json"
    subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
                    "-c", str(ROOT / "pytest.ini"), "--rootdir", str(ROOT), "-p", "tests.conftest",
                    str(tests), str(skipped_module)],
                   cwd=ROOT, env={"TEST_RESULTS": str(out), "PATH": "/usr/bin:/bin"},
                   capture_output=True, timeout=120)
    assert json.loads(out.read_text()) == {
        "exitstatus": 1, "passed": 1, "failed": 1,
        "skipped": {"shellcheck is missing: run `make deps`": 1, "no pulumi CLI": 1}}, \
        "the counts `make test` sums up, module-level skips included"
