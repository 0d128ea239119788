"""`python -m tools.drift --only hosts` on SSH test hosts the plan's commands deployed to:
vm1 logged in as root, vm2 as a non-root user with `sudo -n`. Each test changes one host
by hand over SSH (as a user with `vi` would), checks the report, and puts the host back."""
from __future__ import annotations

import hashlib
import json
import subprocess

import pytest
import yaml

from agent_files import render
from tests.remote.conftest import start_hosts
from tests.remote.runner import CANARIES, Engine, plan
from tests.standins.ssh_hosts import SUDO_USER, HostSpec
from tools import drift

pytestmark = pytest.mark.remote
ROOT_DIR = render.AGENT_DIR


@pytest.fixture(scope="module")
def deployed(tmp_path_factory):
    """Hosts with the stack deployed; the stack config, deployed hashes and known_hosts
    files tools.drift reads."""
    work = tmp_path_factory.mktemp("drift")
    with start_hosts([HostSpec(user="root"), HostSpec(user=SUDO_USER)]) as hosts:
        commands, settings = plan(hosts, hosts.private_key)
        outcome = Engine().up(commands)
        assert not outcome.failed, [r.error for r in outcome.failed]
        config = yaml.safe_load(open(drift.offline.ROOT / "Pulumi.dev.yaml"))
        config["config"]["datadog-stack:hosts"] = [
            {"name": h.name, "address": h.address, "sshPort": h.port, "sshUser": h.user} for h in hosts]
        (work / "Pulumi.remote.yaml").write_text(yaml.safe_dump(config))
        # What `pulumi stack output hosts --json --show-secrets` holds after this deploy.
        outputs = {h.name: {"fileHashes": {
            f.path: hashlib.sha256(f.content).hexdigest()
            for f in render.agent_files(settings, h_settings, CANARIES["datadog:apiKey"],
                                        CANARIES["datadog-stack:databasePassword"])}}
            for h, h_settings in zip(hosts, settings.hosts)}
        (work / "hashes.json").write_text(json.dumps(outputs))
        (work / "known_hosts").write_text("".join(
            f"[{h.address}]:{h.port} {h.path('/etc/ssh/ssh_host_ed25519_key.pub').read_text()}"
            for h in hosts))
        yield hosts, work


def check(deployed, capsys) -> tuple[int, str]:
    hosts, work = deployed
    code = drift.main(["--config-file", str(work / "Pulumi.remote.yaml"), "--only", "hosts",
                       "--identity", str(hosts.key_file), "--known-hosts", str(work / "known_hosts"),
                       "--hashes", str(work / "hashes.json")])
    return code, capsys.readouterr().out


def on_host(deployed, host, script: str) -> None:
    """A hand change, made over SSH as root."""
    hosts, work = deployed
    prefix = [] if host.user == "root" else ["sudo", "-n"]
    subprocess.run(["ssh", "-p", str(host.port), "-i", str(hosts.key_file), "-o", "BatchMode=yes",
                    "-o", f"UserKnownHostsFile={work / 'known_hosts'}", f"{host.user}@{host.address}",
                    *prefix, "sh", "-c", script], check=True, capture_output=True, timeout=60)


def test_a_freshly_deployed_host_has_no_drift_in_one_session_per_host(deployed, capsys):
    hosts, _ = deployed
    before = {h.name: h.sessions() for h in hosts}
    code, out = check(deployed, capsys)
    assert (code, out) == (0, "host vm1: clean\nhost vm2: clean\n")
    assert {h.name: h.sessions() - before[h.name] for h in hosts} == {"vm1": 1, "vm2": 1}


def test_a_hand_edited_datadog_yaml_is_reported(deployed, capsys):
    hosts, _ = deployed
    vm2 = hosts.hosts[1]
    path = f"{ROOT_DIR}/datadog.yaml"
    on_host(deployed, vm2, f"cp -p {path} /root/keep && echo 'log_level: debug' >> {path}")
    try:
        code, out = check(deployed, capsys)
    finally:
        on_host(deployed, vm2, f"cp -p /root/keep {path}")
    assert code == 1
    assert out == f"host vm1: clean\nhost vm2: DRIFT\n  edited   {path}\n"


def test_a_deleted_check_is_reported(deployed, capsys):
    hosts, _ = deployed
    vm1 = hosts.hosts[0]
    path = render.CHECK_PY
    on_host(deployed, vm1, f"cp -p {path} /root/keep && rm {path}")
    try:
        code, out = check(deployed, capsys)
    finally:
        on_host(deployed, vm1, f"cp -p /root/keep {path}")
    assert code == 1
    assert out == f"host vm1: DRIFT\n  removed  {path}\nhost vm2: clean\n"


def test_a_stray_check_is_reported(deployed, capsys):
    hosts, _ = deployed
    vm1 = hosts.hosts[0]
    stray = f"{ROOT_DIR}/checks.d/custom_random.py"  # the seed's own hand-made check
    on_host(deployed, vm1, f"echo 'import random' > {stray}")
    try:
        code, out = check(deployed, capsys)
    finally:
        on_host(deployed, vm1, f"rm {stray}")
    assert code == 1
    assert out == f"host vm1: DRIFT\n  added    {stray}\nhost vm2: clean\n"


def test_a_host_that_refuses_ssh_is_reported_not_checked(deployed, capsys, tmp_path):
    hosts, work = deployed
    code = drift.main(["--config-file", str(work / "Pulumi.remote.yaml"), "--only", "hosts",
                       "--identity", str(tmp_path / "no-such-key"), "--known-hosts", str(work / "known_hosts")])
    out = capsys.readouterr().out
    assert code == 2
    assert "host vm1: not fully checked\n  SSH failed:" in out
