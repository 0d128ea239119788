"""Adoption and Datadog-side drift through the real engine (tests/e2e/lifecycle.py: an `e2e`
stack over one SSH test host and the Datadog API stand-in).

The seed's hand-made monitor and timeboard are in the account first; `tools.adopt` writes
the import file, `pulumi import --file` takes them in, `up` converges them (no duplicate),
a second `up` changes nothing. Then the monitor is edited behind the stack's back and
`pulumi preview --refresh --json`, summarised by tools.drift, names it.
Skips, in one line, where the `pulumi` CLI or the plugins are missing (lifecycle.missing).
"""
from __future__ import annotations

import json
import os
import subprocess
import urllib.request

import pytest

from tests.e2e.lifecycle import SHIPPED_CATALOG, STACK, Lifecycle, live, missing
from tests.remote.conftest import start_hosts
from tests.standins.ssh_hosts import HostSpec
from tests.unit.adopt_fixtures import SEED_HOST, SEED_OBJECTS
from tools import adopt, drift

pytestmark = pytest.mark.e2e
_why = missing()
if _why:
    pytest.skip(f"e2e tier skipped: {_why}", allow_module_level=True)


@pytest.fixture(scope="module")
def hosts():
    with start_hosts([HostSpec(user="root")]) as started:
        yield started


@pytest.fixture(scope="module")
def life(hosts, standin):
    stack = Lifecycle(hosts, standin)
    yield stack
    stack.close()


def call(handle, method: str, path: str, body: dict) -> dict:
    request = urllib.request.Request(handle.url + path, data=json.dumps(body).encode(), method=method,
                                     headers={"DD-API-KEY": "k", "DD-APPLICATION-KEY": "a",
                                              "Content-Type": "application/json"})
    with urllib.request.urlopen(request) as answer:
        return json.load(answer)


def seed_body(kind: str, host: str) -> dict:
    """The seed's own body, on the test host (and `renotify_interval` an integer)."""
    body = json.loads(json.dumps(SEED_OBJECTS[kind]).replace(SEED_HOST, host))
    if kind == "monitor":
        body["options"]["renotify_interval"] = 0
    return body


def engine(life, *args: str) -> str:
    proc = subprocess.run(["pulumi", *args, "--stack", STACK, "--non-interactive"], cwd=life.work,
                          env={**os.environ, **life.env}, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, f"pulumi {' '.join(args)}:\n{proc.stdout}{proc.stderr}"
    return proc.stdout


@pytest.fixture(scope="module")
def adopted(life, hosts, standin, tmp_path_factory, monkeypatch_module):
    host = hosts.hosts[0].name
    monitor = call(standin, "POST", "/api/v1/monitor", seed_body("monitor", host))
    board = call(standin, "POST", "/api/v1/dashboard", seed_body("dashboard", host))
    out = tmp_path_factory.mktemp("adopt") / "adopt.json"
    monkeypatch_module.setenv("DD_API_KEY", "k")
    monkeypatch_module.setenv("DD_APP_KEY", "a")
    code = adopt.main(["--config-file", str(life.work / f"Pulumi.{STACK}.yaml"), "--output", str(out)])
    assert code == 0
    engine(life, "import", "--file", str(out), "--protect=false", "--generate-code=false", "--yes")
    return {"monitor": monitor, "board": board, "up": life.up("up after import"),
            "again": life.up("second up after import")}


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def test_up_after_import_takes_the_seed_objects_over_without_duplicates(standin, adopted):
    assert adopted["up"].ok, adopted["up"].output
    objects = live(standin.objects())
    assert str(adopted["monitor"]["id"]) in objects["monitors"] and \
        len(objects["monitors"]) == 1 + SHIPPED_CATALOG["monitors"], "no second my_metric monitor"
    assert adopted["board"]["id"] in objects["dashboards"] and \
        len(objects["dashboards"]) == 2 + SHIPPED_CATALOG["dashboards"], \
        "the timeboard adopted, the APM dashboard created"


def test_a_second_up_after_import_changes_nothing(adopted):
    assert adopted["again"].ok and set(adopted["again"].changes) == {"same"}


def test_a_monitor_edited_behind_the_stacks_back_is_named_by_the_drift_summary(life, standin, adopted):
    monitor_id = adopted["monitor"]["id"]
    call(standin, "PUT", f"/api/v1/monitor/{monitor_id}", {"name": "renamed in the UI"})
    summary = drift.summarize_preview(json.loads(engine(life, "preview", "--refresh", "--json")))
    assert any(line.startswith("update   my-metric-high-monitor (datadog:index/monitor:Monitor): "
                               "changed outside the stack") and "name" in line for line in summary), summary
