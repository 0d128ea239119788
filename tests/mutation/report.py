"""mutmut's results -> the mutation report: kill ratio per module, every survivor, the goals.

Run after `mutmut run` from the repository root (`make mutate` does both), with mutmut
installed (venv-mutate). It reads mutmut's result files (mutants/<file>.meta, one exit code
per mutant), takes the survivors' mutations from mutmut's own diff of each mutant, subtracts
the reviewed equivalent mutants (tests/mutation/equivalent.yaml), prints the report and
writes it to build/mutation/report.md and report.json. Exit 1 when a goal is missed, 2 when
there are no results or the equivalent list is malformed.
"""
from __future__ import annotations

import argparse
import ast
import json
import os
import sys
from collections import defaultdict
from dataclasses import asdict, dataclass
from pathlib import Path

import yaml

from tests.mutation import agent_tier

ROOT = Path(__file__).resolve().parents[2]
EQUIVALENT = Path(__file__).with_name("equivalent.yaml")
OUT = ROOT / "build" / "mutation"

# The goals: the share of non-equivalent mutants killed, per module.
GOALS = {"rules/": 0.90, "settings.py": 0.90, "agent_files/": 0.80, "components/": 0.80}
# `make mutate MODULE=...` names a module as mutmut names its mutants (rules.adopt.x_...).
MODULES = {"rules": "rules/", "settings": "settings.py", "agent_files": "agent_files/",
           "components": "components/"}

# mutmut's exit codes (mutmut/stats.py, status_by_exit_code). A timeout (the tests ran past
# their CPU limit: the mutant made them loop) counts as killed, as mutmut itself shows it apart
# from survivors; "no tests" (no test reaches the function) and "suspicious" count as survived.
CLASS_SEPARATOR = "ǁ"  # mutmut's, between `x`, the class and the method in a mutant id
KILLED = {1: "killed", 3: "killed", 36: "timeout", 24: "timeout", -24: "timeout",
          152: "timeout", 255: "timeout", -9: "timeout", -11: "segfault", 37: "killed"}
SURVIVED = {0: "survived", 5: "no tests", 33: "no tests", 35: "suspicious"}
# A unit-tier survivor the agent tier's pass failed (tests/mutation/agent_tier.py).
AGENT_KILLED = "killed by the agent tier"
KILLED_STATUSES = {*KILLED.values(), AGENT_KILLED}


@dataclass(frozen=True)
class Mutant:
    name: str        # mutmut's id: rules.adopt.x_queries__mutmut_3
    file: str        # rules/adopt.py
    function: str    # queries, or Class.method
    line: int        # in the source file
    before: str      # the source line(s) the mutation changes
    after: str
    status: str      # killed, timeout, survived, no tests, suspicious, not checked

    @property
    def key(self) -> tuple[str, str, str, str]:
        return self.file, self.function, self.before, self.after


def module_of(file: str) -> str:
    return next(m for m in GOALS if file == m or file.startswith(m))


def module_of_or_none(file: str) -> str | None:
    return next((m for m in GOALS if file == m or file.startswith(m)), None)


def load_equivalents(path: Path = EQUIVALENT) -> dict[tuple[str, str, str, str], str]:
    """(file, function, before, after) -> why; each entry needs all five fields."""
    entries = yaml.safe_load(path.read_text()) or []
    found = {}
    for number, entry in enumerate(entries, 1):
        fields = ("file", "function", "before", "after", "why")
        if not isinstance(entry, dict) or any(not str(entry.get(f) or "").strip() for f in fields):
            raise ValueError(f"{path.name}: entry {number} needs {', '.join(fields)}, each non-empty")
        found[(entry["file"], entry["function"], entry["before"], entry["after"])] = entry["why"]
    return found


def _function_lines(source: str) -> dict[str, int]:
    """'function' or 'Class.method' -> its first line (decorators included)."""
    lines: dict[str, int] = {}

    def visit(body, prefix=""):
        for node in body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                first = min([node.lineno] + [d.lineno for d in node.decorator_list])
                lines.setdefault(prefix + node.name, first)
            elif isinstance(node, ast.ClassDef):
                visit(node.body, prefix + node.name + ".")

    visit(ast.parse(source).body)
    return lines


