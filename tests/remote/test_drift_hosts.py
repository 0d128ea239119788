"""`python -m tools.drift --only hosts` on SSH test hosts the plan's commands deployed to:
vm1 logged in as root, vm2 as a non-root user with `sudo -n`. Each test changes one host
by hand over SSH (as a user with `vi` would), checks the report, and puts the host back."""
from __future__ import annotations

import shlex
import subprocess

import pytest

from agent_files import render
from tests.remote.conftest import start_hosts
from tests.remote.drift_setup import deploy
from tests.standins.ssh_hosts import SUDO_USER, HostSpec
from tools import drift

pytestmark = pytest.mark.remote
ROOT_DIR = render.AGENT_DIR


@pytest.fixture(scope="module")
def deployed(tmp_path_factory):
    work = tmp_path_factory.mktemp("drift")
    with start_hosts([HostSpec(user="root"), HostSpec(user=SUDO_USER)]) as hosts:
        yield hosts, work, deploy(hosts, work)


def check(deployed, capsys) -> tuple[int, str]:
    code = drift.main(deployed[2])
    return code, capsys.readouterr().out


def on_host(deployed, host, script: str) -> None:
    """A hand change, made over SSH as root."""
    hosts, work, _ = deployed
    sudo = "" if host.user == "root" else "sudo -n "
    subprocess.run(["ssh", "-p", str(host.port), "-i", str(hosts.key_file), "-o", "BatchMode=yes",
                    "-o", f"UserKnownHostsFile={work / 'known_hosts'}", f"{host.user}@{host.address}",
                    f"{sudo}sh -c {shlex.quote(script)}"], check=True, capture_output=True, timeout=60)


def test_a_freshly_deployed_host_has_no_drift_in_one_session_per_host(deployed, capsys):
    hosts = deployed[0]
    before = {h.name: h.sessions() for h in hosts}
    code, out = check(deployed, capsys)
    assert (code, out) == (0, "host vm1: clean\nhost vm2: clean\n")
    assert {h.name: h.sessions() - before[h.name] for h in hosts} == {"vm1": 1, "vm2": 1}


def check_after(deployed, capsys, index: int, change: str, undo: str) -> tuple[int, str]:
    """tools.drift's report while host `index` carries a hand change; the host put back after."""
    host = deployed[0].hosts[index]
    on_host(deployed, host, change)
    try:
        return check(deployed, capsys)
    finally:
        on_host(deployed, host, undo)


def test_a_hand_edited_datadog_yaml_is_reported(deployed, capsys):
    path = f"{ROOT_DIR}/datadog.yaml"
    assert check_after(deployed, capsys, 1, f"cp -p {path} /root/keep && echo 'log_level: debug' >> {path}",
                       f"cp -p /root/keep {path}") == (1, f"host vm1: clean\nhost vm2: DRIFT\n  edited   {path}\n")


def test_a_deleted_check_is_reported(deployed, capsys):
    path = render.CHECK_PY
    assert check_after(deployed, capsys, 0, f"cp -p {path} /root/keep && rm {path}",
                       f"cp -p /root/keep {path}") == (1, f"host vm1: DRIFT\n  removed  {path}\nhost vm2: clean\n")


def test_a_stray_check_is_reported(deployed, capsys):
    stray = f"{ROOT_DIR}/checks.d/custom_random.py"  # the seed's own hand-made check
    assert check_after(deployed, capsys, 0, f"echo 'import random' > {stray}",
                       f"rm {stray}") == (1, f"host vm1: DRIFT\n  added    {stray}\nhost vm2: clean\n")


def test_a_host_that_refuses_ssh_is_reported_not_checked(deployed, capsys, tmp_path):
    args = deployed[2]
    args = args[:args.index("--identity") + 1] + [str(tmp_path / "no-such-key")] + args[args.index("--identity") + 2:]
    code = drift.main(args)
    out = capsys.readouterr().out
    assert code == 2
    assert "host vm1: not fully checked\n  SSH failed:" in out
