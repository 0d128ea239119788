"""Each test directory is a tier: its name is the test's marker (unit, agent, apm, ...)."""
from pathlib import Path

import pytest

TIERS = {"unit", "agent", "apm", "engine", "e2e"}


def pytest_collection_modifyitems(items):
    for item in items:
        tier = Path(str(item.fspath)).parent.name
        if tier in TIERS:
            item.add_marker(getattr(pytest.mark, tier))
