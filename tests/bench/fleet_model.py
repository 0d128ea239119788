"""The fleet bench's arithmetic (tests/bench/fleet.py measures, this reads): the table of
measured figures, the goals read from it, and the model of 100 and 1,000 hosts -- one stack
against group stacks run P at a time -- with each input marked measured, fitted or assumed.
docs/fleet.md ("Figures") explains the model. Pure functions, no clock and no I/O
(tests/unit/test_bench_fleet_model.py).

The model's shape (issue 21):

* controller time, per stack and serial within it (one engine, one program, one lock):
  C(n) = F + h*n + K(n), F and h fitted to the measured stacks, K the engine's checkpoint
  writes: with a file or S3 backend the engine writes the whole snapshot at the start and
  at the end of every resource step (pulumi/pulumi pkg/backend/snapshot.go: BeginMutation
  and End each save; only unchanged `same` steps are elided), so
  K(n) = c * writes(n) * mean snapshot size, which grows with n squared;
* host-side time, on each VM's own CPU, all hosts at once: adds one host's chain L to a
  stack's wall, not n of them;
* a fleet of group stacks: the account stack, then ceil(G/P) waves of group stacks.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Sequence, TypeVar

T = TypeVar("T")
GROUPS = 4  # the bench's group stacks
LAYOUTS = {"one": "one stack", "groups": "group stacks"}
FLAT = 1.10  # "flat": the per-host cost at 20 hosts at most 10 % over the one at 5 (noise)
GOAL_RATIO = 3.0  # 20 hosts within 3x of 1 host
NOT_MEASURED = "not measured"


def split(items: Sequence[T], groups: int = GROUPS) -> list[list[T]]:
    """`items` in order into min(groups, len) groups whose sizes differ by at most one."""
    count = min(groups, len(items))
    size, extra = divmod(len(items), count)
    out, start = [], 0
    for index in range(count):
        end = start + size + (1 if index < extra else 0)
        out.append(list(items[start:end]))
        start = end
    return out


@dataclass(frozen=True)
class StackRun:
    """One stack's part of a step."""
    stack: str
    role: str  # all | account | hosts
    hosts: int
    ok: bool
    controller_cpu: float  # CPU s of its controller process tree in this step
    state_bytes: int | None = None  # its checkpoint (state file) after the step
    resources: int | None = None  # resources in that state
    error: str = ""


@dataclass(frozen=True)
class Step:
    """One `up` of a layout: every stack, the hosts, the stand-in."""
    layout: str  # one | groups
    hosts: int
    step: str  # up | no-op
    wall: float
    load: float  # 1-minute load average at the end
    stacks: tuple[StackRun, ...]
    host_cpu: float | None  # CPU s all hosts spent in the step (None: no accounting)
    sessions: int
    writes: int | None  # Datadog writes (None: no Datadog side in this mode)

    @property
    def controller_cpu(self) -> float:
        return sum(s.controller_cpu for s in self.stacks)

    @property
    def account_cpu(self) -> float:
        return sum(s.controller_cpu for s in self.stacks if s.role == "account")

    @property
    def controller_per_host(self) -> float:
        """Controller CPU of the stacks that hold hosts, per host (the account stack's is
        apart: it does not grow with hosts; a one-stack `all` holds both)."""
        return (self.controller_cpu - self.account_cpu) / self.hosts

    @property
    def host_cpu_per_host(self) -> float | None:
        return None if self.host_cpu is None else self.host_cpu / self.hosts

    @property
    def state_bytes(self) -> int | None:
        sizes = [s.state_bytes for s in self.stacks if s.state_bytes is not None]
        return sum(sizes) if sizes else None

    @property
    def failed(self) -> list[str]:
        return [f"{s.stack}: {s.error}" for s in self.stacks if not s.ok]

    def stacks_text(self) -> str:
        groups = sum(1 for s in self.stacks if s.role != "account")
        accounts = len(self.stacks) - groups
        return f"{groups}+{accounts}" if accounts else str(groups)


