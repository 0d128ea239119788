"""`make mutate`'s time budget (tests/mutation/fastest_first.py): a mutant's session runs its
fastest tests first and only those that fit in the budget; mutmut's own runs have none."""
from __future__ import annotations

import pytest

from tests.mutation import fastest_first

BUDGET_CASES = [  # (durations in run order, budget, tests run)
    ([1.0, 2.0, 3.0], 0.0, 3),    # no budget: every test
    ([1.0, 2.0, 3.0], 3.0, 2),    # 1 + 2 fits, + 3 does not
    ([1.0, 2.0, 3.0], 6.0, 3),    # all of them fit exactly
    ([9.0, 1.0], 5.0, 1),         # one test over the budget still runs: never none
    ([], 5.0, 0),
]


@pytest.mark.parametrize("durations,limit,kept", BUDGET_CASES)
def test_a_mutant_runs_the_tests_that_fit_in_its_budget_and_at_least_one(durations, limit, kept):
    assert fastest_first.within(durations, lambda d: d, limit) == kept


SESSION_CASES = [  # (MUTANT_UNDER_TEST, MUTATE_BUDGET_SECONDS, budget)
    ("rules.monitor.x_number__mutmut_3", "20", 20.0),
    ("stats", "20", 0.0),           # the stats run measures every test
    ("", "20", 0.0),                # the clean run
    ("list_all_tests", "20", 0.0),
    ("rules.monitor.x_number__mutmut_3", "", 0.0),
    ("rules.monitor.x_number__mutmut_3", "soon", 0.0),
]


@pytest.mark.parametrize("mutant,setting,expected", SESSION_CASES)
def test_only_a_mutants_session_has_a_budget(monkeypatch, mutant, setting, expected):
    monkeypatch.setenv("MUTANT_UNDER_TEST", mutant)
    monkeypatch.setenv("MUTATE_BUDGET_SECONDS", setting)
    assert fastest_first.budget() == expected
