"""The my_metric check, run through datadog_checks.base and its stub aggregator."""
from __future__ import annotations

import importlib.util

import pytest
import yaml

pytest.importorskip("datadog_checks.base", reason="the Agent tier runs in venv-agent (tests/requirements/agent.txt)")
from datadog_checks.base.stubs import aggregator as stub_aggregator

from agent_files import render
from tests.agent.helpers import API_KEY, HOST, PASSWORD, make_settings

pytestmark = pytest.mark.agent
RUNS = 500


def load_module():
    spec = importlib.util.spec_from_file_location("my_metric", render.CHECK_PY.replace(
        "/etc/datadog-agent/checks.d", str(render.Path(render.__file__).parent)))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def aggregator():
    stub_aggregator.reset()
    yield stub_aggregator
    stub_aggregator.reset()


def rendered_instance():
    files = render.render_host_files(make_settings(), HOST, API_KEY, PASSWORD)
    return yaml.safe_load(files[render.CHECK_YAML])


def make_check(module, conf=None):
    conf = conf or rendered_instance()
    return module.MyMetricCheck("my_metric", conf["init_config"], conf["instances"])


def test_every_run_submits_one_integer_gauge_between_0_and_1000(aggregator):
    check = make_check(load_module())
    for _ in range(RUNS):
        assert check.run() == "", "a run that raises reports an error string instead of ''"
    metrics = aggregator.metrics("my_metric")
    assert len(metrics) == RUNS, "each run submits exactly one my_metric point"
    for m in metrics:
        assert m.type == aggregator.GAUGE, "my_metric is a gauge"
        assert m.value == int(m.value) and 0 <= m.value <= 1000, \
            f"my_metric must be an integer in [0, 1000], got {m.value}"
    aggregator.assert_metric("my_metric", count=RUNS, metric_type=aggregator.GAUGE)
    aggregator.assert_all_metrics_covered()


def test_values_vary_between_runs(aggregator):
    check = make_check(load_module())
    for _ in range(RUNS):
        check.run()
    values = {m.value for m in aggregator.metrics("my_metric")}
    assert len(values) > 50, "my_metric is random, not a constant"


def test_the_random_draw_includes_both_bounds(aggregator, monkeypatch):
    module = load_module()
    calls = []
    monkeypatch.setattr(module.random, "randint", lambda a, b: calls.append((a, b)) or b)
    assert make_check(module).run() == ""
    assert calls == [(0, 1000)], "random.randint is inclusive: 0 and 1000 are both possible"
    aggregator.assert_metric("my_metric", value=1000, metric_type=aggregator.GAUGE)


def test_metric_carries_the_instance_tags_and_the_check_tag(aggregator):
    make_check(load_module()).run()
    expected = ["stack:dev", "check:my_metric"]
    aggregator.assert_metric("my_metric", tags=expected, count=1)
    aggregator.assert_all_metrics_covered()


def test_rendered_interval_reaches_the_check_instance():
    conf = yaml.safe_load(render.render_host_files(make_settings(check_interval=30), HOST,
                                                   API_KEY, PASSWORD)[render.CHECK_YAML])
    check = make_check(load_module(), conf)
    assert check.instance["min_collection_interval"] == 30, \
        "the collector schedules the check every min_collection_interval seconds"


def test_the_instance_is_parsed_once_not_on_every_run(aggregator):
    """integrations-core's convention: configuration is read in __init__, so a run that
    finds the instance changed under it still tags as configured."""
    conf = rendered_instance()
    check = make_check(load_module(), conf)
    conf["instances"][0]["tags"].append("late:tag")
    check.run()
    aggregator.assert_metric("my_metric", tags=["stack:dev", "check:my_metric"], count=1)
