"""The recovery thresholds on the values the check really sends: far fewer notifications,
never a later or milder alert. rules/monitor_states.py cites how Datadog evaluates."""
from __future__ import annotations

import pulumi
import pytest

import settings
from domain import Settings, Thresholds
from pulumi_config import PulumiConfig
from rules.monitor_states import (ALERT, OK, WARN, changes, check_values, next_state, states,
                                  window_averages, without_recovery)
from tests.unit.test_settings import DEV
from tools.plan import StackConfig

WEEK = 7 * 86400
SEVERITY = {OK: 0, WARN: 1, ALERT: 2}
T = Thresholds(warning=500, critical=800, warning_recovery=200, critical_recovery=650)


@pytest.fixture(scope="module")
def dev() -> Settings:
    """The dev stack's settings: seed thresholds, default recovery thresholds."""
    config = StackConfig.from_file(DEV)
    pulumi.runtime.set_all_config(dict(config.values), config.secret_keys)
    return settings.load(PulumiConfig(), "dev")


@pytest.fixture(scope="module")
def week(dev) -> list[float]:
    """A week of 5-minute averages of the check, run every checkInterval (seeded)."""
    return list(window_averages(check_values(seed=0, interval=dev.agent.check_interval,
                                             duration=WEEK)))


def test_default_recovery_thresholds_cut_state_changes_at_least_fivefold(dev, week):
    plain = changes(states(week, without_recovery(dev.thresholds)))
    damped = changes(states(week, dev.thresholds))
    assert damped * 5 <= plain, (
        f"a week of my_metric: {plain} state changes without recovery thresholds, {damped} "
        "with them; each change is an email")


def test_recovery_thresholds_never_make_the_monitor_later_or_milder(dev, week):
    plain = states(week, without_recovery(dev.thresholds))
    damped = states(week, dev.thresholds)
    milder = [i for i, (p, d) in enumerate(zip(plain, damped)) if SEVERITY[d] < SEVERITY[p]]
    assert not milder, f"minutes where the damped monitor is milder: {milder[:5]}"


def test_an_alert_holds_until_the_average_is_at_or_below_its_recovery_threshold():
    assert states([850, 700, 651, 650], T) == [ALERT, ALERT, ALERT, WARN], \
        "a `>` monitor recovers at `<=` the recovery threshold, into Warn above the warning"


def test_a_warning_holds_until_the_average_is_at_or_below_its_recovery_threshold():
    assert states([600, 400, 201, 200], T) == [WARN, WARN, WARN, OK]


def test_without_recovery_thresholds_a_state_ends_once_the_value_is_back_under_it():
    assert states([850, 800, 600, 500], without_recovery(T)) == [ALERT, WARN, WARN, OK]


def test_a_value_above_critical_alerts_from_any_state():
    assert {next_state(state, 801, T) for state in (OK, WARN, ALERT)} == {ALERT}


def test_each_evaluation_averages_the_points_of_the_last_five_minutes():
    points = [(0, 1000)] + [(t, 0) for t in range(60, 421, 60)]
    assert list(window_averages(points)) == [0, 0, 0], \
        "the point at t=0 is outside (0, 300], the window of the first evaluation"


def test_a_change_is_counted_for_every_notification():
    assert changes([WARN, WARN, OK, ALERT, WARN]) == 4


def test_the_simulated_check_runs_once_per_interval_from_the_start():
    values = check_values(seed=7, interval=15, duration=3600)
    assert [t for t, _ in values] == list(range(0, 3600, 15)), \
        "the check runs at t=0 and every min_collection_interval after it, for the whole duration"


def test_the_simulated_check_is_reproducible_for_a_seed():
    assert check_values(seed=3, interval=15, duration=600) == check_values(seed=3, interval=15, duration=600), \
        "a seed gives the same week of values, so the flapping counts (and make bench) are repeatable"


def test_the_simulated_values_span_exactly_the_checks_range():
    # agent_files/my_metric.py sends random.randint(0, 1000): both ends can occur, nothing past them.
    values = {v for _, v in check_values(seed=0, interval=1, duration=200_000)}
    assert (min(values), max(values)) == (0, 1000), "the model sends what the check sends: 0 to 1000"


@pytest.mark.parametrize("points, averages", [
    # a point at the evaluation moment is in its window; one exactly 5 minutes earlier is not
    ([(t, t) for t in range(60, 421, 60)], [180, 240, 300]),
    # points off the minute: the first window, (0, 300], holds the point at t=30
    ([(30, 500)] + [(t, 0) for t in range(90, 400, 60)], [100, 0]),
    # evaluations stop at the last point: none averages a window the check has not filled
    ([(t, 7) for t in range(59, 360, 60)], [7]),
    ([], []),
])
def test_each_evaluation_averages_exactly_the_points_of_its_window(points, averages):
    assert list(window_averages(points)) == averages, \
        "avg(last_5m) at each minute is the mean of the points in (now - 5 min, now]"


@pytest.mark.parametrize("host_tag, grouped", [
    (None, "host"),
    ("pulumi-fleet:datadog-stack/acct", "host,pulumi-fleet"),
    ("team:db:primary", "host,team"),   # a tag's key ends at its first colon; a value may hold more
])
def test_the_monitor_groups_by_host_and_by_the_host_tags_key(host_tag, grouped):
    from rules import monitor
    assert monitor.group_by(host_tag) == grouped, \
        "a downtime's scope filters only on tags the monitor groups by: the key, not key:value"
