"""The life cycle of issue 13 through the real engine (Automation API), two SSH test hosts
and the Datadog API stand-in, the policy pack on every `up` and preview.

Each step is a module fixture on top of the one before; a test asks for the step it checks.
Skips, in one line, where the `pulumi` CLI or the plugins are missing (lifecycle.missing).
"""
from __future__ import annotations

import json

import pytest

from agent_files import render
from tests.e2e.lifecycle import CANARIES, SHIPPED_CATALOG, Lifecycle, live, missing
from tests.remote.conftest import start_hosts
from tests.standins.ssh_hosts import SUDO_USER, HostSpec, diff

pytestmark = pytest.mark.e2e
_why = missing()
if _why:
    pytest.skip(f"e2e tier skipped: {_why}", allow_module_level=True)

AGENT_MESSAGE = "Error: my_metric: canary failure from the stand-in Agent (vm2)"
SECRET_FRAGMENTS = ("CANARY-api-key", "CANARY-app-key", "CANARY-db-password",
                    "BEGIN OPENSSH PRIVATE KEY")


@pytest.fixture(scope="module")
def hosts():
    with start_hosts([HostSpec(user="root"), HostSpec(user=SUDO_USER)]) as started:
        yield started


@pytest.fixture(scope="module")
def before(hosts):
    return {h.name: h.snapshot() for h in hosts}


@pytest.fixture(scope="module")
def life(hosts, standin, before):
    stack = Lifecycle(hosts, standin)
    yield stack
    stack.close()


@pytest.fixture(scope="module")
def created(life):
    return life.up("up from empty")


@pytest.fixture(scope="module")
def noop(life, created):
    return life.up("no-op up")


@pytest.fixture(scope="module")
def threshold(life, noop):
    life.change(criticalThreshold=900)
    return life.up("criticalThreshold 800 -> 900")


@pytest.fixture(scope="module")
def interval(life, threshold):
    life.change(checkInterval=30)
    return life.up("checkInterval 45 -> 30")


@pytest.fixture(scope="module")
def later(life, interval):
    life.advance_clock(396)  # 13 months
    life.change(officeHoursEnd="18:00")
    changed = life.up("13 months later: officeHoursEnd 19:00 -> 18:00")
    return {"changed": changed, "noop": life.up("13 months later: no-op up")}


@pytest.fixture(scope="module")
def api_faults(life, standin, later):
    standin.add_fault(status=503, count=2, retry_after=1, path_prefix="/api/v1/monitor")
    standin.add_fault(status=429, count=2, retry_after=1, path_prefix="/api/v1/monitor")
    life.change(warningThreshold=450)
    first = life.up("warningThreshold 500 -> 450 under 503s and 429s")
    # The provider retries its CRUD calls on 429/503, but not the monitor validation it
    # makes while diffing (found here, with pulumi-datadog 5.8.0): that up may fail.
    final = first if first.ok else life.up("rerun after the 503s and 429s")
    return {"first": first, "final": final, "pending": life.pending_operations(),
            "injected": standin.stats().get("faults_injected", 0)}


@pytest.fixture(scope="module")
def agent_fault(life, hosts, api_faults):
    vm2 = hosts.hosts[1]
    vm2.fail_agent_check(AGENT_MESSAGE)
    life.change(checkInterval=20)
    try:
        failed = life.up("checkInterval 30 -> 20, Agent check failing on vm2")
    finally:
        vm2.fail_agent_check(None)
    rerun = life.up("rerun after the Agent fault")
    return {"failed": failed, "rerun": rerun, "pending": life.pending_operations()}


@pytest.fixture(scope="module")
def unreachable(life, hosts, agent_fault):
    vm2 = hosts.hosts[1]
    vm2.stop_sshd()
    life.change(checkInterval=25)
    try:
        failed = life.up("checkInterval 20 -> 25, vm2 unreachable")
    finally:
        vm2.start_sshd()
    rerun = life.up("rerun with vm2 back")
    return {"failed": failed, "rerun": rerun, "pending": life.pending_operations()}


@pytest.fixture(scope="module")
def targeted(life, unreachable):
    urn = next(r["urn"] for r in life.export()["resources"] if r["urn"].endswith("vm1-agent-install"))
    life.change(checkInterval=35)
    step = life.up("targeted up of vm1-agent-install", target=[urn])
    life.change(checkInterval=25)
    life.up("untargeted up back to 25")
    return step


@pytest.fixture(scope="module")
def verbose(life, targeted):
    life.change(warningThreshold=460)
    # The engine's own log, as the issue asks: clean. With --logflow the providers log at
    # v=9 too, and a run with it found the SSH key's header there (a provider's own debug
    # output, since the engine's alone has none): share such a log with care.
    return life.up("up with the engine's -v=9 log", log_verbosity=9, log_to_std_err=True)


