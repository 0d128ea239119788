"""The stack deployed on SSH test hosts, and the files `tools.drift` reads about them:
shared by tests/remote/test_drift_hosts.py and tests/bench/drift.py."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import yaml

from agent_files import render
from tests.remote.runner import CANARIES, Engine, plan

ROOT = Path(__file__).resolve().parents[2]


def deploy(hosts, work: Path) -> list[str]:
    """Run the plan's Agent commands on `hosts`; write Pulumi.remote.yaml, hashes.json (what
    `pulumi stack output hosts --json --show-secrets` holds after this deploy) and
    known_hosts into `work`. Returns tools.drift's arguments for them."""
    commands, settings = plan(hosts, hosts.private_key)
    # The Agent's commands only: drift checks the Agent's files (and the app's deploy needs
    # PyPI, which the hosts' private network cannot reach).
    agent = {f"{h.name}-agent" for h in hosts}
    outcome = Engine().up([c for c in commands if c.name.rsplit("-", 1)[0] in agent])
    if outcome.failed:
        raise RuntimeError("deploy failed: " + "; ".join(r.error for r in outcome.failed))
    config = yaml.safe_load((ROOT / "Pulumi.dev.yaml").read_text())
    config["config"]["datadog-stack:hosts"] = [
        {"name": h.name, "address": h.address, "sshPort": h.port, "sshUser": h.user} for h in hosts]
    (work / "Pulumi.remote.yaml").write_text(yaml.safe_dump(config))
    secrets = (CANARIES["datadog:apiKey"], CANARIES["datadog-stack:databasePassword"])
    (work / "hashes.json").write_text(json.dumps({
        host.name: {"fileHashes": {f.path: hashlib.sha256(f.content).hexdigest()
                                   for f in render.agent_files(settings.agent, host, *secrets)}}
        for host in settings.hosts}))
    (work / "known_hosts").write_text("".join(
        f"[{h.address}]:{h.port} {h.path('/etc/ssh/ssh_host_ed25519_key.pub').read_text()}"
        for h in hosts))
    return ["--config-file", str(work / "Pulumi.remote.yaml"), "--only", "hosts",
            "--identity", str(hosts.key_file), "--known-hosts", str(work / "known_hosts"),
            "--hashes", str(work / "hashes.json")]
