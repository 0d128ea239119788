"""Draw the docs' pictures from the same pure functions the stack uses.

    python -m tools.pictures             # (re)write docs/*.svg (make pictures)
    python -m tools.pictures --check     # exit 1 when a committed picture is stale
    python -m tools.pictures --png DIR   # also write PNGs to DIR, to look at them

The dev stack's settings (Pulumi.dev.yaml through settings.load) feed:

* the downtimes' week: `rules.downtimes.off_hours_schedules` gives the recurrences the
  stack sends; each is laid on the calendar in the stack's timezone, with its duration read
  both ways Datadog might (elapsed and wall-clock time), against office hours. One ordinary
  week and the week of a clock change (America/New_York, the dev stack's zone, in March);
* the monitor's states: `rules.monitor_states` on the seeded week of check values the unit
  tests and `make bench` use, with and without the recovery thresholds (the first day
  drawn, the week counted).

The SVG bytes depend only on the settings, matplotlib's pinned version and its bundled
DejaVu Sans: no date, a fixed hash salt, text kept as text.
"""
from __future__ import annotations

import argparse
import io
import sys
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Callable, Iterable
from zoneinfo import ZoneInfo

import matplotlib
from matplotlib.figure import Figure
from matplotlib.patches import Patch

import settings
from domain import OfficeHours, Settings
from rules import downtimes as dt
from rules import monitor_states as ms

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
COMMAND = "make pictures"
UTC = timezone.utc
# The week of 2027-01-04, the unit tier's clock; and the week New York springs forward.
ORDINARY_WEEK = date(2027, 1, 4)
CLOCK_CHANGE_WEEK = date(2027, 3, 8)
SEED, WEEK_SECONDS = 0, 7 * 86400  # the seeded week of tests/unit/test_monitor_states.py
STYLE = {
    "svg.hashsalt": "datadog-stack",
    "svg.fonttype": "none",
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "path.simplify": True,
}
COLOURS = {"office": "#4c9be8", "muted": "#9c9c9c", "either": "#d9d9d9",
           ms.OK: "#59a14f", ms.WARN: "#f1a340", ms.ALERT: "#d7301f"}
DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun", "Mon")


def dev_settings() -> Settings:
    from tools.plan import StackConfig

    return settings.load(StackConfig.from_file(ROOT / "Pulumi.dev.yaml"), "dev")


# --- the downtimes' week ---------------------------------------------------------------

def _hours_since(monday: date, instant: datetime, tz: ZoneInfo) -> float:
    """Wall-clock hours from Monday 00:00 local to `instant`: the x of the calendar."""
    local = instant.astimezone(tz).replace(tzinfo=None)
    return (local - datetime.combine(monday, time())).total_seconds() / 3600


def occurrences(recurrence: dt.Recurrence, zone: str, monday: date):
    """(start, end if elapsed, end if wall-clock) in hours since Monday, of every
    occurrence touching the week (those of the days before included)."""
    tz = ZoneInfo(zone)
    for offset in range(-3, 7):
        day = monday + timedelta(days=offset)
        if dt.WEEKDAY_CODES[day.weekday()] not in recurrence.days:
            continue
        local = datetime.combine(day, time()) + timedelta(minutes=recurrence.start_minutes)
        begin = local.replace(tzinfo=tz)
        length = timedelta(minutes=recurrence.duration_minutes)
        yield (_hours_since(monday, begin, tz),
               _hours_since(monday, begin.astimezone(UTC) + length, tz),
               _hours_since(monday, (local + length).replace(tzinfo=tz), tz))


def office_hours(hours: OfficeHours) -> list[tuple[float, float]]:
    return [(day * 24 + hours.start_minutes / 60, (hours.end_minutes - hours.start_minutes) / 60)
            for day in range(5)]


def clock_change_in(zone: str, monday: date) -> tuple[float, str] | None:
    """(x, label) of the week's clock change, to mark it; None in a week without one."""
    tz = ZoneInfo(zone)
    for before, _ in dt.clock_changes(zone):
        if monday <= before.date() < monday + timedelta(days=7):
            instant = before.astimezone(UTC).replace(microsecond=0) - timedelta(minutes=2)
            old = instant.astimezone(tz).utcoffset()
            while instant.astimezone(tz).utcoffset() == old:
                instant += timedelta(seconds=1)
            new = instant.astimezone(tz).utcoffset()
            wall_old, wall_new = (instant + old).replace(tzinfo=None), (instant + new).replace(tzinfo=None)
            x = (wall_old - datetime.combine(monday, time())).total_seconds() / 3600
            return x, f"{wall_old:%a %H:%M}: clocks {'forward' if new > old else 'back'} to {wall_new:%H:%M}"
    return None


