"""Benchmarks that print figures (goals, not test assertions): `make bench`.

    python -m tests.bench.offline [--runs N]

The floor of every plan, preview and test process is `import pulumi_datadog` plus
interpreter teardown, so each figure is also given as a ratio against that floor.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def wall(argv: list[str], runs: int) -> float:
    """Median wall time of a command, in seconds."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, cwd=ROOT, check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def plan_wall(config: Path | None, runs: int) -> float:
    """Median wall time of the offline plan (`python -m tools.plan --json`), for a stack file
    or, with None, the dev stack."""
    return wall([sys.executable, "-m", "tools.plan", "--json",
                 *(["--config-file", str(config)] if config else [])], runs)


def config_with_hosts(count: int, directory: Path) -> Path:
    document = yaml.safe_load((ROOT / "Pulumi.dev.yaml").read_text())
    document["config"]["datadog-stack:hosts"] = [
        {"name": f"vm{i}", "address": f"10.0.{i // 250}.{i % 250 + 1}"} for i in range(count)]
    path = directory / f"Pulumi.hosts{count}.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


def plan_resources(path: Path) -> int:
    out = subprocess.run([sys.executable, "-m", "tools.plan", "--json", "--config-file",
                          str(path)], cwd=ROOT, check=True, capture_output=True, text=True)
    return len(json.loads(out.stdout)["resources"])


def config_with_catalog(count: int, directory: Path) -> Path:
    """The dev stack with a catalog of `count` Datadog-authored objects from the test corpus
    (monitors and dashboards alternating, as far as each kind goes)."""
    from tests.catalog_corpus.build import corpus
    from tests.standins.datadog_api.replay import cassette_dir

    # one sample per cassette or asset: a GET answer and its UI export are the same object
    samples = [s for s in corpus(cassette_dir()) if s.shape not in ("ui-monitor", "ui-dashboard")]
    monitors = [s for s in samples if s.kind == "monitor"]
    dashboards = [s for s in samples if s.kind == "dashboard"]
    mixed = [s for pair in zip(monitors, dashboards) for s in pair] + monitors[len(dashboards):] \
        + dashboards[len(monitors):]
    root = directory / f"catalog{count}"
    for sample in mixed[:count]:
        (root / sample.file).parent.mkdir(parents=True, exist_ok=True)
        (root / sample.file).write_text(json.dumps(sample.raw))
    document = yaml.safe_load((ROOT / "Pulumi.dev.yaml").read_text())
    document["config"]["datadog-stack:catalogDir"] = str(root)
    path = directory / f"Pulumi.catalog{count}.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


def catalog(floor: float, runs: int) -> None:
    """The offline plan with 100 catalog objects against the import floor (issue 20: <= 1.1x),
    and the round trip of the whole catalog corpus through the stand-in."""
    with tempfile.TemporaryDirectory() as tmp:
        empty, hundred = config_with_catalog(0, Path(tmp)), config_with_catalog(100, Path(tmp))
        t0 = plan_wall(empty, runs)
        t100 = plan_wall(hundred, runs)
        print(f"plan   no catalog:        {t0:6.2f} s = {t0 / floor:.2f}x floor")
        print(f"plan   100 catalog objects: {t100:6.2f} s = {t100 / floor:.2f}x floor (goal <= 1.1x), "
              f"{t100 / t0:.2f}x the plan without, "
              f"{plan_resources(hundred) - plan_resources(empty)} more resources")
    from tests.catalog_corpus import roundtrip
    roundtrip.main([])


def standin_replay() -> None:
    """How many of Datadog's recorded exchanges the API stand-in agrees with (issue 11)."""
    from tests.standins.datadog_api import replay
    start = time.perf_counter()
    try:
        results = replay.replay_all()
    except FileNotFoundError as error:
        print(f"standin replay not run: {error}")
        return
    print(f"standin {replay.summary(results)} "
          f"({time.perf_counter() - start:.1f} s, {replay.cassette_dir()})")


