"""A model of how Datadog moves the my_metric monitor between states, to count flapping.

Used by the unit tests and `make bench`, not by the stack: it shows what the recovery
thresholds buy on the values the check really sends. What it models, and from where:

- the check sends `random.randint(0, 1000)` every `checkInterval` seconds
  (agent_files' my_metric check, `min_collection_interval`);
- Datadog evaluates the monitor once a minute, each time over the points of the last
  5 minutes (`avg(last_5m)`: their average). The one-minute frequency is Datadog's usual
  default for short windows as we know it; it was not confirmed in the docs reachable
  here, and a slower frequency would only lower both counts;
- a `>` monitor enters a state when the average is above its threshold and, with a
  recovery threshold, leaves it only once the average is at or below that (`<=`);
  without one it leaves as soon as the average is no longer above the threshold, which is
  the same rule with the recovery threshold equal to the threshold
  (docs: monitors/guide/recovery-thresholds, "> alert threshold | <= recovery threshold").
An alert that recovers lands in Warn if the average is still above the warning threshold.
No Data is not modelled: the simulated check never misses a run.
"""
from __future__ import annotations

import random
from collections import deque
from dataclasses import replace
from typing import Iterable, Iterator

from domain import Thresholds

OK, WARN, ALERT = "OK", "Warn", "Alert"
EVALUATION_EVERY = 60  # seconds
WINDOW = 300  # seconds: avg(last_5m)


def check_values(seed: int, interval: int, duration: int) -> list[tuple[int, int]]:
    """(timestamp, value) of every run of the check over `duration` seconds."""
    rng = random.Random(seed)
    return [(t, rng.randint(0, 1000)) for t in range(0, duration, interval)]


def window_averages(points: list[tuple[int, int]]) -> Iterator[float]:
    """The 5-minute average at each evaluation, from the first full window on."""
    window: deque[tuple[int, int]] = deque()
    total, index = 0, 0
    end = points[-1][0] if points else 0
    for now in range(WINDOW, end + 1, EVALUATION_EVERY):
        while index < len(points) and points[index][0] <= now:
            window.append(points[index])
            total += points[index][1]
            index += 1
        while window and window[0][0] <= now - WINDOW:
            total -= window.popleft()[1]
        if window:
            yield total / len(window)


def next_state(state: str, value: float, t: Thresholds) -> str:
    if value > t.critical or (state == ALERT and value > t.critical_recovery):
        return ALERT
    if value > t.warning or (state == WARN and value > t.warning_recovery):
        return WARN
    return OK


def states(averages: Iterable[float], thresholds: Thresholds) -> list[str]:
    """The monitor's state after each evaluation, starting from OK."""
    state, out = OK, []
    for value in averages:
        state = next_state(state, value, thresholds)
        out.append(state)
    return out


def without_recovery(thresholds: Thresholds) -> Thresholds:
    """The same monitor with no recovery thresholds (Datadog's default behaviour)."""
    return replace(thresholds, warning_recovery=thresholds.warning,
                   critical_recovery=thresholds.critical)


def changes(history: list[str]) -> int:
    """State changes, each one a notification (Triggered, Warn, Recovered)."""
    return sum(1 for before, after in zip([OK] + history, history) if before != after)