def _merged(spans: Iterable[tuple[float, float]]) -> list[tuple[float, float]]:
    out: list[list[float]] = []
    for start, end in sorted(spans):
        if out and start <= out[-1][1]:
            out[-1][1] = max(out[-1][1], end)
        else:
            out.append([start, end])
    return [(start, end - start) for start, end in out]


def downtime_week(config: Settings, zone: str, monday: date) -> Figure:
    hours = config.office_hours
    rows: list[tuple[str, list[tuple[float, float, float]]]] = []
    for schedule in dt.off_hours_schedules(hours):
        for recurrence in schedule.recurrences:
            name = f"{schedule.key}: {','.join(recurrence.days)} {dt.label(recurrence.start_minutes)} + {recurrence.duration}"
            rows.append((name, list(occurrences(recurrence, zone, monday))))
    fig = Figure(figsize=(10, 3.6))
    ax = fig.add_subplot()
    labels = []
    for y, (name, spans) in enumerate(rows):
        certain = [(s, min(e, w) - s) for s, e, w in spans]
        either = [(min(e, w), abs(e - w)) for s, e, w in spans if e != w]
        ax.broken_barh(certain, (y - 0.35, 0.7), facecolors=COLOURS["muted"])
        ax.broken_barh(either, (y - 0.35, 0.7), facecolors=COLOURS["either"], hatch="///",
                       edgecolor=COLOURS["muted"], linewidth=0)
        labels.append(name)
    muted = _merged((s, min(e, w)) for _, spans in rows for s, e, w in spans)
    y_muted, y_office = len(rows), len(rows) + 1
    ax.broken_barh(muted, (y_muted - 0.35, 0.7), facecolors="#555555")
    ax.broken_barh(office_hours(hours), (y_office - 0.35, 0.7), facecolors=COLOURS["office"])
    labels += ["muted (either reading)", f"office hours {dt.label(hours.start_minutes)}-"
               f"{dt.label(hours.end_minutes)}"]
    change = clock_change_in(zone, monday)
    if change:
        ax.axvline(change[0], color="#d7301f", linewidth=1)
        ax.annotate(change[1], (change[0], -0.6), xytext=(0, 3), textcoords="offset points",
                    color="#d7301f", ha="center", va="bottom", fontsize=8, annotation_clip=False)
    ax.set_yticks(range(len(labels)), labels)
    ax.set_ylim(-0.6, y_office + 0.6)
    ax.invert_yaxis()
    ax.set_xlim(0, 7 * 24)
    ax.set_xticks(range(0, 7 * 24 + 1, 24), [f"{d} {monday + timedelta(days=i):%d %b}"
                                              for i, d in enumerate(DAYS)])
    ax.set_xticks(range(0, 7 * 24, 6), minor=True)
    ax.grid(axis="x", which="both", color="#e0e0e0", linewidth=0.5)
    ax.set_axisbelow(True)
    ax.legend(handles=[Patch(facecolor=COLOURS["either"], hatch="///", edgecolor=COLOURS["muted"],
                             label="muted under one reading of the duration only")],
              loc="lower left", fontsize=8, frameon=False, bbox_to_anchor=(0, 1.0),
              borderaxespad=0.1)
    fig.suptitle(f"Off-hours downtimes, week of {monday:%Y-%m-%d}, {zone} wall-clock time",
                 x=0.01, ha="left", fontsize=10)
    fig.tight_layout()
    return fig


# --- the monitor's week ----------------------------------------------------------------

def _runs(history: list[str], first: int) -> dict[str, list[tuple[float, float]]]:
    """Per state, (start, length) in hours of each run of equal states, evaluation
    `first` being hour 0."""
    runs: dict[str, list[tuple[float, float]]] = {ms.OK: [], ms.WARN: [], ms.ALERT: []}
    start = 0
    hours = ms.EVALUATION_EVERY / 3600
    for i in range(1, len(history) + 1):
        if i == len(history) or history[i] != history[start]:
            runs[history[start]].append(((first + start) * hours, (i - start) * hours))
            start = i
    return runs


