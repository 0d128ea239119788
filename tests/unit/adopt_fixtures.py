"""Shared by the adopt tests: a stack config whose host is the seed's, the seed's bodies."""
from __future__ import annotations

import json
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
SEED_HOST = "bens.datadog.application"  # the host of ../shared/seeds/000_*.txt
SEED_OBJECTS = json.loads((Path(__file__).parent / "data" / "seed-objects.json").read_text())


def seed_stack_config(directory: Path, api_url: str | None = None) -> Path:
    """Pulumi.dev.yaml with the seed's host (and the stand-in's URL) as Pulumi.seed.yaml."""
    document = yaml.safe_load((ROOT / "Pulumi.dev.yaml").read_text())
    document["config"]["datadog-stack:hosts"] = [
        {"name": SEED_HOST, "address": "192.0.2.10", "sshPort": 22, "sshUser": "vagrant"}]
    if api_url:
        document["config"]["datadog:apiUrl"] = api_url
    path = directory / "Pulumi.seed.yaml"
    path.write_text(yaml.safe_dump(document))
    return path
