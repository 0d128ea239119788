"""`make mutate`'s report (tests/mutation/report.py): goals per module, equivalents subtracted.

mutmut's results are plain data (an exit code per mutant, a diff per mutated function); the
report's arithmetic and its reading of a diff are tested here on such data.
"""
from __future__ import annotations

import json

import pytest

from tests.mutation import agent_tier, report
from tests.mutation.report import Mutant, describe, load_equivalents, summarise


def mutant(file: str, status: str, n: int = 0, before: str = "a < b", after: str = "a <= b") -> Mutant:
    return Mutant(f"{file}:{n}", file, "f", 10 + n, before, after, status)


def many(file: str, killed: int, survived: int) -> list[Mutant]:
    return ([mutant(file, "killed", n) for n in range(killed)]
            + [mutant(file, "survived", killed + n, after=f"a <= b + {n}") for n in range(survived)])


@pytest.mark.parametrize("module, file, killed, survived, meets", [
    ("rules/", "rules/adopt.py", 9, 1, True),            # 90%: the goal exactly
    ("rules/", "rules/adopt.py", 89, 11, False),         # 89%
    ("settings.py", "settings.py", 9, 1, True),
    ("settings.py", "settings.py", 17, 3, False),        # 85% is not enough for the pure core
    ("components/", "components/downtimes.py", 8, 2, True),  # 80%
    ("agent_files/", "agent_files/render.py", 79, 21, False),
])
def test_each_module_is_held_to_its_own_goal(module, file, killed, survived, meets):
    summary = summarise(many(file, killed, survived), {})
    assert (module not in summary["missed_goals"]) is meets, \
        f"{module} must kill at least {report.GOALS[module]:.0%} of its non-equivalent mutants"


def test_a_reviewed_equivalent_mutant_is_left_out_of_the_ratio():
    mutants = many("rules/drift.py", 8, 2)
    equivalent = mutants[-1]
    summary = summarise(mutants, {equivalent.key: "no behaviour tells them apart"})
    row = summary["modules"]["rules/"]
    assert (row["killed"], row["survived"], row["equivalent"]) == (8, 1, 1)
    assert row["ratio"] == pytest.approx(8 / 9), "equivalents are subtracted before the ratio"
    assert [s["name"] for s in summary["survivors"]] == [mutants[-2].name], \
        "an equivalent mutant is not listed as a survivor"


def test_timeouts_count_as_killed_and_unreached_mutants_as_survivors():
    mutants = [mutant("rules/monitor.py", "timeout", 0), mutant("rules/monitor.py", "no tests", 1)]
    row = summarise(mutants, {})["modules"]["rules/"]
    assert (row["killed"], row["survived"]) == (1, 1), \
        "a mutant that makes the tests loop was detected; one that no test reaches was not"


def test_an_equivalent_entry_no_survivor_matches_is_reported_stale():
    stale = ("rules/adopt.py", "queries", "x = 1", "x = 2")
    summary = summarise(many("rules/adopt.py", 1, 0), {stale: "it was equivalent once"})
    assert summary["stale_equivalents"] == [
        {"file": "rules/adopt.py", "function": "queries", "before": "x = 1", "after": "x = 2"}], \
        "a listed equivalent that no longer survives must be removed from the reviewed list"


@pytest.mark.parametrize("entry_file, stale", [
    ("components/ssh.py", False),   # a module this run did not measure: it cannot tell
    ("rules/drift.py", True),       # the module measured: no survivor matches any more
    ("parser_gone.py", True),       # a file no module mutates any more: the code moved
])
def test_an_equivalent_entry_is_judged_stale_only_against_what_the_run_measured(entry_file, stale):
    entry = (entry_file, "f", "x = 1", "x = 2")
    summary = summarise(many("rules/adopt.py", 1, 0), {entry: "equivalent once"})
    assert bool(summary["stale_equivalents"]) is stale, \
        "`make mutate MODULE=...` lists as stale only entries the run could have matched"


def test_every_survivor_is_printed_with_file_line_and_mutation():
    survivor = Mutant("rules.drift.x_compare__mutmut_7", "rules/drift.py", "compare", 98,
                      "if have.mode != want.mode:", "if have.mode == want.mode:", "survived")
    text = report.render(summarise([survivor], {}))
    assert "rules/drift.py:98 in compare" in text
    assert "`if have.mode != want.mode:` -> `if have.mode == want.mode:`" in text
    assert "GOAL MISSED: rules/" in text


def test_a_mutation_is_located_on_its_source_line():
    diff = "\n".join([
        "--- rules/drift.py", "+++ rules/drift.py", "@@ -1,4 +1,4 @@",
        " def compare(expected, seen, agent):",
        "     findings = []",
        "-    if agent != 'active':",
        "+    if agent == 'active':",
        "     return findings",
    ])
    function, line, before, after = describe("rules.drift.x_compare__mutmut_3", "rules/drift.py", diff,
                                             {"compare": 95})
    assert (function, line) == ("compare", 97), "the changed line: the function's first line + 2"
    assert (before, after) == ("if agent != 'active':", "if agent == 'active':")