def to_json(steps: Sequence[Step]) -> list[dict]:
    """The steps as JSON-ready data (the bench keeps its figures in a file)."""
    return [asdict(s) for s in steps]


def from_json(data: Sequence[dict]) -> list[Step]:
    return [Step(**{**d, "stacks": tuple(StackRun(**s) for s in d["stacks"])}) for d in data]


def _num(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def render_table(steps: Sequence[Step], state_label: str = "state KB") -> str:
    """One line a step: wall and load, controller and host-side CPU, sessions, writes,
    state size; the failed stacks' first lines after it."""
    header = ("layout", "hosts", "stacks", "step", "wall s", "load", "ctrl CPU s", "acct s",
              "ctrl s/host", "host s/host", "SSH", "writes", state_label)
    rows = [header]
    for s in steps:
        rows.append((LAYOUTS.get(s.layout, s.layout), str(s.hosts), s.stacks_text(), s.step,
                     _num(s.wall), _num(s.load), _num(s.controller_cpu), _num(s.account_cpu),
                     _num(s.controller_per_host, 2), _num(s.host_cpu_per_host, 2),
                     str(s.sessions), "-" if s.writes is None else str(s.writes),
                     "-" if s.state_bytes is None else f"{s.state_bytes / 1024:.0f}"))
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) if i < 4 else c.rjust(w) for i, (c, w) in
                       enumerate(zip(r, widths))).rstrip() for r in rows]
    for s in steps:
        lines += [f"  FAILED {s.layout} {s.hosts} {s.step}: {line}" for line in s.failed]
    return "\n".join(lines)


def find(steps: Sequence[Step], layout: str, hosts: int, step: str) -> Step | None:
    return next((s for s in steps if (s.layout, s.hosts, s.step) == (layout, hosts, step)), None)


def goal_lines(steps: Sequence[Step], cores: int) -> list[str]:
    """The three goals of issue 21 item 4, each MET, MISSED or not measured, and where the
    time of the largest one-stack `up` goes on this machine."""
    lines = []
    for layout in LAYOUTS:
        one, twenty = find(steps, layout, 1, "up"), find(steps, layout, 20, "up")
        if not (one and twenty):
            continue
        ratio = twenty.wall / one.wall
        cpu = (twenty.controller_cpu + (twenty.host_cpu or 0)) / \
            (one.controller_cpu + (one.host_cpu or 0))
        lines.append(f"goal 20 hosts within {GOAL_RATIO:.0f}x of 1 ({LAYOUTS[layout]}, up): "
                     f"wall {one.wall:.1f} s -> {twenty.wall:.1f} s = {ratio:.1f}x "
                     f"(controller + host CPU {cpu:.1f}x): "
                     f"{'MET' if ratio <= GOAL_RATIO else 'MISSED'}")
    for step in ("up", "no-op"):
        five, twenty = find(steps, "groups", 5, step), find(steps, "groups", 20, step)
        if five and twenty:
            ratio = twenty.controller_per_host / five.controller_per_host
            lines.append(f"goal controller CPU per host flat from 5 to 20 hosts (group stacks, "
                         f"{step}): {five.controller_per_host:.2f} -> "
                         f"{twenty.controller_per_host:.2f} s/host = {ratio:.2f}x: "
                         f"{'MET' if ratio <= FLAT else 'MISSED'} (flat: <= {FLAT:.2f}x)")
    noops = [s for s in steps if s.layout == "groups" and s.step == "no-op"]
    if noops:
        writes = [s.writes for s in noops if s.writes is not None]
        sessions = sum(s.sessions for s in noops)
        met = sessions == 0 and all(w == 0 for w in writes)
        lines.append(f"goal no-op up of any group: {sum(writes) if writes else '-'} Datadog writes, "
                     f"{sessions} SSH sessions over {', '.join(str(s.hosts) for s in noops)} "
                     f"hosts: {'MET' if met else 'MISSED'}"
                     + ("" if writes else " for sessions (no Datadog side here)"))
    twenty = find(steps, "one", 20, "up")
    if twenty and twenty.host_cpu is not None:
        floor = (twenty.controller_cpu + twenty.host_cpu) / cores
        lines.append(
            f"where 20 hosts' up goes (one stack): controller {twenty.controller_cpu:.1f} CPU s + "
            f"hosts {twenty.host_cpu:.1f} CPU s on {cores} cores >= {floor:.1f} s of its "
            f"{twenty.wall:.1f} s wall (load {twenty.load:.1f}); on real VMs the hosts' share "
            "runs on their own CPUs")
    return lines


