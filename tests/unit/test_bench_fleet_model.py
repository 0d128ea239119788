"""`make bench-fleet`'s arithmetic (tests/bench/fleet_model.py): how hosts split into group
stacks, what the table and the goal lines say from given figures, and the model of 100 and
1,000 hosts. Made-up figures only: no timing is asserted here."""
from __future__ import annotations

import pytest

from tests.bench import fleet_model as fm

pytestmark = pytest.mark.unit


def step(layout="groups", hosts=20, kind="up", wall=10.0, stacks=(), host_cpu=None,
         sessions=0, writes=0) -> fm.Step:
    return fm.Step(layout, hosts, kind, wall, 1.0, tuple(stacks), host_cpu, sessions, writes)


def groups_step(hosts, kind="up", per_stack=10.0, per_host=1.0, account=5.0, **kw) -> fm.Step:
    """An account stack and the groups fm.split makes, each costing per_stack + per_host*n."""
    runs = [fm.StackRun("acct", "account", 0, True, account)]
    runs += [fm.StackRun(f"group-{i}", "hosts", len(part), True, per_stack + per_host * len(part))
             for i, part in enumerate(fm.split(range(hosts)), 1)]
    return step("groups", hosts, kind, stacks=runs, **kw)


@pytest.mark.parametrize("hosts, sizes", [
    (1, [1]),
    (3, [1, 1, 1]),
    (5, [2, 1, 1, 1]),
    (20, [5, 5, 5, 5]),
    (21, [6, 5, 5, 5]),
])
def test_hosts_split_into_at_most_four_groups_of_near_equal_size(hosts, sizes):
    groups = fm.split(list(range(hosts)))
    assert [len(g) for g in groups] == sizes
    assert [h for g in groups for h in g] == list(range(hosts)), "every host once, in order"


@pytest.mark.parametrize("points, line", [
    ([(1, 12.0), (5, 20.0), (20, 50.0)], (10.0, 2.0)),
    ([(5, 7.0), (5, 9.0)], (8.0, 0.0)),  # one distinct x: no slope to fit
])
def test_a_line_is_fitted_through_the_points(points, line):
    assert fm.fit(points) == pytest.approx(line)


def test_the_account_stacks_cpu_is_not_counted_per_host():
    measured = groups_step(20, per_stack=10.0, per_host=1.0, account=100.0)
    assert measured.controller_per_host == pytest.approx((4 * 10.0 + 20 * 1.0) / 20)


@pytest.mark.parametrize("one_wall, twenty_wall, verdict", [
    (10.0, 30.0, "MET"),
    (10.0, 30.1, "MISSED"),
])
def test_twenty_hosts_within_three_times_one_host(one_wall, twenty_wall, verdict):
    steps = [step("one", 1, wall=one_wall, stacks=[fm.StackRun("one", "all", 1, True, 5.0)]),
             step("one", 20, wall=twenty_wall, stacks=[fm.StackRun("one", "all", 20, True, 9.0)])]
    line = next(l for l in fm.goal_lines(steps, 2) if l.startswith("goal 20 hosts"))
    assert line.endswith(verdict), line


@pytest.mark.parametrize("per_host_at_20, verdict", [
    (1.0, "MET"),  # 45 CPU s for 5 hosts, 60 for 20: the stacks' fixed cost spreads
    (8.0, "MISSED"),  # 200 CPU s for 20 hosts: 10 a host against 9
])
def test_controller_cost_per_host_must_stay_flat_from_5_to_20_hosts(per_host_at_20, verdict):
    steps = [groups_step(5, per_stack=10.0, per_host=1.0),
             groups_step(20, per_stack=10.0, per_host=per_host_at_20)]
    line = next(l for l in fm.goal_lines(steps, 2) if "flat" in l)
    assert line.endswith(f"{verdict} (flat: <= 1.10x)"), line


@pytest.mark.parametrize("sessions, writes, verdict", [
    (0, 0, "MET"),
    (1, 0, "MISSED"),
    (0, 3, "MISSED"),
])
def test_a_no_op_of_any_group_opens_no_session_and_writes_nothing(sessions, writes, verdict):
    steps = [groups_step(5, "no-op"), groups_step(20, "no-op", sessions=sessions, writes=writes)]
    line = next(l for l in fm.goal_lines(steps, 2) if l.startswith("goal no-op"))
    assert line.endswith(verdict), line


