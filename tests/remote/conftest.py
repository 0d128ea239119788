"""Fixtures of the remote tier: SSH test hosts (tests/standins/ssh_hosts) and the offline
plan's remote commands run against them (runner.py)."""
from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys

import pytest

from tests import needs
from tests.standins.ssh_hosts import TestHosts
from tests.remote.runner import Engine
from tests.standins.ssh_hosts.hosts import AGENT_PYTHON


def progress(line: str) -> None:
    """Setup takes a while: show it even while pytest captures output."""
    print(f"  {line}", file=sys.__stderr__, flush=True)


def start_hosts(specs) -> TestHosts:
    needs.root("the SSH test hosts (namespaces, sshd)")
    missing = [tool for tool in ("sshd", "sudo", "unshare", "nsenter", "ip", "ssh")
               if not shutil.which(tool, path="/usr/sbin:/usr/bin:/sbin:/bin")]
    if missing:
        pytest.skip(f"{', '.join(missing)} missing (the SSH test hosts): {needs.DEPS}")
    needs.installed(AGENT_PYTHON, "venv-agent (the stand-in Agent runs in it)")
    return TestHosts(specs, progress=progress)


@contextlib.contextmanager
def ssh_agent(hosts: TestHosts):
    """OpenSSH's own ssh-agent on a socket of its own (`ssh-agent -a`), holding the hosts'
    client key (`ssh-add`); yields the socket's path and an environment naming it."""
    socket = hosts.base / "agent.sock"
    started = subprocess.run(["ssh-agent", "-s", "-a", str(socket)], capture_output=True,
                             text=True, check=True)
    pid = int(re.search(r"SSH_AGENT_PID=(\d+)", started.stdout).group(1))
    env = {**os.environ, "SSH_AUTH_SOCK": str(socket)}
    try:
        subprocess.run(["ssh-add", "-q", str(hosts.key_file)], env=env, check=True,
                       capture_output=True)
        yield {"socket": str(socket), "env": env}
    finally:
        os.kill(pid, signal.SIGTERM)


@pytest.fixture(scope="module")
def before(hosts):
    """Each host's files as they were before the stack: what destroy must give back. A module
    with one `host` instead of `hosts` declares its own."""
    return {h.name: h.snapshot() for h in hosts}


@pytest.fixture(scope="module")
def engine():
    """Runs the plan's commands in dependency order, as the engine would (runner.Engine)."""
    return Engine()
