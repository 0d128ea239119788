"""Every remote command of the plan logs in through a real ssh-agent, with no private key in
config (issue 18, item 6): `sshAgentSocket` set, `sshPrivateKey` unset.

The agent is OpenSSH's own (`ssh-agent -a <socket>`, the client key added with `ssh-add`);
the runner logs in as pulumi-command does with `agentSocketPath` (connection.go `SShConfig`:
the agent's signers, nothing else), so a login works only through that agent.
"""
from __future__ import annotations

import subprocess

import pytest

from tests.remote.conftest import ssh_agent, start_hosts
from tests.remote.runner import plan, ssh
from tests.standins.ssh_hosts import SUDO_USER, HostSpec, diff

pytestmark = pytest.mark.remote


@pytest.fixture(scope="module")
def hosts():
    with start_hosts([HostSpec(user=SUDO_USER)]) as started:
        yield started


@pytest.fixture(scope="module")
def agent(hosts):
    with ssh_agent(hosts) as running:
        yield running


@pytest.fixture(scope="module")
def before(hosts):
    return hosts.hosts[0].snapshot()


@pytest.fixture(scope="module")
def commands(hosts, agent):
    planned, _ = plan(hosts, None, sshAgentSocket=agent["socket"])
    return planned


@pytest.fixture(scope="module")
def first(hosts, before, commands, engine):
    return {"outcome": engine.up(commands), "sessions": hosts.sessions()}


@pytest.fixture(scope="module")
def destroyed(hosts, first, engine):
    return {"outcome": engine.destroy(), "snapshot": hosts.hosts[0].snapshot()}


def test_the_plans_connections_name_the_agent_and_carry_no_key(commands, agent):
    for command in commands:
        assert command.connection.get("agentSocketPath") == agent["socket"], command.name
        assert "privateKey" not in command.connection, f"{command.name} carries a private key"


def test_every_command_of_the_first_up_logs_in_through_the_agent(commands, first):
    assert not first["outcome"].failed, "\n\n".join(r.error for r in first["outcome"].failed)
    assert sorted(first["outcome"].ran()) == sorted(f"create {c.name}" for c in commands)
    assert first["sessions"] == len(commands), "one SSH session per command, each logged in"


def test_destroy_through_the_agent_leaves_the_host_as_it_was(before, destroyed):
    assert not destroyed["outcome"].failed, "\n\n".join(r.error for r in destroyed["outcome"].failed)
    assert diff(before, destroyed["snapshot"]) == {}


def test_without_the_key_in_the_agent_no_command_logs_in(commands, agent, destroyed):
    """The control: the login above used the agent's key, not one found elsewhere."""
    subprocess.run(["ssh-add", "-D"], env=agent["env"], check=True, capture_output=True)
    result = ssh(commands[0], "true", None, "create")
    assert result.exit_code == 255 and "Permission denied" in result.stderr, result.error
