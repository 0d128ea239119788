"""The plan's remote commands over real SSH, through a whole life cycle, on two PostgreSQL
hosts: vm1 logged in as root, vm2 as a non-root user with passwordless `sudo -n`.

Each step is a module fixture built on the one before (first deploy, every create run
again, a `checkInterval` change, a failing Agent verification on vm2, destroy), so a test
asks for the step whose outcome it checks.
"""
from __future__ import annotations

import os
import subprocess

import pytest

from agent_files import app_service, render, wheels
from tests.remote.conftest import start_hosts
from tests.remote.runner import CANARIES, Engine, plan
from tests.standins.ssh_hosts import SUDO_USER, HostSpec, diff

pytestmark = pytest.mark.remote

AGENT_ETC = "/etc/datadog-agent/"
AGENT_MESSAGE = "Error: my_metric: canary failure from the stand-in Agent (vm2)"


@pytest.fixture(scope="module")
def hosts():
    with start_hosts([HostSpec(user="root"), HostSpec(user=SUDO_USER)]) as started:
        yield started


@pytest.fixture(scope="module")
def first(hosts, before, engine):
    commands, settings = plan(hosts, hosts.private_key)
    outcome = engine.up(commands)
    return {"commands": commands, "settings": settings, "outcome": outcome,
            "sessions": {h.name: h.sessions() for h in hosts},
            "snapshot": {h.name: h.snapshot() for h in hosts}}


@pytest.fixture(scope="module")
def again(hosts, first):
    """Every create run once more, as after a lost state or a replacement."""
    restarts = {h.name: len(h.systemctl_calls()) for h in hosts}
    outcome = Engine().up(first["commands"])
    return {"outcome": outcome, "restarts_before": restarts,
            "snapshot": {h.name: h.snapshot() for h in hosts}}


@pytest.fixture(scope="module")
def interval(hosts, again, engine):
    sessions = {h.name: h.sessions() for h in hosts}
    commands, _ = plan(hosts, hosts.private_key, checkInterval=30)
    outcome = engine.up(commands)
    return {"outcome": outcome, "sessions": {h.name: h.sessions() - sessions[h.name] for h in hosts},
            "snapshot": {h.name: h.snapshot() for h in hosts}}


@pytest.fixture(scope="module")
def failed(hosts, interval, engine):
    vm2 = hosts.hosts[1]
    vm2.fail_agent_check(AGENT_MESSAGE)
    commands, _ = plan(hosts, hosts.private_key, checkInterval=20)
    try:
        outcome = engine.up(commands)
    finally:
        vm2.fail_agent_check(None)
    snapshot = {h.name: h.snapshot() for h in hosts}
    login = {h.name: h.database_login(CANARIES["datadog-stack:databasePassword"]) for h in hosts}
    rerun = engine.up(commands)
    return {"outcome": outcome, "snapshot": snapshot, "rerun": rerun, "login_after_failure": login}


@pytest.fixture(scope="module")
def destroyed(hosts, failed, engine):
    outcome = engine.destroy()
    return {"outcome": outcome, "snapshot": {h.name: h.snapshot() for h in hosts}}


def _agent_files(settings, host):
    spec = next(h for h in settings.hosts if h.name == host.name)
    return render.render_host_files(settings.agent, spec, CANARIES["datadog:apiKey"],
                                    CANARIES["datadog-stack:databasePassword"])


# --- first deploy ---------------------------------------------------------------------

def test_first_deploy_runs_every_remote_command_of_the_plan(first):
    assert not first["outcome"].failed, "\n\n".join(r.error for r in first["outcome"].failed)
    assert sorted(first["outcome"].ran()) == sorted(f"create {c.name}" for c in first["commands"])


def test_first_deploy_installs_the_rendered_agent_files_byte_for_byte(hosts, first):
    for host in hosts:
        for path, content in _agent_files(first["settings"], host).items():
            assert host.path(path).read_bytes() == content, f"{host.name}:{path} differs from the render"


def test_first_deploy_gives_secret_files_mode_0640_owner_dd_agent(hosts, first):
    for host in hosts:
        for path in ("/etc/datadog-agent/datadog.yaml", "/etc/datadog-agent/conf.d/postgres.d/conf.yaml"):
            st = os.stat(host.path(path))
            owner = [l.split(":") for l in host.path("/etc/passwd").read_text().splitlines()
                     if l.startswith("dd-agent:")][0]
            assert (oct(st.st_mode & 0o777), st.st_uid) == ("0o640", int(owner[2])), f"{host.name}:{path}"


