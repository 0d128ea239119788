"""pytest plugin for mutmut's runs only (setup.cfg, `pytest_add_cli_args`): the fastest tests first.

mutmut runs each mutant with `pytest -x` over the tests that reach the mutated function, so a
mutant ends at its first failing test. Running the quick, focused tests before the slow ones
(whole-program plans, the stand-in's sweeps over many moments) ends most killed mutants within
a second. The durations are those mutmut measured in its stats run (mutants/mutmut-stats.json,
relative to the working directory mutmut runs pytest in); without them the order is pytest's.
"""
from __future__ import annotations

import json
from pathlib import Path

STATS = Path("mutmut-stats.json")


def pytest_collection_modifyitems(items):
    try:
        durations = json.loads(STATS.read_text())["duration_by_test"]
    except (OSError, ValueError, KeyError):
        return
    unknown = max(durations.values(), default=0.0)
    items.sort(key=lambda item: durations.get(item.nodeid, unknown))