def function_of(name: str) -> str:
    """mutmut's mutant id -> the function it mutates: `rules.adopt.x_queries__mutmut_3` ->
    `queries`, `components.downtimes.xǁOffHoursDowntimesǁ__init____mutmut_1` ->
    `OffHoursDowntimes.__init__` (mutmut/utils/format_utils.py names them so)."""
    mangled = name.rpartition(".")[2].rpartition("__mutmut_")[0]
    if CLASS_SEPARATOR in mangled:
        _, cls, method = mangled.split(CLASS_SEPARATOR)
        return f"{cls}.{method}"
    return mangled.removeprefix("x_")


def describe(name: str, file: str, diff: str, function_lines: dict[str, int]) -> tuple[str, int, str, str]:
    """(function, line, before, after) of one mutant from mutmut's diff of its function."""
    qualified = function_of(name)
    body = diff.splitlines()[2:]  # past the ---/+++ header
    offset, before, after = 0, [], []
    position = 0  # line within the function, counting from its first line
    for text in body:
        if text.startswith("@@"):
            position = int(text.split()[1].split(",")[0].lstrip("-")) - 1
            continue
        if text.startswith("-"):
            offset = offset or position + 1
            before.append(text[1:].strip())
            position += 1
        elif text.startswith("+"):
            offset = offset or position + 1
            after.append(text[1:].strip())
        else:
            position += 1
    line = function_lines.get(qualified, 0) + max(offset - 1, 0)
    return qualified, line, " ".join(before), " ".join(after)


def agent_kills(root: Path = ROOT) -> set[str]:
    """The mutants the agent tier's pass killed, on the mutated files as they are now."""
    results = root / "mutants" / agent_tier.RESULTS.name
    found = json.loads(results.read_text()) if results.exists() else {}
    return {name for name, result in found.items() if result.get("status") == "killed"
            and result.get("hash") == agent_tier.mutated_file_hash(name, root / "mutants")}


def collect(root: Path = ROOT, modules=tuple(GOALS)) -> list[Mutant]:
    from mutmut.mutation.diff_apply import get_diff_for_mutant

    killed_by_agent_tier = agent_kills(root)
    mutants = []
    for meta in sorted((root / "mutants").rglob("*.py.meta")):
        file = meta.relative_to(root / "mutants").as_posix().removesuffix(".meta")
        if not any(file == m or file.startswith(m) for m in modules):
            continue
        codes = json.loads(meta.read_text())["exit_code_by_key"]
        function_lines = _function_lines((root / file).read_text())
        for name, code in sorted(codes.items()):
            status = "not checked" if code is None else KILLED.get(code) or SURVIVED.get(code, "suspicious")
            if status == "survived" and name in killed_by_agent_tier:
                status = AGENT_KILLED
            if status in SURVIVED.values():
                diff = get_diff_for_mutant(name, path=file)
                function, line, before, after = describe(name, file, diff, function_lines)
            else:
                function, line, before, after = "", 0, "", ""
            mutants.append(Mutant(name, file, function, line, before, after, status))
    return mutants