# --- the model ------------------------------------------------------------------------

@dataclass(frozen=True)
class Figure:
    value: float
    source: str  # measured | fitted | assumed
    what: str

    def line(self, unit: str = "") -> str:
        return f"  {self.what}: {self.value:.4g}{unit} ({self.source})"


def fit(points: Sequence[tuple[float, float]]) -> tuple[float, float]:
    """Least-squares line y = a + b*x through (x, y) points: (a, b). One distinct x: b = 0."""
    n = len(points)
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    spread = sum((x - mean_x) ** 2 for x, _ in points)
    if spread == 0:
        return mean_y, 0.0
    slope = sum((x - mean_x) * (y - mean_y) for x, y in points) / spread
    return mean_y - slope * mean_x, slope


@dataclass(frozen=True)
class Calibration:
    """The model's inputs for one kind of `up` (from empty, or a no-op)."""
    step: str
    group_fixed: Figure  # F: a hosts stack's controller CPU beside its hosts
    group_per_host: Figure  # h in a hosts stack
    one_fixed: Figure  # F of a one-stack (`all`: Datadog objects and hosts)
    one_per_host: Figure
    account: Figure  # the account stack's controller CPU
    host_chain: Figure  # L: one host's chain of commands, wall on its own VM
    state_fixed: Figure  # bytes of a snapshot with no host
    state_per_host: Figure  # bytes a host adds to its stack's snapshot
    resources_per_host: Figure  # resource steps a host adds
    writes_per_step: Figure  # snapshot writes per resource step
    seconds_per_byte: Figure  # controller CPU per snapshot byte written

    def checkpoint_bytes(self, hosts: float) -> float:
        """Snapshot bytes written in one such `up` of a stack of `hosts`: each step writes
        the whole snapshot, which grows from its fixed part to its full size."""
        steps = self.resources_per_host.value * hosts
        mean = self.state_fixed.value + self.state_per_host.value * hosts / 2
        return self.writes_per_step.value * steps * mean

    def checkpoint_cpu(self, hosts: float) -> float:
        return self.seconds_per_byte.value * self.checkpoint_bytes(hosts)

    def figures(self) -> list[tuple[Figure, str]]:
        return [(self.group_fixed, " CPU s"), (self.group_per_host, " CPU s"),
                (self.one_fixed, " CPU s"), (self.one_per_host, " CPU s"),
                (self.account, " CPU s"), (self.host_chain, " s"),
                (self.state_fixed, " B"), (self.state_per_host, " B"),
                (self.resources_per_host, ""), (self.writes_per_step, ""),
                (self.seconds_per_byte, " CPU s/B")]


def stack_points(steps: Sequence[Step], layout: str, step: str, role: str) -> list[tuple[float, float]]:
    return [(s.hosts, s.controller_cpu) for t in steps if t.layout == layout and t.step == step
            for s in t.stacks if s.role == role and s.ok]


@dataclass(frozen=True)
class Assumed:
    """What the bench cannot measure here, with its reason (docs/fleet.md)."""
    ssh_round_trip: float = 0.2  # s an SSH session adds to a host's chain over a real network
    writes_per_step: float = 2.0  # snapshot.go: a save at BeginMutation and one at End
    seconds_per_byte: float = 2e-8  # 50 MB/s: the engine's JSON + integrity check + write
    state_per_host: float = 60_000.0  # bytes: 7 commands' inputs and outputs (fallback only)
    state_fixed: float = 40_000.0  # bytes: the Datadog objects' (fallback only)
    resources_per_host: float = 7.0  # the plan's commands a host (tools.plan)


