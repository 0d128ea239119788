"""Shared helpers for the Agent tier: the dev stack's real settings, read without a Pulumi
runtime (venv-agent has none; settings and the renderers import no Pulumi SDK)."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path
from dataclasses import replace

import settings as stack_settings
from agent_files import render
from domain import AgentSettings, Host
from tools.plan import StackConfig

REPO = Path(__file__).resolve().parents[2]
STANDINS = Path(__file__).resolve().parent / "standins"
API_KEY = "canary-api-key-0123456789abcdef"
PASSWORD = "canary-pw-O'Brien\\\"$x;--"  # quote, backslash, double quote, $, ; and --
HOST = Host(name="vm1", address="127.0.0.1", ssh_port=22, ssh_user="root")


def make_settings(kind: str = "postgres", **overrides) -> AgentSettings:
    """The dev stack's Agent settings (what the files are rendered from) for a database
    kind, with attributes replaced."""
    config = StackConfig.from_file(REPO / "Pulumi.dev.yaml")
    config.values.update({"datadog-stack:databaseKind": kind,
                          "datadog-stack:databaseName": "postgres" if kind == "postgres" else "mysql"})
    return replace(stack_settings.load(config, "dev").agent, **overrides)


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
