"""Host drift: what the stack installed on a VM against what is there now (pure).

pulumi-command never reads a VM back (pulumi/pulumi-command#20), so an edit made with `vi`
goes unnoticed until the next content change overwrites it. One read-only script per host
(`remote_script`: agent_files/drift_report.sh, its `remote_args` on the command line)
reports every file the stack installs and every file beside them in the directories it
owns; `compare` turns that report into findings.
"""
from __future__ import annotations

import posixpath
from dataclasses import dataclass
from pathlib import Path

from agent_files import render

AGENT_SERVICE = "datadog-agent"
# What the Agent package itself puts beside ours in conf.d/<check>.d: integrations-core
# ships conf.yaml.example and auto_conf.yaml in each check's data/ directory (e.g.
# postgres/datadog_checks/postgres/data/), and some checks a conf.yaml.default.
PACKAGED_SUFFIXES = (".example", ".default")
PACKAGED_NAMES = ("auto_conf.yaml",)
REPORT_SH = Path(render.__file__).parent / "drift_report.sh"


@dataclass(frozen=True)
class Expected:
    sha256: str | None  # None: holds a secret and no deployed hash was given
    mode: int
    owner: str


@dataclass(frozen=True)
class Seen:
    sha256: str
    mode: int
    owner: str


def expected_files(files: tuple[render.AgentFile, ...],
                   deployed_hashes: dict[str, str]) -> dict[str, Expected]:
    """Path -> what the stack installed. Files without a secret are compared with the
    render's bytes; files with one only with the stack's own `fileHashes` output."""
    return {f.path: Expected(deployed_hashes.get(f.path) if f.secret else render.sha256(f.content),
                             f.mode, f.owner)
            for f in files}


def watched_dirs(paths) -> list[str]:
    """The directories where a file the stack did not put is drift: those of its files,
    except the Agent's own /etc/datadog-agent (the package keeps its tokens there)."""
    return sorted({posixpath.dirname(p) for p in paths} - {render.AGENT_DIR})


def remote_script() -> str:
    """The read-only host script, POSIX sh (agent_files/drift_report.sh), sent as `sh -s`'s
    stdin: `F <octal mode> <owner> <sha256> <path>` per file, then `A <state>`."""
    return REPORT_SH.read_text()


def remote_args(paths, dirs, service: str = AGENT_SERVICE) -> list[str]:
    """The script's arguments: the service, the files, `--`, the directories to list."""
    return [service, *paths, "--", *dirs]


def parse_report(text: str) -> tuple[dict[str, Seen], str]:
    """The remote script's output -> (path -> Seen, the Agent service's state)."""
    seen: dict[str, Seen] = {}
    agent = "unknown"
    for line in text.splitlines():
        if line.startswith("F "):
            _, mode, owner, digest, path = line.split(" ", 4)
            seen[path] = Seen(digest, int(mode, 8), owner)
        elif line.startswith("A "):
            agent = line[2:].strip() or "unknown"
    return seen, agent


def _packaged(path: str) -> bool:
    name = posixpath.basename(path)
    return name.endswith(PACKAGED_SUFFIXES) or name in PACKAGED_NAMES


def compare(expected: dict[str, Expected], seen: dict[str, Seen], agent: str) -> list[str]:
    """Findings, one line each: edited / removed / mode / owner / added, then the Agent."""
    findings = []
    for path, want in sorted(expected.items()):
        have = seen.get(path)
        if have is None:
            findings.append(f"removed  {path}")
            continue
        if want.sha256 is not None and have.sha256 != want.sha256:
            findings.append(f"edited   {path}")
        if have.mode != want.mode:
            findings.append(f"mode     {path}: {have.mode:04o}, the stack set {want.mode:04o}")
        if have.owner != want.owner:
            findings.append(f"owner    {path}: {have.owner}, the stack set {want.owner}")
    for path in sorted(set(seen) - set(expected)):
        if not _packaged(path):
            findings.append(f"added    {path}")
    if agent != "active":
        findings.append(f"agent    {AGENT_SERVICE} is not running ({agent})")
    return findings


def unchecked(expected: dict[str, Expected]) -> list[str]:
    """Files whose content could not be compared (a secret, no deployed hash)."""
    return sorted(p for p, e in expected.items() if e.sha256 is None)
