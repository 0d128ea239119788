"""`python -m tools.graph_snapshot` (make graph-snapshot) against the Datadog API stand-in: the timeboard's my_metric graph
is snapshotted over the window and posted to the notify handle with @-notation."""
from __future__ import annotations

import datetime as dt
import json
import re
import urllib.error
import urllib.parse
import urllib.request

import pytest

from tests.standins.datadog_api import start_server
from tools import graph_snapshot

pytestmark = pytest.mark.unit

NOW = dt.datetime(2027, 3, 1, 14, 0, tzinfo=dt.timezone.utc)
KEYS = {"DD_API_KEY": "api-key-for-test", "DD_APP_KEY": "app-key-for-test"}


def timeboard_body() -> dict:
    """The dev stack's timeboard as the provider sends it (components/timeboard.py)."""
    return {"title": "my_metric and postgres (dev)", "layout_type": "ordered",
            "template_variables": [{"name": "host", "prefix": "host", "defaults": ["vm1"]}],
            "widgets": [{"definition": {"type": "timeseries", "title": title,
                                        "requests": [{"q": query, "display_type": "line"}]}}
                        for title, query in [("my_metric on the host", "avg:my_metric{$host}"),
                                             ("rows", "anomalies(avg:postgresql.rows_fetched{$host}, 'basic', 2)")]]}


@pytest.fixture
def standin(tmp_path):
    h = start_server(0, tmp_path / "state")
    h.set_clock(NOW)
    yield h
    h.stop()


@pytest.fixture
def dashboard_id(standin):
    return _create(standin, timeboard_body())


def _create(standin, body):
    req = urllib.request.Request(standin.url + "/api/v1/dashboard", data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json", "DD-API-KEY": "k",
                                          "DD-APPLICATION-KEY": "a"})
    with urllib.request.urlopen(req) as r:
        return json.loads(r.read())["id"]


def run(standin, dashboard, environ=KEYS, *extra):
    args = graph_snapshot.parse_args(["--dashboard", dashboard, "--api-url", standin.url, *extra])
    return graph_snapshot.run(args, environ, NOW)


def main(standin, dashboard, capsys, environ, monkeypatch, *extra):
    for name in ("DD_API_KEY", "DD_APP_KEY", "DATADOG_API_KEY", "DATADOG_APP_KEY"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    code = graph_snapshot.main(["--dashboard", dashboard, "--api-url", standin.url, *extra])
    return code, capsys.readouterr()


def snapshot_query(standin) -> dict:
    [entry] = [e for e in standin.requests() if e["path"] == "/api/v1/graph/snapshot"]
    return {k: v[0] for k, v in entry["query"].items()}


def test_event_text_starts_with_the_notify_handle(standin, dashboard_id):
    run(standin, dashboard_id)
    [event] = standin.objects()["events"].values()
    assert event["text"].startswith("%%% \n@ops@example.com ")


def test_event_embeds_the_snapshot_image(standin, dashboard_id):
    run(standin, dashboard_id)
    [event] = standin.objects()["events"].values()
    assert re.search(r"!\[my_metric on the host\]\(https://p\.datadoghq\.com/snapshot/view/\S+\.png\)", event["text"])


def test_snapshot_is_the_my_metric_graph_at_the_default_host(standin, dashboard_id):
    run(standin, dashboard_id)
    assert snapshot_query(standin)["metric_query"] == "avg:my_metric{host:vm1}"


def test_snapshot_window_ends_now_and_spans_the_minutes(standin, dashboard_id):
    run(standin, dashboard_id, KEYS, "--minutes", "30")
    q = snapshot_query(standin)
    assert (int(q["end"]), int(q["end"]) - int(q["start"])) == (int(NOW.timestamp()), 30 * 60)


def test_prints_the_event_url(standin, dashboard_id, capsys, monkeypatch):
    code, out = main(standin, dashboard_id, capsys, KEYS, monkeypatch)
    assert code == 0 and re.fullmatch(r"posted to https://app\.datadoghq\.com/event/event\?id=\d+\n", out.out)


def test_datadog_key_variable_names_accepted(standin, dashboard_id):
    run(standin, dashboard_id, {"DATADOG_API_KEY": "a", "DATADOG_APP_KEY": "b"})
    assert len(standin.objects()["events"]) == 1


def test_no_keys_is_one_line_and_no_call(standin, dashboard_id, capsys, monkeypatch):
    code, out = main(standin, dashboard_id, capsys, {}, monkeypatch)
    assert code == 2 and out.out == ""
    assert out.err.count("\n") == 1 and "DD_API_KEY and DD_APP_KEY" in out.err
    assert standin.count(path_prefix="/api/v1/graph") == 0


def test_unknown_dashboard_is_one_line(standin, capsys, monkeypatch):
    code, out = main(standin, "abc-def-ghi", capsys, KEYS, monkeypatch)
    assert code == 2 and out.err == f"error: dashboard abc-def-ghi not found at {standin.url}\n"
    assert standin.objects()["events"] == {}


def test_dashboard_without_the_graph_is_one_line(standin, capsys, monkeypatch):
    body = timeboard_body()
    body["widgets"] = body["widgets"][1:]
    code, out = main(standin, _create(standin, body), capsys, KEYS, monkeypatch)
    assert code == 2 and "has no graph of avg:my_metric{$host}" in out.err and out.err.count("\n") == 1


def test_bad_stack_config_is_one_line_naming_the_key(standin, dashboard_id, capsys, monkeypatch, tmp_path):
    bad = tmp_path / "Pulumi.bad.yaml"
    original = (graph_snapshot.ROOT / "Pulumi.dev.yaml").read_text()
    bad.write_text(re.sub(r"datadog-stack:notify: .*", "datadog-stack:notify: ops-at-example", original))
    code, out = main(standin, dashboard_id, capsys, KEYS, monkeypatch, "--config-file", str(bad))
    assert code == 2 and out.err.startswith("error: invalid configuration: datadog-stack:notify:")


def test_unreachable_api_is_one_line(dashboard_id, capsys, monkeypatch, standin):
    standin.stop()
    code, out = main(standin, dashboard_id, capsys, KEYS, monkeypatch)
    assert code == 1 and out.err.startswith("error: cannot reach ") and out.err.count("\n") == 1


def test_refused_keys_are_one_line(tmp_path, capsys, monkeypatch):
    h = start_server(0, tmp_path / "keyed", api_key="right", app_key="right-app")
    try:
        code, out = main(h, "abc-def-ghi", capsys, KEYS, monkeypatch)
    finally:
        h.stop()
    assert code == 1 and out.err.startswith("error: Datadog answered 403")


@pytest.mark.parametrize("value", ["site.example", "ftp://x"])
def test_api_url_must_be_http(value):
    with pytest.raises(graph_snapshot.InputError, match="not an http"):
        graph_snapshot.api_url(value, {}, "https://api.datadoghq.com/")


def test_api_url_from_provider_variable():
    assert graph_snapshot.api_url(None, {"DD_HOST": "http://127.0.0.1:9/"}, "https://api.datadoghq.com/") == \
        "http://127.0.0.1:9"


def test_template_variable_without_default_is_everything():
    assert graph_snapshot.resolve_variables("avg:m{$host}", [{"name": "host", "prefix": "host"}]) == "avg:m{*}"


def test_standin_snapshot_needs_a_query(standin):
    url = standin.url + "/api/v1/graph/snapshot?" + urllib.parse.urlencode({"start": 1, "end": 2})
    req = urllib.request.Request(url, headers={"DD-API-KEY": "k", "DD-APPLICATION-KEY": "a"})
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(req)
    assert error.value.code == 400
