"""pytest plugin for mutmut's runs only (setup.cfg, `pytest_add_cli_args`): the fastest tests
first, within a time budget.

mutmut runs each mutant with `pytest -x` over the tests that reach the mutated function, so a
mutant ends at its first failing test. Running the quick, focused tests before the slow ones
(whole-program plans, the stand-in's sweeps over many moments) ends most killed mutants within
a second. The durations are those mutmut measured in its stats run (mutants/mutmut-stats.json,
relative to the working directory mutmut runs pytest in); without them the order is pytest's.

A survivor, though, runs every test that reaches its function: up to 530 tests and 85 s for
a function of settings.py, whose results every program test reads. `MUTATE_BUDGET_SECONDS`
(`make mutate BUDGET=`) keeps, fastest first, the tests whose measured durations fit in it
(always at least one) and deselects the rest. A mutant that survives within the budget is
reported as a survivor even if a slower test would have killed it, so a kill ratio measured
with a budget is a lower bound of the whole suite's. 0 or unset: no budget.
Only a mutant's session has one (MUTANT_UNDER_TEST names a mutant).
"""
from __future__ import annotations

import json
import os
from pathlib import Path

STATS = Path("mutmut-stats.json")


def budget() -> float:
    """The budget of a mutant's session; none for mutmut's own runs (the clean run, the stats
    run that measures every test, the listing), which are not a mutant's."""
    if "__mutmut_" not in os.environ.get("MUTANT_UNDER_TEST", ""):
        return 0.0
    try:
        return max(float(os.environ.get("MUTATE_BUDGET_SECONDS") or 0), 0.0)
    except ValueError:
        return 0.0


def within(items: list, seconds_of, limit: float) -> int:
    """How many of `items`, in order, fit in `limit` seconds (at least one; all when 0)."""
    if not limit:
        return len(items)
    spent = 0.0
    for index, item in enumerate(items):
        spent += seconds_of(item)
        if index and spent > limit:
            return index
    return len(items)


def pytest_collection_modifyitems(config, items):
    try:
        durations = json.loads(STATS.read_text())["duration_by_test"]
    except (OSError, ValueError, KeyError):
        return
    unknown = max(durations.values(), default=0.0)
    seconds_of = lambda item: durations.get(item.nodeid, unknown)  # noqa: E731
    items.sort(key=seconds_of)
    kept = within(items, seconds_of, budget())
    if kept < len(items):
        config.hook.pytest_deselected(items=items[kept:])
        del items[kept:]
