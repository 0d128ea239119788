"""The Flask app under `ddtrace-run gunicorn`, as the unit runs it, reporting to Datadog's
APM test agent.

ddapm-test-agent (PyPI) stands in for the Datadog Agent's trace intake on :8126: it
accepts the tracer's payloads and serves what it received at /test/session/traces.
Both processes run on free loopback ports. Run inside venv-apm (`make test-apm`):

    venv-apm/bin/python -m pytest -m apm tests/apm
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.apm

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SERVICE, ENV, VERSION = "flask-app", "apm-test", "9.8.7"
ROUTES = {  # route -> (response text, the tag its view sets on the request span)
    "/": ("Entrypoint to the Application", "from_entry_route"),
    "/api/apm": ("Getting APM Started", "from_apm_route"),
    "/api/trace": ("Posting Traces", "from_trace_route"),
}

if not (BIN / "ddtrace-run").exists() or not (BIN / "ddapm-test-agent").exists():
    pytest.skip(f"ddtrace-run / ddapm-test-agent not next to {sys.executable}: run these "
                "tests with venv-apm/bin/python (`make test-apm`)",
                allow_module_level=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(url: str, timeout: float = 5) -> tuple[int, str]:
    return fetch(url, timeout)[:2]


def fetch(url: str, timeout: float = 5) -> tuple[int, str, str]:
    """Status, body and the Server header of GET url."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read().decode(), response.headers.get("Server", "")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(), error.headers.get("Server", "")


def wait_for(predicate, what: str, proc: subprocess.Popen, log: Path, timeout: float = 30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"{what}: process exited {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if predicate():
                return
        except OSError:
            pass
        time.sleep(0.2)
    pytest.fail(f"{what}: not ready after {timeout}s:\n{log.read_text()[-3000:]}")


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def start(cmd: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=log.open("w"),
                            stderr=subprocess.STDOUT, start_new_session=True)


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)  # its own session: only what we started
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@pytest.fixture(scope="module")
def agent(tmp_path_factory):
    port = free_port()
    log = tmp_path_factory.mktemp("agent") / "agent.log"
    proc = start([str(BIN / "ddapm-test-agent"), "--port", str(port),
                  "--otlp-http-port", str(free_port()), "--otlp-grpc-port", str(free_port())],
                 {**os.environ, "LOG_LEVEL": "INFO"}, log)
    url = f"http://127.0.0.1:{port}"
    wait_for(lambda: get(f"{url}/info")[0] == 200, "ddapm-test-agent", proc, log)
    yield url
    stop(proc)


@pytest.fixture(scope="module")
def app(agent, tmp_path_factory):
    """The app as the unit runs it: ddtrace-run gunicorn, two workers, on a loopback port."""
    assert get(f"{agent}/test/session/start")[0] == 200
    port = free_port()
    log = tmp_path_factory.mktemp("app") / "app.log"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("DD_")},
        "DD_SERVICE": SERVICE, "DD_ENV": ENV, "DD_VERSION": VERSION,
        "DD_LOGS_INJECTION": "true", "DD_TRACE_AGENT_URL": agent,
        "PYTHONUNBUFFERED": "1",
        # Keep the test agent's session to traces: no telemetry or remote-config polling.
        "DD_INSTRUMENTATION_TELEMETRY_ENABLED": "false",
        "DD_REMOTE_CONFIGURATION_ENABLED": "false",
    }
    # The unit's ExecStart, with --chdir for its WorkingDirectory.
    proc = start([str(BIN / "ddtrace-run"), str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{port}",
                  "--workers", "2", "--no-control-socket", "--chdir", str(ROOT / "app"),
                  "app:app"], env, log)
    # Readiness by TCP connect: an HTTP probe would itself leave a trace.
    wait_for(lambda: port_open(port), "the Flask app", proc, log)
    responses = {route: fetch(f"http://127.0.0.1:{port}{route}") for route in ROUTES}
    traces = received_traces(agent, expected=len(ROUTES))
    yield {"answers": {route: r[:2] for route, r in responses.items()},
           "servers": {r[2] for r in responses.values()}, "traces": traces, "log": log}
    stop(proc)