def downtime_proof() -> None:
    """Moments of change checked by the downtime proof, and the minutes it finds wrong."""
    from tests.downtime_moments import CHANGE_ZONES, NINE_TO_SEVEN, change_moments, recurrences_at
    from tests.downtime_reading import READINGS, SEMANTICS, wrong_minutes

    cases, wrong = 0, {"office_muted": 0.0, "off_hours_open": 0.0}
    moments = {zone: change_moments(zone) for zone in CHANGE_ZONES}
    for zone, changes in moments.items():
        for changed in changes:
            recurrences = recurrences_at(NINE_TO_SEVEN, zone, changed)
            for reading in READINGS:
                for semantics in SEMANTICS:
                    cases += 1
                    found = wrong_minutes(recurrences, NINE_TO_SEVEN, zone, changed, 3,
                                          reading, semantics)
                    for kind, intervals in found.items():
                        wrong[kind] += sum((e - s).total_seconds() / 60 for s, e in intervals)
    print(f"downtimes {sum(map(len, moments.values()))} moments of change in {len(moments)} "
          f"zones, {cases} cases (2 readings of a start x 2 of a duration, 3 weeks each): "
          f"{wrong['office_muted']:.0f} office minutes muted, "
          f"{wrong['off_hours_open']:.0f} off-hours minutes left open")


def flapping(days: int = 7) -> None:
    """State changes of the dev stack's monitor on a simulated week of the check's values."""
    import pulumi

    import settings
    from pulumi_config import PulumiConfig
    from rules import monitor_states as model
    from tools.plan import StackConfig

    config = StackConfig.from_file(ROOT / "Pulumi.dev.yaml")
    pulumi.runtime.set_all_config(dict(config.values), config.secret_keys)
    dev = settings.load(PulumiConfig(), "dev")
    t = dev.thresholds
    averages = list(model.window_averages(model.check_values(0, dev.agent.check_interval, days * 86400)))
    for label, thresholds in (("without recovery thresholds", model.without_recovery(t)),
                              (f"recovery {t.warning_recovery:g} / {t.critical_recovery:g}", t)):
        history = model.states(averages, thresholds)
        share = {s: history.count(s) / len(history) for s in (model.OK, model.WARN, model.ALERT)}
        print(f"monitor {label:28}: {model.changes(history) / days:6.1f} state changes a day "
              f"(OK {share[model.OK]:.0%}, Warn {share[model.WARN]:.0%}, "
              f"Alert {share[model.ALERT]:.1%} of minutes)")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.offline",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    runs = parser.parse_args().runs
    downtime_proof()
    flapping()
    py = sys.executable
    floor = wall([py, "-c", "import pulumi_datadog"], runs)
    print(f"floor  import pulumi_datadog + teardown: {floor:6.2f} s (median of {runs})")
    plan = plan_wall(None, runs)
    print(f"plan   dev stack offline plan:           {plan:6.2f} s = {plan / floor:.2f}x floor")
    with tempfile.TemporaryDirectory() as tmp:
        one, hundred = config_with_hosts(1, Path(tmp)), config_with_hosts(100, Path(tmp))
        t1 = plan_wall(one, runs)
        t100 = plan_wall(hundred, runs)
        print(f"plan   1 host:   {t1:6.2f} s, {plan_resources(one)} resources")
        print(f"plan   100 hosts:{t100:6.2f} s, {plan_resources(hundred)} resources "
              f"= {t100 / t1:.2f}x the 1-host plan (goal <= 20x)")
    catalog(floor, runs)
    standin_replay()
    suite = wall([py, "-m", "pytest", "-q", "-n", "2", "tests/unit"], 1)
    print(f"suite  unit tier, 2 workers (one run):   {suite:6.2f} s = {suite / floor:.2f}x floor")


if __name__ == "__main__":
    main()