def calibrate(steps: Sequence[Step], step: str, engine: bool, assumed: Assumed = Assumed(),
              checkpoint_probe: tuple[float, float] | None = None) -> Calibration:
    """The model's inputs from the measured steps of kind `step` ("up" or "no-op").

    `engine`: the steps ran through the real engine, so their controller CPU includes its
    checkpoint writes (taken out before fitting F and h, put back by K); the fallback's
    does not. `checkpoint_probe`: (controller CPU s of the 20-host one-stack up, the same
    with PULUMI_SKIP_CHECKPOINTS=true), which measures the writes' cost at 20 hosts.
    A no-op writes no step (unchanged `same` steps are elided): its K is 0."""
    sessions = [t.sessions / t.hosts for t in steps if t.step == step and t.hosts]
    host_cpu = [t.host_cpu_per_host for t in steps if t.step == step and t.host_cpu is not None]
    per_host_sessions = max(sessions) if sessions else 0.0
    chain = (max(host_cpu) if host_cpu else 0.0) + per_host_sessions * assumed.ssh_round_trip
    chain_figure = Figure(chain, "measured + assumed" if host_cpu else "assumed",
                          f"L, one host's chain on its VM: its CPU s + {per_host_sessions:.0f} "
                          f"SSH sessions x {assumed.ssh_round_trip} s")
    states = [(s.hosts, s.state_bytes) for t in steps if t.step == "up" and t.layout == "one"
              for s in t.stacks if s.state_bytes is not None]
    if len({h for h, _ in states}) > 1:
        fixed, per_host = fit(states)
        source = "fitted" if engine else "fitted to the remote tier's state: inputs only, no outputs"
        state_fixed = Figure(max(fixed, 0.0), source, "snapshot bytes without hosts")
        state_per_host = Figure(per_host, source, "snapshot bytes a host adds")
    else:
        state_fixed = Figure(assumed.state_fixed, "assumed", "snapshot bytes without hosts")
        state_per_host = Figure(assumed.state_per_host, "assumed", "snapshot bytes a host adds")
    counts = [(s.hosts, s.resources) for t in steps if t.step == "up" and t.layout == "one"
              for s in t.stacks if s.resources is not None]
    if len({h for h, _ in counts}) > 1:
        resources = Figure(fit(counts)[1], "fitted" if engine else "fitted to the offline plan",
                           "resource steps a host adds")
    else:
        resources = Figure(assumed.resources_per_host, "assumed", "resource steps a host adds")
    writes = Figure(assumed.writes_per_step if step == "up" else 0.0, "assumed",
                    "snapshot writes per step (engine source)")
    base = Calibration(step, *(Figure(0.0, "", "") for _ in range(5)), chain_figure,
                       state_fixed, state_per_host, resources, writes,
                       Figure(assumed.seconds_per_byte, "assumed", "CPU s per snapshot byte"))
    if checkpoint_probe and step == "up":
        spent = max(checkpoint_probe[0] - checkpoint_probe[1], 0.0)
        written = base.checkpoint_bytes(20)
        base = _replace(base, seconds_per_byte=Figure(
            spent / written if written else 0.0, "measured",
            f"CPU s per snapshot byte ({spent:.1f} s less with PULUMI_SKIP_CHECKPOINTS at 20 hosts)"))

    def line(layout: str, role: str, what: str) -> tuple[Figure, Figure]:
        points = [(n, cpu - (base.checkpoint_cpu(n) if engine else 0.0))
                  for n, cpu in stack_points(steps, layout, step, role)]
        if not points:
            return Figure(0.0, NOT_MEASURED, what), Figure(0.0, NOT_MEASURED, what)
        a, b = fit(points)
        return (Figure(max(a, 0.0), "fitted", f"F, {what}: controller CPU s beside its hosts"),
                Figure(max(b, 0.0), "fitted", f"h, {what}: controller CPU s a host"))

    group_fixed, group_per_host = line("groups", "hosts", "a group stack")
    one_fixed, one_per_host = line("one", "all", "one stack")
    accounts = [cpu for _, cpu in stack_points(steps, "groups", step, "account")]
    account = Figure(sum(accounts) / len(accounts) if accounts else 0.0,
                     "measured" if accounts else NOT_MEASURED, "the account stack's controller CPU s")
    return _replace(base, group_fixed=group_fixed, group_per_host=group_per_host,
                    one_fixed=one_fixed, one_per_host=one_per_host, account=account)