def received_traces(agent: str, expected: int, timeout: float = 20) -> list[list[dict]]:
    """Poll the test agent until `expected` traces arrived (ddtrace flushes every ~1 s)."""
    deadline = time.monotonic() + timeout
    traces: list = []
    while time.monotonic() < deadline:
        status, body = get(f"{agent}/test/session/traces")
        assert status == 200, body
        traces = json.loads(body)
        if len(traces) >= expected:
            time.sleep(1.5)  # and nothing more comes after another flush interval
            return json.loads(get(f"{agent}/test/session/traces")[1])
        time.sleep(0.3)
    return traces


def request_spans(app) -> dict[str, dict]:
    """resource -> the flask.request span of that trace."""
    spans = {}
    for trace in app["traces"]:
        for span in trace:
            if span["name"] == "flask.request":
                spans[span["resource"]] = span
    return spans


def test_the_app_is_served_by_gunicorn_not_flasks_development_server(app):
    assert app["servers"] == {"gunicorn"}, "gunicorn names itself in the Server header"


@pytest.mark.parametrize("route", ROUTES)
def test_route_answers_200_with_its_text(app, route):
    assert app["answers"][route] == (200, ROUTES[route][0])


def test_one_trace_per_request_each_rooted_in_one_flask_request_span(app):
    traces = app["traces"]
    assert len(traces) == len(ROUTES), f"expected one trace per request, got {len(traces)}"
    for trace in traces:
        roots = [s for s in trace if s["parent_id"] in (0, None)]
        assert [s["name"] for s in roots] == ["flask.request"], trace
        assert len({s["trace_id"] for s in trace}) == 1


def test_request_spans_are_named_after_method_and_route(app):
    assert sorted(request_spans(app)) == ["GET /", "GET /api/apm", "GET /api/trace"]


def test_request_spans_carry_the_configured_service_env_and_version(app):
    for resource, span in request_spans(app).items():
        assert span["service"] == SERVICE, resource
        assert span["meta"]["env"] == ENV, resource
        assert span["meta"]["version"] == VERSION, resource


def test_request_spans_record_status_and_route(app):
    for resource, span in request_spans(app).items():
        assert span["meta"]["http.status_code"] == "200", resource
        assert span["meta"]["http.route"] == resource.split(" ", 1)[1]
        assert span["meta"]["span.kind"] == "server"


@pytest.mark.parametrize("route", ROUTES)
def test_each_route_tags_its_own_request_span(app, route):
    spans = request_spans(app)
    tag = ROUTES[route][1]
    assert spans[f"GET {route}"]["meta"].get(tag) == "true", \
        f"{tag} must be on the flask.request span of GET {route}"
    others = [r for r, s in spans.items() if r != f"GET {route}" and tag in s["meta"]]
    assert others == [], f"{tag} leaked onto {others}"


def test_the_app_logs_each_request_to_stdout_in_the_seeds_format(app):
    lines = app["log"].read_text().splitlines()
    served = [line for line in lines if " - app - INFO - GET /api/apm 200 [" in line]
    assert len(served) == 1, "one line per request through the root handler"


def test_request_log_line_carries_its_trace_id(app):
    # DD_LOGS_INJECTION=true: the request's log line names the trace it belongs to.
    span = request_spans(app)["GET /api/apm"]
    trace_id_hex = span["meta"]["_dd.p.tid"] + f"{span['trace_id']:016x}"
    line = next(line for line in app["log"].read_text().splitlines()
                if " - app - INFO - GET /api/apm 200 [" in line)
    assert f"dd.service={SERVICE} dd.env={ENV} dd.version={VERSION}" in line, line
    assert f"dd.trace_id={trace_id_hex}" in line, line


def test_ddtrace_debug_output_stays_out_of_the_apps_log(app):
    assert "finishing span" not in app["log"].read_text()
