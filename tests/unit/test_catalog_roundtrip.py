"""The round trip without an engine: each corpus object, normalised by rules/catalog.py, is
sent as the provider sends it, read back as the provider reads it, and compared as the
provider compares (rules.catalog.diff): no difference, so `pulumi up` then `pulumi preview`
(and `preview --refresh`) change nothing. The stand-in that answers is itself held to the
recorded JSON-resource exchanges (TestAccDatadogDashboardJSON*, TestAccDatadogMonitorJSON*).

The unit corpus is every monitor sample and the dashboards of the JSON cassettes and
integrations-core (a dashboard costs the stand-in's model validation ~60 ms); `make bench`
runs all of tests/catalog_corpus (`python -m tests.catalog_corpus.roundtrip`).
"""
from __future__ import annotations

import json
import os
import re

import pytest

from rules import catalog
from tests.catalog_corpus import build
from tests.catalog_corpus.roundtrip import round_trip, unit_corpus
from tests.standins.datadog_api import replay
from tests.standins.datadog_api.server import start_server
from tests.unit.test_datadog_standin import Client

pytestmark = pytest.mark.unit

if "DD_STANDIN_CASSETTE_DIR" not in os.environ and not replay.cassette_dir().is_dir():
    pytest.skip(f"no recorded exchanges at {replay.cassette_dir()}", allow_module_level=True)

CORPUS = unit_corpus(replay.cassette_dir())
JSON_CASSETTES = sorted(p for p in replay.cassette_dir().glob("TestAccDatadog*JSON*.yaml"))


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    handle = start_server(0, tmp_path_factory.mktemp("standin"))
    yield Client(handle.url)
    handle.stop()


def test_the_corpus_spans_every_shape_datadog_produces():
    shapes = {s.shape for s in CORPUS}
    assert shapes == set(build.SHAPES), f"missing shapes: {set(build.SHAPES) - shapes}"
    assert len(CORPUS) >= 30, "the issue asks for at least 30 Datadog-authored objects"


@pytest.mark.parametrize("sample", CORPUS, ids=lambda s: s.name)
def test_a_catalog_object_reads_back_with_no_diff(api, sample):
    problems = round_trip(api, sample)
    assert problems == [], f"{sample.file} ({sample.shape}, from {sample.source}) would show a " \
                           f"diff after `pulumi up`: {problems[:5]}"


def _recorded(path):
    """(kind, first create body, the recorded answer to the GET that follows it)."""
    freeze, exchanges = replay.load(path)
    kind = catalog.MONITOR if "Monitor" in path.name else catalog.DASHBOARD
    endpoint = f"/api/v1/{kind}"
    post = next(e for e in exchanges if e.method == "POST" and e.path == endpoint and e.status == 200)
    get = next(e for e in exchanges[exchanges.index(post):]
               if e.method == "GET" and e.path.startswith(endpoint + "/") and e.status == 200)
    return kind, json.loads(post.body), json.loads(get.answer)


@pytest.mark.parametrize("path", JSON_CASSETTES, ids=lambda p: p.stem)
def test_the_recorded_json_exchange_shows_no_diff_to_the_provider(path):
    """The provider's own acceptance tests expect an empty plan after these exchanges: the
    reproduced diff must agree on what Datadog really answered."""
    kind, sent, answered = _recorded(path)
    assert catalog.diff(kind, sent, answered) == [], f"{path.name}: the reproduced provider diff disagrees"


@pytest.mark.parametrize("path", JSON_CASSETTES, ids=lambda p: p.stem)
def test_the_standin_answers_a_recorded_json_body_as_datadog_did(api, path):
    """What the provider keeps in state from the stand-in's answer equals what it kept from
    Datadog's recorded answer, field by field (ids and times aside, which are computed)."""
    kind, sent, answered = _recorded(path)
    endpoint = f"/api/v1/{kind}"
    status, created, _ = api.call("POST", endpoint, catalog.sent_body(kind, sent))
    assert status == 200, created
    status, got, _ = api.call("GET", f"{endpoint}/{created['id']}{catalog.read_query(kind, sent)}")
    ours, theirs = (catalog.provider_state(kind, a, sent) for a in (got, answered))
    # tab ids are injected by the provider and stripped in state; widget ids likewise.
    assert catalog.differences(_unnamed(ours), _unnamed(theirs)) == [], path.name


def _unnamed(state: dict) -> dict:
    """The recording's test title carries its run's timestamp; ours the same text."""
    text = json.dumps(state)
    return json.loads(re.sub(r"-local-\d+", "-local-N", text))