def summarise(mutants: list[Mutant], equivalents: dict) -> dict:
    per_module: dict[str, dict] = defaultdict(lambda: defaultdict(int))
    per_file: dict[str, dict] = defaultdict(lambda: defaultdict(int))
    survivors, equivalent, used = [], [], set()
    for m in mutants:
        for bucket in (per_module[module_of(m.file)], per_file[m.file]):
            bucket["mutants"] += 1
        if m.status in KILLED_STATUSES:
            kind = "killed"
        elif m.key in equivalents:
            kind = "equivalent"
            used.add(m.key)
            equivalent.append(m)
        elif m.status == "not checked":
            kind = "not checked"
        else:
            kind = "survived"
            survivors.append(m)
        for bucket in (per_module[module_of(m.file)], per_file[m.file]):
            bucket[kind] += 1
    rows = {}
    for name, counts in [*per_module.items(), *per_file.items()]:
        judged = counts["mutants"] - counts["equivalent"]
        ratio = counts["killed"] / judged if judged else 1.0
        checked = judged - counts["not checked"]
        rows[name] = {**{k: counts[k] for k in ("mutants", "killed", "survived", "equivalent", "not checked")},
                      "ratio": ratio, "checked_ratio": counts["killed"] / checked if checked else 1.0}
    missed = {m: rows[m]["ratio"] for m, goal in GOALS.items() if m in rows and rows[m]["ratio"] < goal}
    # An entry is judged stale against a module this run measured (`--module`), or when its
    # file is in no module any more (the code moved).
    stale = sorted(k for k in set(equivalents) - used
                   if module_of_or_none(k[0]) in (None, *per_module))
    return {"modules": {m: rows[m] for m in GOALS if m in rows},
            "files": {f: rows[f] for f in sorted(per_file)},
            "survivors": [asdict(m) for m in sorted(survivors, key=lambda m: (m.file, m.line))],
            "equivalent": [asdict(m) | {"why": equivalents[m.key]} for m in equivalent],
            "stale_equivalents": [dict(zip(("file", "function", "before", "after"), k)) for k in stale],
            "missed_goals": missed,
            "killed_by_agent_tier": sum(m.status == AGENT_KILLED for m in mutants)}


def render(summary: dict) -> str:
    out = ["# Mutation report", "",
           "Not checked (a run cut short) counts against the goal; the last column leaves it out.", "",
           "| module | goal | mutants | killed | survived | equivalent | not checked "
           "| killed of non-equivalent | of those checked |",
           "|---|---|---|---|---|---|---|---|---|"]
    files = [(f, row) for f, row in summary["files"].items() if f not in summary["modules"]]
    for name, row in [*summary["modules"].items(), *files]:
        goal = f"{GOALS[name]:.0%}" if name in GOALS else ""
        out.append(f"| {name} | {goal} | {row['mutants']} | {row['killed']} | {row['survived']} | "
                   f"{row['equivalent']} | {row['not checked']} | {row['ratio']:.1%} | {row['checked_ratio']:.1%} |")
    if summary.get("killed_by_agent_tier"):
        out += ["", f"The agent tier's pass killed {summary['killed_by_agent_tier']} of the unit "
                "tier's survivors (tests/mutation/agent_tier.py); they count as killed."]
    out += ["", f"## Survivors ({len(summary['survivors'])})", ""]
    out += [f"- {s['file']}:{s['line']} in {s['function']} ({s['status']}, {s['name']}): "
            f"`{s['before']}` -> `{s['after']}`" for s in summary["survivors"]] or ["none"]
    if summary["stale_equivalents"]:
        out += ["", "## Listed as equivalent but no longer a survivor (remove from equivalent.yaml)", ""]
        out += [f"- {e['file']} {e['function']}: `{e['before']}` -> `{e['after']}`"
                for e in summary["stale_equivalents"]]
    out += [""]
    for name, ratio in summary["missed_goals"].items():
        out.append(f"GOAL MISSED: {name} killed {ratio:.1%} of its non-equivalent mutants, "
                   f"the goal is {GOALS[name]:.0%}")
    if not summary["missed_goals"]:
        out.append("Every module meets its goal.")
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    os.chdir(ROOT)  # mutmut reads mutants/ and setup.cfg relative to the working directory
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT, help="where report.md and report.json go")
    parser.add_argument("--module", choices=sorted(MODULES), help="report this module only")
    args = parser.parse_args(argv)
    try:
        equivalents = load_equivalents()
    except (ValueError, yaml.YAMLError) as error:
        print(f"tests/mutation/equivalent.yaml: {error}", file=sys.stderr)
        return 2
    mutants = collect(modules=(MODULES[args.module],) if args.module else tuple(GOALS))
    if not mutants:
        print("no mutmut results under mutants/: run `make mutate`", file=sys.stderr)
        return 2
    summary = summarise(mutants, equivalents)
    text = render(summary)
    args.out.mkdir(parents=True, exist_ok=True)
    stem = f"report-{args.module}" if args.module else "report"
    (args.out / f"{stem}.md").write_text(text)
    (args.out / f"{stem}.json").write_text(json.dumps(summary, indent=1) + "\n")
    print(text, end="")
    return 1 if summary["missed_goals"] else 0


if __name__ == "__main__":
    sys.exit(main())