@pytest.fixture(scope="module")
def destroyed(life, hosts, verbose):
    step = life.destroy()
    return {"step": step, "snapshot": {h.name: h.snapshot() for h in hosts}}


def _ok(step):
    assert step.ok, step.output[-4000:]


# --- 1. up from empty --------------------------------------------------------------------

def test_up_from_empty_creates_every_resource(created):
    _ok(created)
    assert set(created.changes) == {"create"}


def test_up_from_empty_installs_the_rendered_files_on_each_host(hosts, created):
    from tests.remote.runner import plan

    _, settings = plan(hosts, hosts.private_key, stack="e2e")
    for host in hosts:
        spec = next(h for h in settings.hosts if h.name == host.name)
        files = render.render_host_files(settings.agent, spec, CANARIES["datadog:apiKey"],
                                         CANARIES["datadog-stack:databasePassword"])
        for path, content in files.items():
            assert host.path(path).read_bytes() == content, f"{host.name}:{path}"


def test_up_from_empty_creates_the_datadog_objects_of_the_plan(standin, created):
    objects = live(standin.objects())
    assert {k: len(objects[k]) for k in ("monitors", "dashboards", "downtimes")} == \
        {"monitors": 1 + SHIPPED_CATALOG["monitors"], "dashboards": 2 + SHIPPED_CATALOG["dashboards"],
         "downtimes": 2}


# --- 2. no-op up -------------------------------------------------------------------------

def test_a_second_up_changes_nothing(noop):
    _ok(noop)
    assert set(noop.changes) == {"same"}


def test_a_second_up_writes_nothing_and_opens_no_ssh_session(noop):
    assert (noop.writes, sum(noop.sessions.values())) == (0, 0)


# --- 3. one change at a time -------------------------------------------------------------

def test_a_threshold_change_is_one_monitor_write_and_no_ssh_session(standin, threshold):
    _ok(threshold)
    assert threshold.writes == 1 and sum(threshold.sessions.values()) == 0


def test_an_interval_change_is_at_most_two_sessions_per_host_and_no_write(interval):
    _ok(interval)
    assert interval.writes == 0
    assert all(n <= 2 for n in interval.sessions.values()), interval.sessions


# --- 4. time passes ----------------------------------------------------------------------

def test_thirteen_months_later_a_downtime_change_succeeds(later):
    _ok(later["changed"])


def test_thirteen_months_later_a_noop_up_changes_nothing(later):
    _ok(later["noop"])
    assert set(later["noop"].changes) == {"same"}


# --- 6. faults ---------------------------------------------------------------------------

def test_503_and_429_with_retry_after_end_in_a_converged_stack(api_faults):
    assert api_faults["injected"] == 4, "the first two 503s and two 429s were answered"
    _ok(api_faults["final"])
    assert api_faults["pending"] == [], "no operation left pending in the state"


def test_a_failing_agent_check_on_one_host_fails_the_up_naming_the_host(hosts, agent_fault):
    assert not agent_fault["failed"].ok
    assert AGENT_MESSAGE in agent_fault["failed"].output
    assert hosts.hosts[1].address in agent_fault["failed"].output, "the error names the host's address"


def test_after_the_agent_fault_a_rerun_converges(agent_fault):
    _ok(agent_fault["rerun"])
    assert agent_fault["pending"] == []


def test_an_unreachable_host_fails_the_up_and_a_rerun_converges_once_it_is_back(unreachable):
    assert not unreachable["failed"].ok
    _ok(unreachable["rerun"])
    assert unreachable["pending"] == []


# --- 8. policy pack ----------------------------------------------------------------------

def test_a_targeted_up_passes_the_policy_pack(targeted):
    _ok(targeted)


# --- 7. canary secrets -------------------------------------------------------------------

def _leaks(text: str) -> list[str]:
    return [f for f in SECRET_FRAGMENTS if f in text]


def test_no_secret_in_the_stack_file(life, created):
    assert _leaks(life.stack_file()) == []


def test_no_secret_in_the_exported_state(life, verbose):
    assert _leaks(json.dumps(life.export())) == []


def test_no_secret_in_the_engines_verbose_log(verbose):
    _ok(verbose)
    assert _leaks(verbose.output) == []


def test_no_secret_in_the_stack_outputs(created):
    assert _leaks(json.dumps(created.outputs, default=str)) == []


def test_no_secret_in_the_standin_logs(standin, verbose):
    assert _leaks(json.dumps(standin.requests(), default=str)) == []


# --- 5. destroy --------------------------------------------------------------------------

def test_destroy_leaves_nothing_live_at_datadog(standin, destroyed):
    _ok(destroyed["step"])
    objects = live(standin.objects())
    assert [objects[k] for k in ("monitors", "dashboards", "downtimes")] == [[], [], []]


def test_destroy_leaves_each_host_as_it_was(hosts, before, destroyed):
    for host in hosts:
        assert diff(before[host.name], destroyed["snapshot"][host.name]) == {}, host.name

