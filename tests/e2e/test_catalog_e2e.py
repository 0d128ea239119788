"""The catalog through the real engine against the Datadog API stand-in (issue 20, item 5):
`up` with the unit corpus as the catalog, then a preview that changes nothing, then
`preview --refresh` that changes nothing; a catalog object edited behind the stack's back
is named by `make drift`'s summary; a renamed file keeps its object after the documented
`pulumi state rename`. The real preview's cost of 100 catalog objects (item 7) is a figure
of `make bench-e2e` (tools/bench_e2e.py). Skips, in one line, where the `pulumi` CLI or the plugins are missing.

Without the engine, tests/unit/test_catalog_roundtrip.py proves the same round trip as far
as it goes: the provider's diff, reproduced, over what the stand-in answers.
"""
from __future__ import annotations

import json

import pytest

from rules import catalog
from tests.catalog_corpus.roundtrip import unit_corpus
from tests.e2e.lifecycle import Lifecycle, live, missing
from tests.remote.conftest import start_hosts
from tests.standins.datadog_api import replay
from tests.standins.ssh_hosts import HostSpec
from tools import drift

pytestmark = pytest.mark.e2e
_why = missing()
if _why:
    pytest.skip(f"e2e tier skipped: {_why}", allow_module_level=True)


def distinct_corpus() -> list:
    """The unit corpus without duplicates, by the catalog's own rule (rules/catalog.py
    _no_duplicates): one file per body and one per Datadog id. A GET answer and its UI
    export are one object; two cassettes' exports of one dashboard id (5uw-bbj-xec in
    TestAccDatadogDashboardJSONBasicTimeboard and ...JSONImport) are one object too."""
    seen, out = set(), []
    for sample in unit_corpus(replay.cassette_dir()):
        (obj,) = catalog.objects({sample.file: json.dumps(sample.raw)}, {})
        raw_id = sample.raw.get("id") if isinstance(sample.raw, dict) else None
        keys = {("body", obj.kind + obj.text)} | (
            {("id", obj.kind, str(raw_id))} if raw_id is not None else set())
        if not keys & seen:
            seen |= keys
            out.append(sample)
    return out


def write_catalog(directory, samples) -> None:
    for sample in samples:
        (directory / sample.file).parent.mkdir(parents=True, exist_ok=True)
        (directory / sample.file).write_text(json.dumps(sample.raw, indent=2))


def engine(life, *args: str) -> str:
    from tests.e2e.test_adopt_drift_e2e import engine as run

    return run(life, *args)


@pytest.fixture(scope="module")
def hosts():
    with start_hosts([HostSpec(user="root")]) as started:
        yield started


@pytest.fixture(scope="module")
def life(hosts, standin, tmp_path_factory):
    stack = Lifecycle(hosts, standin)
    directory = tmp_path_factory.mktemp("catalog")
    samples = distinct_corpus()
    write_catalog(directory, samples)
    stack.set_config({"datadog-stack:catalogDir": str(directory)})
    stack.samples, stack.catalog_dir = samples, directory
    yield stack
    stack.close()


@pytest.fixture(scope="module")
def first_up(life):
    return life.up("up with the catalog")


def test_up_creates_every_catalog_object(life, standin, first_up):
    assert first_up.ok, first_up.output
    assert len(life.samples) >= 30
    objects = live(standin.objects())
    monitors = sum(1 for s in life.samples if s.kind == "monitor")
    assert len(objects["monitors"]) == monitors + 1, "every catalog monitor and the stack's own"


def test_a_preview_after_up_changes_nothing(life, first_up):
    step = life.preview("preview after up")
    assert step.ok and set(step.changes) == {"same"}, step.changes


def test_a_refresh_preview_after_up_changes_nothing(life, first_up):
    assert drift.summarize_preview(json.loads(engine(life, "preview", "--refresh", "--json"))) == []


def test_a_catalog_monitor_edited_outside_is_named_by_the_drift_summary(life, standin, first_up):
    state = life.export()
    (monitor,) = [r for r in state["resources"] if r["urn"].endswith("::monitor-" + next(
        s.name for s in life.samples if s.kind == "monitor"))]
    standin_id = monitor["id"]
    from tests.e2e.test_adopt_drift_e2e import call

    call(standin, "PUT", f"/api/v1/monitor/{standin_id}", {"name": "renamed in the UI"})
    summary = drift.summarize_preview(json.loads(engine(life, "preview", "--refresh", "--json")))
    assert any("(datadog:index/monitorJson:MonitorJson): changed outside the stack" in line
               for line in summary), summary
    assert life.up("put it back").ok


def test_a_renamed_file_keeps_its_object_after_state_rename(life, first_up):
    sample = next(s for s in life.samples if s.kind == "dashboard")
    old = life.catalog_dir / sample.file
    new = old.with_name("renamed.json")
    old.rename(new)
    urn = next(r["urn"] for r in life.export()["resources"]
               if r["urn"].endswith(f"::dashboard-{sample.name}"))
    engine(life, "state", "rename", urn, "dashboard-renamed", "--yes")
    step = life.preview("preview after the rename")
    assert step.ok and set(step.changes) == {"same"}, step.changes