def _replace(calibration: Calibration, **changes) -> Calibration:
    from dataclasses import replace
    return replace(calibration, **changes)


@dataclass(frozen=True)
class Estimate:
    hosts: int
    layout: str
    stacks: int  # stacks holding hosts
    parallel: int  # jobs at once (1 for one stack)
    controller_cpu: float  # all stacks, CPU s
    wall: float  # s
    checkpoint_bytes: float  # written by all stacks

    @property
    def per_host(self) -> float:
        return self.controller_cpu / self.hosts


def one_stack(cal: Calibration, hosts: int) -> Estimate:
    controller = cal.one_fixed.value + cal.one_per_host.value * hosts + cal.checkpoint_cpu(hosts)
    chain = cal.host_chain.value if cal.step == "up" else 0.0
    return Estimate(hosts, "one", 1, 1, controller, controller + chain, cal.checkpoint_bytes(hosts))


def group_stacks(cal: Calibration, hosts: int, group_size: int, parallel: int) -> Estimate:
    groups = math.ceil(hosts / group_size)
    size = hosts / groups
    per_stack = cal.group_fixed.value + cal.group_per_host.value * size + cal.checkpoint_cpu(size)
    chain = cal.host_chain.value if cal.step == "up" else 0.0
    waves = math.ceil(groups / parallel)
    return Estimate(hosts, "groups", groups, parallel,
                    cal.account.value + groups * per_stack,
                    cal.account.value + waves * (per_stack + chain),
                    groups * cal.checkpoint_bytes(size))


def model(cal: Calibration, sizes: Sequence[int] = (100, 1000), group_size: int = 25,
          parallel: Sequence[int] = (1, 4, 16)) -> list[Estimate]:
    """Estimates for the layouts the run measured (a layout left out has no fitted F, h)."""
    out = []
    for hosts in sizes:
        if cal.one_fixed.source != NOT_MEASURED:
            out.append(one_stack(cal, hosts))
        if cal.group_fixed.source != NOT_MEASURED:
            out += [group_stacks(cal, hosts, group_size, p) for p in parallel]
    return out


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _bytes(count: float) -> str:
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if count >= size:
            return f"{count / size:.0f} {unit}"
    return f"{count:.0f} B"


def render_model(cal: Calibration, estimates: Sequence[Estimate], group_size: int) -> str:
    rows = [("hosts", "layout", "P", "controller CPU", "CPU s/host", "wall (est.)",
             "checkpoint bytes written")]
    for e in estimates:
        layout = "one stack" if e.layout == "one" else f"{e.stacks} groups of {group_size}"
        rows.append((str(e.hosts), layout, "-" if e.layout == "one" else str(e.parallel),
                     _duration(e.controller_cpu), f"{e.per_host:.2f}", _duration(e.wall),
                     _bytes(e.checkpoint_bytes)))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = [f"model, {cal.step} (account stack first, then ceil(groups/P) waves; "
             "controller serial per stack; hosts in parallel on their own VMs):"]
    lines += ["  " + "  ".join(c.ljust(w) if i < 2 else c.rjust(w)
                               for i, (c, w) in enumerate(zip(r, widths))).rstrip() for r in rows]
    lines.append(" inputs:")
    lines += [figure.line(unit) for figure, unit in cal.figures() if figure.source != NOT_MEASURED]
    return "\n".join(lines)
