"""Drift on both sides: hand edits on the VMs and in Datadog since the stack deployed.

    python -m tools.drift [--stack NAME | --config-file PATH] [--identity KEY_FILE]
                          [--known-hosts FILE] [--hashes FILE] [--only hosts|datadog]

Host side: ONE read-only SSH session per host (OpenSSH `ssh`, in parallel) compares the
Agent's files (bytes, mode, owner) with the offline render, reports what was edited,
removed or added in the directories the stack owns, and whether the Agent is running.
Files holding a secret (datadog.yaml, the database integration) are compared with the
stack's `fileHashes` output: `--hashes FILE` (the JSON of `pulumi stack output hosts
--json --show-secrets`), else read with the pulumi CLI when there is one; without either
their content is left unchecked, and said so. Hashes are compared, never printed.
Datadog side: `pulumi preview --refresh --json`, summarised per resource that `pulumi up`
would change; skipped with one line without a pulumi CLI.

Exit 0: no drift; 1: drift (listed); 2: something could not be checked, no drift seen.
"""
from __future__ import annotations

import argparse
import json
import shlex
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from agent_files import render
from rules import drift as rules
from tools import plan as offline
from tools import stack_args

SSH_TIMEOUT = 60  # seconds for one host's whole session


def ssh_command(host, identity: Path | None, known_hosts: Path | None,
                script_args: list[str]) -> list[str]:
    """`ssh` that never prompts: key login only, the host key checked against known_hosts;
    the remote `sh -s` reads the script on stdin, `script_args` quoted for the remote shell."""
    cmd = ["ssh", "-p", str(host.ssh_port), "-o", "BatchMode=yes", "-o", "ConnectTimeout=15"]
    if identity:
        cmd += ["-i", str(identity), "-o", "IdentitiesOnly=yes"]
    if known_hosts:
        cmd += ["-o", f"UserKnownHostsFile={known_hosts}", "-o", "StrictHostKeyChecking=yes"]
    remote = shlex.join(["sh", "-s", "--", *script_args])
    if host.ssh_user != "root":
        remote = f"sudo -n {remote}"
    return cmd + [f"{host.ssh_user}@{host.address}", remote]


def check_host(settings, host, hashes: dict[str, str], identity, known_hosts) -> tuple[list[str], list[str]]:
    """(findings, problems) of one host, from one SSH session."""
    files = render.agent_files(settings.agent, host, offline.SECRET, offline.SECRET)
    expected = rules.expected_files(files, hashes)
    script_args = rules.remote_args(sorted(expected), rules.watched_dirs(expected))
    try:
        proc = subprocess.run(ssh_command(host, identity, known_hosts, script_args),
                              input=rules.remote_script(),
                              capture_output=True, text=True, timeout=SSH_TIMEOUT)
    except subprocess.TimeoutExpired:
        return [], [f"no answer over SSH within {SSH_TIMEOUT} s"]
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or [f"exit {proc.returncode}"])[-1]
        return [], [f"SSH failed: {last}"]
    seen, agent = rules.parse_report(proc.stdout)
    problems = [f"content not compared (holds a secret, no deployed hash): {p}"
                for p in rules.unchecked(expected)]
    return rules.compare(expected, seen, agent), problems


def deployed_hashes(stack: str, hashes_file: Path | None) -> dict[str, dict[str, str]] | None:
    """Host -> path -> sha256 the stack deployed, from a file or the pulumi CLI; None if neither."""
    if hashes_file:
        outputs = json.loads(hashes_file.read_text())
    elif shutil.which("pulumi"):
        proc = subprocess.run(["pulumi", "stack", "output", "hosts", "--json", "--show-secrets",
                               "--stack", stack], cwd=offline.ROOT, capture_output=True, text=True)
        if proc.returncode != 0:
            return None
        outputs = json.loads(proc.stdout)
    else:
        return None
    return {name: dict(host.get("fileHashes") or {}) for name, host in outputs.items()}


def summarize_preview(document: dict) -> list[str]:
    """`pulumi preview --refresh --json` -> one line per resource `pulumi up` would change."""
    lines = []
    for step in document.get("steps", []):
        op = step.get("op")
        if op in ("same", "read", "refresh"):
            continue
        urn = step.get("urn", "")
        name, type_ = urn.rsplit("::", 1)[-1], urn.rsplit("::", 2)[-2].rsplit("$", 1)[-1]
        if op == "create":
            why = "gone (deleted outside the stack?); `pulumi up` recreates it"
        else:
            keys = step.get("diffReasons") or step.get("replaceReasons") or []
            why = "changed outside the stack: " + (", ".join(keys) or "see pulumi preview --diff")
        lines.append(f"{op:<8} {name} ({type_}): {why}")
    return lines


def check_datadog(stack: str) -> tuple[list[str], list[str]]:
    if not shutil.which("pulumi"):
        return [], ["skipped: no pulumi CLI on PATH"]
    proc = subprocess.run(["pulumi", "preview", "--refresh", "--json", "--non-interactive",
                           "--stack", stack], cwd=offline.ROOT, capture_output=True, text=True)
    try:
        document = json.loads(proc.stdout)
    except json.JSONDecodeError:
        last = (proc.stderr.strip().splitlines() or [f"exit {proc.returncode}"])[-1]
        return [], [f"pulumi preview --refresh failed: {last}"]
    return summarize_preview(document), []


def check_hosts(stack: str, config_path: Path, args) -> list[tuple[str, list[str], list[str]]]:
    """(title, findings, problems) per host, all hosts at once."""
    settings = offline.run(offline.StackConfig.from_file(config_path), stack).settings
    hashes = deployed_hashes(stack, args.hashes) or {}
    with ThreadPoolExecutor(max_workers=min(16, len(settings.hosts))) as pool:
        results = list(pool.map(lambda h: check_host(settings, h, hashes.get(h.name, {}),
                                                     args.identity, args.known_hosts),
                                settings.hosts))
    return [(f"host {h.name}", *r) for h, r in zip(settings.hosts, results)]


def run(stack: str, config_path: Path, args) -> int:
    sections = [] if args.only == "datadog" else check_hosts(stack, config_path, args)
    if args.only != "hosts":
        sections.append(("datadog", *check_datadog(stack)))
    drifted = unchecked = False
    for title, findings, problems in sections:
        state = "DRIFT" if findings else ("not fully checked" if problems else "clean")
        print(f"{title}: {state}")
        for line in findings + problems:
            print(f"  {line}")
        drifted |= bool(findings)
        unchecked |= bool(problems)
    return 1 if drifted else (2 if unchecked else 0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.drift", description=__doc__.split("\n\n")[0])
    stack_args.add(parser)
    parser.add_argument("--identity", type=Path, help="SSH private key file (default: ssh's own)")
    parser.add_argument("--known-hosts", type=Path, help="check host keys against this file only")
    parser.add_argument("--hashes", type=Path, help="JSON of `pulumi stack output hosts --json --show-secrets`")
    parser.add_argument("--only", choices=("hosts", "datadog"), help="check one side only")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    path, stack = stack_args.resolve(args)
    from settings import ConfigError

    try:
        if not path.is_file():
            raise FileNotFoundError(f"no stack config file {path}")
        return run(stack, path, args)
    except ConfigError as error:
        print(f"error: invalid configuration: {error}", file=sys.stderr)
    except (OSError, json.JSONDecodeError) as error:
        print(f"error: {error}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
