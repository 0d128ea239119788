"""The Datadog API stand-in against Datadog's recorded exchanges (../shared/datadog-cassettes).

Every exchange on the endpoints of our kinds is replayed at its cassette's .freeze time with
ids mapped; each must get the recorded status and every recorded field with its JSON type.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.standins.datadog_api import replay

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]


def test_every_recorded_exchange_agrees():
    # Our CI sets DD_STANDIN_CASSETTE_DIR (.ci/run), so there a missing copy fails; a
    # checkout without ../shared (a GitHub runner) has no recordings to replay.
    if "DD_STANDIN_CASSETTE_DIR" not in os.environ and not replay.cassette_dir().is_dir():
        pytest.skip(f"no recorded exchanges at {replay.cassette_dir()} (set DD_STANDIN_CASSETTE_DIR)")
    results = replay.replay_all()
    print(replay.summary(results))
    assert len(results) > 1000, f"only {len(results)} exchanges found in {replay.cassette_dir()}"
    wrong = [f"{r.cassette}: {r.exchange.method} {r.exchange.url}: {'; '.join(r.problems[:3])}"
             for r in results if not r.agrees]
    assert not wrong, "\n".join(wrong[:30])


def test_cassettes_read_from_shared_next_to_the_repository(monkeypatch):
    monkeypatch.delenv("DD_STANDIN_CASSETTE_DIR", raising=False)
    assert replay.cassette_dir() == REPO.parent / "shared" / "datadog-cassettes"


def test_cassette_dir_overridden_by_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("DD_STANDIN_CASSETTE_DIR", str(tmp_path))
    assert replay.cassette_dir() == tmp_path


def test_missing_cassette_dir_names_the_variable(tmp_path):
    with pytest.raises(FileNotFoundError, match="DD_STANDIN_CASSETTE_DIR"):
        replay.replay_all(tmp_path / "absent")


def test_missing_field_disagrees():
    assert replay.compare({"draft_status": "published"}, {}, replay.Ids()) == ["$.draft_status: missing"]


def test_wrong_json_type_disagrees():
    assert replay.compare({"a": {"b": 1.0}}, {"a": {"b": "1"}}, replay.Ids()) == [
        "$.a.b: expected number, got string"]


def test_clock_decided_value_must_match():
    assert replay.compare({"status": "active"}, {"status": "scheduled"}, replay.Ids()) == [
        "$.status: expected 'active', got 'scheduled'"]


def test_null_for_a_recorded_value_disagrees_outside_state_fields():
    assert replay.compare({"restricted_roles": ["r"]}, {"restricted_roles": None}, replay.Ids())
    assert replay.compare({"query": "q"}, {"query": None}, replay.Ids())


def test_null_accepted_for_state_dependent_fields():
    assert replay.compare({"overall_state_modified": "2026-01-01T00:00:00+00:00"},
                          {"overall_state_modified": None}, replay.Ids()) == []


def test_list_items_pair_by_mapped_id():
    ids = replay.Ids()
    ids.learn({"id": 5}, {"id": 100})
    recorded = [{"id": 1, "x": 1}, {"id": 5, "x": "s"}]  # 1: an object of the recording org
    assert replay.compare(recorded, [{"id": 100, "x": "s"}], ids) == []
    assert replay.compare(recorded, [{"id": 100, "x": 2}], ids) == ["$[id=5].x: expected string, got number"]
    assert replay.compare(recorded, [{"id": 7, "x": "s"}], ids) == ["$: no element with id 100"]


def test_recorded_ids_replaced_by_the_standins_in_paths_and_bodies():
    ids = replay.Ids()
    ids.learn({"id": 243548376}, {"id": 100000001})
    assert ids.apply('/api/v1/monitor/243548376?x=1 {"monitor_id":243548376,"n":2435483760}') == \
        '/api/v1/monitor/100000001?x=1 {"monitor_id":100000001,"n":2435483760}'
