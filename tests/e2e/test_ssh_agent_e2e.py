"""`up` and `destroy` through the real engine with `sshAgentSocket` and no `sshPrivateKey`
(issue 18, item 6): the provider's debug log (`--logflow -v=9 --logtostderr --debug`) and
the state hold no key material, where a key in config put its header in that log.

Skips, in one line, where the `pulumi` CLI or the plugins are missing (lifecycle.missing).
"""
from __future__ import annotations

import json

import pytest

from tests.e2e.lifecycle import Lifecycle, missing
from tests.remote.conftest import ssh_agent, start_hosts
from tests.standins.ssh_hosts import HostSpec

pytestmark = pytest.mark.e2e
_why = missing()
if _why:
    pytest.skip(f"e2e tier skipped: {_why}", allow_module_level=True)

DEBUG_LOG = {"log_flow": True, "log_verbosity": 9, "log_to_std_err": True, "debug": True}


@pytest.fixture(scope="module")
def hosts():
    with start_hosts([HostSpec(user="root")]) as started:
        yield started


@pytest.fixture(scope="module")
def key_material(hosts) -> list[str]:
    """The private key's header and each line of its body: none may appear anywhere."""
    return [line for line in hosts.private_key.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def life(hosts, standin):
    with ssh_agent(hosts) as agent:
        stack = Lifecycle(hosts, standin, agent_socket=agent["socket"])
        yield stack
        stack.close()


@pytest.fixture(scope="module")
def created(life):
    return life.up("up through the agent, debug log", **DEBUG_LOG)


@pytest.fixture(scope="module")
def destroyed(life, created):
    return life.destroy()


def test_up_through_the_agent_succeeds(created, hosts):
    assert created.ok, created.output[-3000:]
    assert sum(created.sessions.values()) > 0, "the remote commands ran over SSH"


def test_the_providers_debug_log_holds_no_key_material(created, key_material):
    assert created.output, "the debug log was captured"
    leaked = [line for line in key_material if line in created.output]
    assert leaked == [], f"key material in the provider's debug log: {leaked[:1]}"


def test_the_state_holds_no_key_material(created, life, key_material):
    state = json.dumps(life.export())
    assert "privateKey" not in state and not [l for l in key_material if l in state], \
        "the state must hold no private key, not even encrypted"


def test_destroy_through_the_agent_succeeds(destroyed):
    assert destroyed.ok, destroyed.output[-3000:]