def test_first_deploy_runs_the_flask_app_that_passed_the_smoke_test(first):
    smoke = [r for r in first["outcome"].results if r.name.endswith("-app-smoke")]
    assert len(smoke) == 2
    for result in smoke:
        assert "GET /api/trace -> 200" in result.stdout, result.error


def test_the_test_hosts_have_no_route_to_pypi(hosts):
    """What makes the deploy below a deploy with PyPI blocked: a pip asking the index from
    inside a host fails (the hosts' network namespace holds only a loopback)."""
    for host in hosts:
        error = host.pip_index_error()
        assert error, f"{host.name}: pip reached a package index: the no-PyPI proof proves nothing"
        assert "flask==3.1.3" in error, f"{host.name}: pip failed for another reason: {error[-500:]}"


def test_first_deploy_installs_the_app_from_the_shipped_wheel_set_with_pypi_blocked(hosts, first):
    wheel_set = wheels.load()
    staged = app_service.staged_wheels(first["settings"], wheel_set.id)
    for host in hosts:
        root = host.path("/opt/flask-app")
        assert (root / "wheels" / wheel_set.id / ".complete").exists(), \
            f"{host.name}: the set is kept under the app dir by its id"
        freeze = (root / "current" / "freeze.txt").read_text()
        assert "ddtrace==4.16.0" in freeze and "gunicorn==27.0.1" in freeze, host.name
        assert not host.path(staged).exists(), f"{host.name}: the staged copy is deleted once unpacked"


def test_first_deploy_opens_one_ssh_session_per_command(hosts, first):
    for host in hosts:
        mine = [c for c in first["commands"] if c.connection["host"] == host.address]
        assert first["sessions"][host.name] == len(mine), f"{host.name}: sshd logged other sessions"


def test_first_deploy_datadog_user_logs_in_with_the_stack_password(hosts, first):
    for host in hosts:
        done = subprocess.run(
            ["psql", "-X", "-At", "-h", str(host.database.socket_dir), "-p", "5432", "-U", "datadog",
             "-d", "postgres", "-c", "SELECT pg_has_role('datadog', 'pg_monitor', 'member')"],
            env={**os.environ, "PGPASSWORD": CANARIES["datadog-stack:databasePassword"]},
            capture_output=True, text=True)
        assert done.stdout.strip() == "t", f"{host.name}: {done.stderr}"


def test_first_deploy_datadog_user_logs_in_through_the_integrations_driver(hosts, first):
    for host in hosts:
        assert host.database_login(CANARIES["datadog-stack:databasePassword"]) == "", \
            f"{host.name}: psycopg, with the deployed conf.yaml's arguments, logs in"


def test_first_deploy_leaves_secrets_only_in_the_files_that_need_them(hosts, first):
    """datadog.yaml holds the API key and the integration's conf.yaml the password; no other
    file on the host may hold either (the bundle copies included: see issue 13)."""
    allowed = {"/etc/datadog-agent/datadog.yaml", "/etc/datadog-agent/conf.d/postgres.d/conf.yaml"}
    fragments = ("CANARY-api-key", "CANARY-db-password")
    for host in hosts:
        leaks = [path for path, state in first["snapshot"][host.name].items()
                 if state[0] == "file" and path not in allowed
                 and any(f.encode() in host.path(path).read_bytes() for f in fragments)]
        assert leaks == [], f"{host.name}: a secret in {leaks}"


def test_no_command_output_carries_a_secret(first):
    text = "".join(r.stdout + r.stderr for r in first["outcome"].results)
    assert "CANARY-api-key" not in text and "CANARY-db-password" not in text


def test_install_output_is_free_of_psql_noise(first):
    """psql run as postgres from root's home warns it cannot change directory (issue 13)."""
    text = "".join(r.stderr for r in first["outcome"].results if r.name.endswith("agent-install"))
    assert "could not change directory" not in text, text


# --- every create again ---------------------------------------------------------------

def test_running_every_create_again_succeeds(again):
    assert not again["outcome"].failed, "\n\n".join(r.error for r in again["outcome"].failed)


def test_running_every_create_again_prints_no_notice_from_psql(again):
    """A reinstall's GRANT of a role already held makes psql print a NOTICE (issue 13)."""
    text = "".join(r.stderr for r in again["outcome"].results if r.name.endswith("agent-install"))
    assert "NOTICE" not in text, text


