"""Shared helpers for the Agent tier (venv-agent has no pulumi, so no settings module:
render.py only reads attributes, and these namespaces carry the same ones)."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

from agent_files import render

REPO = Path(__file__).resolve().parents[2]
STANDINS = Path(__file__).resolve().parent / "standins"
API_KEY = "canary-api-key-0123456789abcdef"
PASSWORD = "canary-pw-O'Brien\\\"$x;--"  # quote, backslash, double quote, $, ; and --
HOST = SimpleNamespace(name="vm1", address="127.0.0.1", ssh_port=22, ssh_user="root")


def make_settings(kind: str = "postgres", **overrides) -> SimpleNamespace:
    values = dict(
        stack="dev", env="dev", site="datadoghq.com",
        host_tags=("greeting:hello_datadog_team", "role:database"),
        database=SimpleNamespace(kind=kind, host="localhost",
                                 port=5432 if kind == "postgres" else 3306,
                                 name="postgres" if kind == "postgres" else "mysql",
                                 install=False),
        check_interval=45, logs_enabled=False, install_agent=False,
    )
    values.update(overrides)
    return SimpleNamespace(**values)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_bundle(settings, directory: Path, api_key: str = API_KEY,
                 password: str = PASSWORD) -> Path:
    """Unpack the bundle exactly as AgentHost's copy command does (base64 aside)."""
    directory.mkdir(parents=True, exist_ok=True)
    subprocess.run(["tar", "-xf", "-", "--no-same-owner", "-C", str(directory)],
                   input=render.build_bundle(settings, HOST, api_key, password), check=True)
    return directory


def is_root() -> bool:
    return os.geteuid() == 0


PYTHON = sys.executable
