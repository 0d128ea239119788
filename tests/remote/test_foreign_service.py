"""An app named like a service already on the VM, over real SSH: the stack neither replaces
nor removes what it did not create (issue 18, item 4).

Settings refuse the names the stack knows are taken (the Agent's, the database servers',
sshd); only the VM knows the rest -- another team's `billing` service, a package's unit.
So the last line of defence is on the host (app/deploy.sh): the unit is the stack's when its
first line names the stack, /opt/<app> when its marker does. Each host has a service called
like the app before the first `up`:

* vm1 (root): another team's unit /etc/systemd/system/billing.service and its /opt/billing;
* vm2 (sudo): a package's unit /usr/lib/systemd/system/billing.service, which a unit of
  ours in /etc/systemd/system would override (systemd.unit(5), unit search path).

`up` must refuse the app's install on each in one line and change nothing of the service;
`destroy` must then leave each host exactly as it was before `up`.
"""
from __future__ import annotations

import pytest

from tests.remote.conftest import start_hosts
from tests.remote.runner import plan
from tests.standins.ssh_hosts import SUDO_USER, HostSpec, diff

pytestmark = pytest.mark.remote

APP = "billing"
STACK = "remote"
UNIT = b"""\
[Unit]
Description=billing: another team's service on this VM
[Service]
ExecStart=/opt/billing/bin/billing
[Install]
WantedBy=multi-user.target
"""
# host -> path -> content (None: a directory): what each host has before the stack.
FOREIGN = {
    "vm1": {"/etc/systemd/system/billing.service": UNIT, "/opt/billing": None,
            "/opt/billing/bin": None, "/opt/billing/bin/billing": b"#!/bin/sh\nexec sleep 1d\n"},
    "vm2": {"/usr/lib/systemd/system/billing.service": UNIT},
}
# host -> deploy.sh's one line refusing the install.
REFUSAL = {
    "vm1": f"deploy.sh: /etc/systemd/system/{APP}.service exists and was not created by stack "
           f"{STACK}: refusing to overwrite it; choose another apmService",
    "vm2": f"deploy.sh: {APP}.service is already a unit of this host "
           f"(/usr/lib/systemd/system/{APP}.service), not created by stack {STACK}: "
           "refusing to override it; choose another apmService",
}


@pytest.fixture(scope="module")
def hosts():
    with start_hosts([HostSpec(user="root"), HostSpec(user=SUDO_USER)]) as started:
        for host in started:
            for path, content in FOREIGN[host.name].items():
                target = host.path(path)
                if content is None:
                    target.mkdir(parents=True, exist_ok=True)
                else:
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(content)
        yield started


@pytest.fixture(scope="module")
def first(hosts, before, engine):
    commands, _ = plan(hosts, hosts.private_key, stack=STACK, apmService=APP)
    outcome = engine.up(commands)
    return {"outcome": outcome, "snapshot": {h.name: h.snapshot() for h in hosts}}


@pytest.fixture(scope="module")
def destroyed(hosts, first, engine):
    outcome = engine.destroy()
    return {"outcome": outcome, "snapshot": {h.name: h.snapshot() for h in hosts}}


def _result(outcome, name):
    return next(r for r in outcome.results if r.name == name)


def test_up_fails_only_the_apps_install_on_each_host(first):
    assert sorted(r.name for r in first["outcome"].failed) == ["vm1-app-install", "vm2-app-install"], \
        "\n\n".join(r.error for r in first["outcome"].failed)
    assert not [r for r in first["outcome"].results if r.name.endswith("-app-smoke")], \
        "the smoke test runs only after an install"


@pytest.mark.parametrize("name", sorted(REFUSAL))
def test_the_install_refuses_the_service_it_did_not_create_in_one_line(first, name):
    result = _result(first["outcome"], f"{name}-app-install")
    assert result.stderr.strip().splitlines() == [REFUSAL[name]], result.error


@pytest.mark.parametrize("name", sorted(FOREIGN))
def test_the_refused_install_leaves_the_service_byte_for_byte(hosts, before, first, name):
    changed = diff(before[name], first["snapshot"][name])
    assert [p for p in changed if p.startswith(("/opt/", "/etc/systemd/", "/usr/lib/systemd/"))] == [], \
        f"{name}: the install changed {sorted(changed)}"


def test_destroy_runs_every_delete_step(destroyed):
    assert not destroyed["outcome"].failed, "\n\n".join(r.error for r in destroyed["outcome"].failed)
    assert sorted(r.name for r in destroyed["outcome"].results) == \
        ["vm1-agent-teardown", "vm1-app-teardown", "vm2-agent-teardown", "vm2-app-teardown"]


@pytest.mark.parametrize("name", sorted(FOREIGN))
def test_destroy_says_in_one_line_it_removed_nothing_of_the_app(destroyed, name):
    result = _result(destroyed["outcome"], f"{name}-app-teardown")
    assert result.stderr.strip().splitlines() == \
        [f"deploy.sh: no /opt/{APP} created by stack {STACK} here: nothing removed"], result.error


@pytest.mark.parametrize("name", sorted(FOREIGN))
def test_destroy_leaves_each_host_exactly_as_it_was(before, destroyed, name):
    left = diff(before[name], destroyed["snapshot"][name])
    assert left == {}, f"{name} differs from before the stack: {sorted(left)}"


def test_no_command_stopped_started_or_disabled_the_service(hosts, destroyed):
    for host in hosts:
        touched = [c for c in host.systemctl_calls() if f"{APP}.service" in c.split() or APP in c.split()]
        assert touched == [], f"{host.name}: systemctl ran on the service the stack did not create"