def test_running_every_create_again_changes_no_file_content(hosts, first, again):
    for host in hosts:
        assert diff(first["snapshot"][host.name], again["snapshot"][host.name]) == {}, host.name


def test_running_every_create_again_rewrites_no_agent_file(hosts, first, again):
    for host in hosts:
        changed = diff(first["snapshot"][host.name], again["snapshot"][host.name], identity=True)
        assert [p for p in changed if p.startswith(AGENT_ETC)] == [], host.name


def test_running_every_create_again_restarts_nothing(hosts, again):
    for host in hosts:
        calls = host.systemctl_calls()[again["restarts_before"][host.name]:]
        assert [c for c in calls if c.split()[0] in ("restart", "start", "stop")] == [], host.name


def test_an_identical_plan_runs_no_command(hosts, first, engine, again):
    sessions = hosts.sessions()
    assert engine.up(first["commands"]).results == []
    assert hosts.sessions() == sessions


# --- checkInterval change -------------------------------------------------------------

def test_an_interval_change_is_two_sessions_per_host(hosts, interval):
    assert not interval["outcome"].failed, "\n\n".join(r.error for r in interval["outcome"].failed)
    assert interval["sessions"] == {h.name: 2 for h in hosts}


def test_an_interval_change_rewrites_exactly_my_metric_yaml(hosts, again, interval):
    for host in hosts:
        changed = diff(again["snapshot"][host.name], interval["snapshot"][host.name], identity=True)
        files = [p for p, (_, new) in changed.items()
                 if not p.startswith(render.STACK_DIR + "/") and new[0] != "dir"]
        assert files == ["/etc/datadog-agent/conf.d/my_metric.yaml"], host.name


# --- failing verification on vm2 ------------------------------------------------------

def _vm2_install(failed):
    return next(r for r in failed["outcome"].results if r.name == "vm2-agent-install")


def test_a_failing_verification_fails_only_that_host(failed):
    assert [r.name for r in failed["outcome"].failed] == ["vm2-agent-install"]


def test_a_failing_verification_restores_the_agent_files_byte_for_byte(hosts, interval, failed):
    changed = diff(interval["snapshot"]["vm2"], failed["snapshot"]["vm2"])
    assert [p for p in changed if p.startswith(AGENT_ETC)] == []


def test_a_failing_verification_reports_the_agents_message(failed):
    assert AGENT_MESSAGE in _vm2_install(failed).error


def test_a_failing_verification_names_the_host_on_the_first_line(hosts, failed):
    """The first line of the output names the host, its address and the step (issue 13)."""
    result = _vm2_install(failed)
    first_line = (result.stdout + result.stderr).splitlines()[0]
    vm2 = hosts.hosts[1]
    assert vm2.name in first_line and vm2.address in first_line, first_line


def test_a_failing_verification_keeps_the_stack_password_working_through_the_driver(hosts, failed):
    """Checked right after the failed deploy, before its rerun (the fixture's `after`)."""
    assert failed["login_after_failure"] == {h.name: "" for h in hosts}, \
        "nothing lost: psycopg, as the integration connects, still logs in with the password"


def test_a_rerun_after_the_fault_converges(hosts, failed):
    assert not failed["rerun"].failed, "\n\n".join(r.error for r in failed["rerun"].failed)
    assert [r.name for r in failed["rerun"].results] == ["vm2-agent-install"]
    assert b"min_collection_interval: 20" in hosts.hosts[1].path(
        "/etc/datadog-agent/conf.d/my_metric.yaml").read_bytes()


# --- destroy --------------------------------------------------------------------------

def test_destroy_runs_every_delete_step(destroyed):
    assert not destroyed["outcome"].failed, "\n\n".join(r.error for r in destroyed["outcome"].failed)
    assert sorted(r.name for r in destroyed["outcome"].results) == \
        ["vm1-agent-teardown", "vm1-app-teardown", "vm2-agent-teardown", "vm2-app-teardown"]


def test_destroy_stops_the_app(hosts, destroyed):
    for host in hosts:
        assert list((host.control / "pids").iterdir()) == [], f"{host.name}: a unit still runs"


def test_destroy_leaves_each_host_exactly_as_it_was(hosts, before, destroyed):
    for host in hosts:
        left = diff(before[host.name], destroyed["snapshot"][host.name])
        assert left == {}, f"{host.name} keeps: {sorted(left)}"
