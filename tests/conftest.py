"""Each test directory is a tier: its name is the test's marker (unit, agent, apm, ...).

With TEST_RESULTS=<file> (the Makefile's tier targets set it) a run also writes its counts
there as JSON, skips by reason, for the line `make test` ends with (tests/summary.py)."""
import json
import os
from collections import Counter
from pathlib import Path

import pytest

TIERS = {"unit", "agent", "apm", "engine", "e2e"}


def pytest_collection_modifyitems(items):
    for item in items:
        tier = Path(str(item.fspath)).parent.name
        if tier in TIERS:
            item.add_marker(getattr(pytest.mark, tier))


def _skip_reason(report) -> str:
    longrepr = report.longrepr
    reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
    return reason.removeprefix("Skipped: ")


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    path = os.environ.get("TEST_RESULTS")
    if not path or hasattr(config, "workerinput"):  # xdist: the controller writes it
        return
    stats = terminalreporter.stats
    results = {
        "exitstatus": int(exitstatus),
        "passed": sum(1 for r in stats.get("passed", []) if r.when == "call"),
        "failed": len(stats.get("failed", [])) + len(stats.get("error", [])),
        "skipped": dict(Counter(_skip_reason(r) for r in stats.get("skipped", []))),
    }
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(results, indent=1, sort_keys=True) + "\n")