def monitor_states(config: Settings) -> Figure:
    """The first day of the seeded week: the average against the thresholds, and the
    states with and without recovery thresholds; the titles count the whole week."""
    t = config.thresholds
    averages = list(ms.window_averages(ms.check_values(SEED, config.agent.check_interval, WEEK_SECONDS)))
    # evaluation i happens at WINDOW + i minutes: day 1 is the evaluations from 00:00 to 24:00
    first = ms.WINDOW // ms.EVALUATION_EVERY
    per_day = 86400 // ms.EVALUATION_EVERY
    day = slice(0, per_day - first)
    hours = [(first + i) * ms.EVALUATION_EVERY / 3600 for i in range(day.stop)]
    cases = (("without recovery thresholds", ms.without_recovery(t)),
             (f"with recovery thresholds {t.warning_recovery:g} / {t.critical_recovery:g}", t))
    fig = Figure(figsize=(10, 4.6))
    grid = fig.add_gridspec(3, 1, height_ratios=(3, 1, 1), hspace=0.55)
    top = fig.add_subplot(grid[0])
    top.plot(hours, averages[day], color="#7f7f7f", linewidth=0.5)
    for value, name, style in ((t.critical, "critical", "-"), (t.warning, "warning", "-"),
                               (t.critical_recovery, "critical recovery", "--"),
                               (t.warning_recovery, "warning recovery", "--")):
        colour = COLOURS[ms.ALERT] if name.startswith("critical") else COLOURS[ms.WARN]
        top.axhline(value, color=colour, linestyle=style, linewidth=1)
        top.annotate(f"{name} {value:g}", (24, value), xytext=(3, 0), textcoords="offset points",
                     va="center", fontsize=8, color=colour, annotation_clip=False)
    top.set_ylim(0, 1000)
    top.set_ylabel("5-minute average")
    top.set_title(f"my_metric's 5-minute average, first day of a simulated week (the check "
                  f"every {config.agent.check_interval} s, evaluated each minute)", loc="left", fontsize=10)
    for row, (name, thresholds) in enumerate(cases, start=1):
        history = ms.states(averages, thresholds)
        ax = fig.add_subplot(grid[row], sharex=top)
        for state, spans in _runs(history[day], first).items():
            ax.broken_barh(spans, (0, 1), facecolors=COLOURS[state], linewidth=0)
        ax.set_yticks([])
        ax.set_title(f"monitor {name}: {ms.changes(history[day])} state changes this day, "
                     f"{ms.changes(history) / 7:.0f} a day over the week", loc="left",
                     fontsize=9, pad=3)
    for ax in fig.axes[:-1]:
        ax.tick_params(labelbottom=False)
    last = fig.axes[-1]
    last.set_xlim(0, 24)
    last.set_xticks(range(0, 25, 3), [f"{h:02d}:00" for h in range(0, 25, 3)])
    last.legend(handles=[Patch(facecolor=COLOURS[s], label=s) for s in (ms.OK, ms.WARN, ms.ALERT)],
                loc="upper right", bbox_to_anchor=(1, -0.5), ncol=3, fontsize=8, frameon=False)
    fig.subplots_adjust(left=0.08, right=0.87, top=0.93, bottom=0.14)
    return fig


# --- files -----------------------------------------------------------------------------

def figures(config: Settings | None = None) -> dict[str, Callable[[], Figure]]:
    config = config or dev_settings()
    return {
        "downtimes-week.svg": lambda: downtime_week(config, config.timezone, ORDINARY_WEEK),
        "downtimes-clock-change.svg": lambda: downtime_week(config, "America/New_York",
                                                            CLOCK_CHANGE_WEEK),
        "monitor-states.svg": lambda: monitor_states(config),
    }


def render(figure: Figure, fmt: str = "svg") -> bytes:
    buffer = io.BytesIO()
    with matplotlib.rc_context(STYLE):
        figure.savefig(buffer, format=fmt, metadata={"Date": None} if fmt == "svg" else None,
                       dpi=110)
    return buffer.getvalue()


def pictures(config: Settings | None = None) -> dict[str, bytes]:
    """File name under docs/ -> SVG bytes."""
    out = {}
    for name, draw in figures(config).items():
        with matplotlib.rc_context(STYLE):
            out[name] = render(draw())
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if a committed picture is stale")
    parser.add_argument("--png", type=Path, help="also write PNGs here, to look at them")
    args = parser.parse_args(argv)
    fresh = pictures()
    if args.check:
        stale = [name for name, data in fresh.items()
                 if not (DOCS / name).exists() or (DOCS / name).read_bytes() != data]
        for name in stale:
            print(f"docs/{name} is stale: run `{COMMAND}`", file=sys.stderr)
        return 1 if stale else 0
    DOCS.mkdir(exist_ok=True)
    for name, data in fresh.items():
        (DOCS / name).write_bytes(data)
        print(f"wrote docs/{name}")
    if args.png:
        args.png.mkdir(parents=True, exist_ok=True)
        config = dev_settings()
        for name, draw in figures(config).items():
            with matplotlib.rc_context(STYLE):
                (args.png / name.replace(".svg", ".png")).write_bytes(render(draw(), "png"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