def test_saved_figures_read_back_as_the_same_steps():
    import json

    steps = [groups_step(5, host_cpu=12.5, sessions=35), groups_step(5, "no-op", writes=None)]
    assert fm.from_json(json.loads(json.dumps(fm.to_json(steps)))) == steps


def test_the_table_has_a_line_a_step_and_names_each_failed_stack():
    failed = fm.StackRun("group-2", "hosts", 5, False, 1.0, error="error: ssh: handshake failed")
    table = fm.render_table([groups_step(5), step("groups", 5, "no-op", stacks=[failed])])
    lines = table.splitlines()
    assert len(lines) == 4 and lines[0].startswith("layout")
    assert lines[3] == "  FAILED groups 5 no-op: group-2: error: ssh: handshake failed"


def calibration(**changes) -> fm.Calibration:
    def figure(value):
        return fm.Figure(value, "assumed", "")
    values = dict(group_fixed=10.0, group_per_host=1.0, one_fixed=20.0, one_per_host=1.0,
                  account=5.0, host_chain=3.0, state_fixed=0.0, state_per_host=1000.0,
                  resources_per_host=10.0, writes_per_step=2.0, seconds_per_byte=1e-6)
    values.update(changes)
    return fm.Calibration("up", **{k: figure(v) for k, v in values.items()})


def test_the_checkpoint_cost_grows_with_the_square_of_a_stacks_hosts():
    cal = calibration()
    assert cal.checkpoint_bytes(100) == pytest.approx(2 * 10 * 100 * (1000 * 100 / 2))
    assert cal.checkpoint_cpu(200) == pytest.approx(4 * cal.checkpoint_cpu(100))


def test_one_stack_pays_its_controller_serially_then_one_hosts_chain():
    cal = calibration()
    estimate = fm.one_stack(cal, 100)
    controller = 20.0 + 100 * 1.0 + cal.checkpoint_cpu(100)
    assert (estimate.controller_cpu, estimate.wall) == pytest.approx((controller, controller + 3.0))


@pytest.mark.parametrize("parallel, waves", [(1, 40), (4, 10), (16, 3), (64, 1)])
def test_group_stacks_run_after_the_account_in_waves_of_p(parallel, waves):
    cal = calibration()
    estimate = fm.group_stacks(cal, 1000, 25, parallel)
    per_stack = 10.0 + 25 * 1.0 + cal.checkpoint_cpu(25)
    assert estimate.stacks == 40
    assert estimate.controller_cpu == pytest.approx(5.0 + 40 * per_stack), "CPU does not shrink with P"
    assert estimate.wall == pytest.approx(5.0 + waves * (per_stack + 3.0))


def test_calibration_fits_a_group_stacks_fixed_and_per_host_cost():
    steps = [groups_step(1, per_stack=8.0, per_host=0.5), groups_step(5, per_stack=8.0, per_host=0.5),
             groups_step(20, per_stack=8.0, per_host=0.5)]
    cal = fm.calibrate(steps, "up", engine=False)
    assert (cal.group_fixed.value, cal.group_per_host.value) == pytest.approx((8.0, 0.5))
    assert cal.account.value == pytest.approx(5.0)


def test_the_checkpoint_probe_measures_the_cost_of_a_snapshot_byte():
    one = [fm.StackRun("one", "all", n, True, 10.0 + n, state_bytes=1000 * n, resources=10 * n)
           for n in (1, 20)]
    steps = [step("one", n, stacks=[run]) for n, run in zip((1, 20), one)]
    cal = fm.calibrate(steps, "up", engine=True, checkpoint_probe=(30.0, 26.0))
    assert cal.seconds_per_byte.source == "measured"
    assert cal.checkpoint_cpu(20) == pytest.approx(4.0), "the probe's 4 s at 20 hosts, put back by K"


@pytest.mark.parametrize("layouts, modelled", [
    (("groups",), {"groups"}),
    (("one",), {"one"}),
    (("one", "groups"), {"one", "groups"}),
])
def test_the_model_estimates_only_the_layouts_the_run_measured(layouts, modelled):
    steps = []
    if "groups" in layouts:
        steps += [groups_step(5), groups_step(20)]
    if "one" in layouts:
        steps += [step("one", n, stacks=[fm.StackRun("one", "all", n, True, 10.0 + n)]) for n in (5, 20)]
    cal = fm.calibrate(steps, "up", engine=False)
    assert {e.layout for e in fm.model(cal)} == modelled, "a layout not run has no F or h to model it"
    assert "not measured" not in fm.render_model(cal, fm.model(cal), 25), "no input line of zeros"