def test_a_method_is_named_with_its_class():
    diff = "--- f\n+++ f\n@@ -1,2 +1,2 @@\n def __init__(self):\n-    self.a = 1\n+    self.a = 2"
    function, line, _, _ = describe("components.downtimes.xǁOffHoursDowntimesǁ__init____mutmut_1",
                                    "components/downtimes.py", diff, {"OffHoursDowntimes.__init__": 40})
    assert (function, line) == ("OffHoursDowntimes.__init__", 41)


@pytest.mark.parametrize("entry", [
    {"file": "rules/adopt.py", "function": "queries", "before": "a", "after": "b"},  # no why
    {"file": "rules/adopt.py", "function": "queries", "before": "a", "after": "b", "why": " "},
    "rules/adopt.py:12",
])
def test_an_equivalent_entry_without_its_reason_is_refused(tmp_path, entry):
    import yaml

    path = tmp_path / "equivalent.yaml"
    path.write_text(yaml.safe_dump([entry]))
    with pytest.raises(ValueError, match="entry 1 needs file, function, before, after, why"):
        load_equivalents(path)


def test_the_reviewed_list_reads():
    assert isinstance(load_equivalents(), dict), "tests/mutation/equivalent.yaml must stay valid"


def _mutated_tree(tmp_path, codes: dict[str, int | None]) -> None:
    """A mutants/ as mutmut leaves it: the mutated copy of agent_files/render.py and its
    .meta (an exit code per mutant)."""
    (tmp_path / "mutants" / "agent_files").mkdir(parents=True)
    (tmp_path / "mutants" / "agent_files" / "render.py").write_text("# the mutated copy\n")
    (tmp_path / "mutants" / "agent_files" / "render.py.meta").write_text(
        json.dumps({"exit_code_by_key": codes}))


def test_a_unit_tier_survivor_the_agent_tier_kills_counts_as_killed(tmp_path):
    name = "agent_files.render.x_database_user_sql__mutmut_3"
    _mutated_tree(tmp_path, {name: 0})
    current = agent_tier.mutated_file_hash(name, tmp_path / "mutants")
    (tmp_path / "mutants" / "agent-tier.json").write_text(
        json.dumps({name: {"status": "killed", "hash": current}}))
    assert report.agent_kills(tmp_path) == {name}
    summary = summarise([mutant("agent_files/render.py", report.AGENT_KILLED)], {})
    assert summary["modules"]["agent_files/"]["killed"] == 1 and summary["killed_by_agent_tier"] == 1, \
        "SQL only a real database can judge is judged by the agent tier, and its kill counts"


@pytest.mark.parametrize("result", [
    {"status": "survived", "hash": None},  # the agent tier let it through too
    {"status": "killed", "hash": "0" * 16},  # judged on a mutated file that has changed since
])
def test_an_agent_tier_result_counts_only_as_a_kill_of_the_code_as_it_is(tmp_path, result):
    name = "agent_files.render.x_bundle_members__mutmut_7"
    _mutated_tree(tmp_path, {name: 0})
    current = agent_tier.mutated_file_hash(name, tmp_path / "mutants")
    result = {**result, "hash": result["hash"] or current}
    (tmp_path / "mutants" / "agent-tier.json").write_text(json.dumps({name: result}))
    assert report.agent_kills(tmp_path) == set(), \
        "a survivor stays a survivor unless the agent tier failed on this very mutant"


def test_the_agent_pass_takes_the_unit_tiers_survivors_of_the_modules_it_covers(tmp_path):
    _mutated_tree(tmp_path, {"agent_files.render.x_a__mutmut_1": 0, "agent_files.render.x_a__mutmut_2": 1,
                             "agent_files.render.x_a__mutmut_3": None})
    (tmp_path / "mutants" / "agent_files" / "wheels.py.meta").write_text(
        json.dumps({"exit_code_by_key": {"agent_files.wheels.x_b__mutmut_1": 0}}))
    assert agent_tier.survivors(tmp_path / "mutants") == ["agent_files.render.x_a__mutmut_1"], \
        "only what the unit tier let through, in what the agent tier covers"


@pytest.mark.parametrize("name, first", [
    ("agent_files.render.x_database_backup_sql__mutmut_4", "tests/agent/test_database_sql.py"),
    ("agent_files.db_auth.x_saslprep__mutmut_2", "tests/agent/test_database_sql.py"),
    ("agent_files.render.x_database_config__mutmut_1", "tests/agent/test_custom_queries.py"),
    ("agent_files.render.x_bundle_members__mutmut_9", "tests/agent/test_install_sh.py"),
])
def test_the_agent_pass_runs_the_whole_tier_starting_where_the_function_is_used(name, first):
    files = agent_tier.tests_for(name)
    assert files[0] == first and sorted(files) == sorted(
        agent_tier.SQL_TESTS + agent_tier.QUERY_TESTS + agent_tier.INSTALL_TESTS), \
        "every agent-tier test can kill a mutant; the likeliest run first"


@pytest.mark.parametrize("code, fate", [(0, "survived"), (1, "killed"), (2, "error 2"), (5, "error 5")])
def test_the_agent_pass_reads_pytests_exit_code(code, fate):
    assert agent_tier.outcome(code) == fate, \
        "only a failing test kills; an interrupted or empty run is no verdict"
