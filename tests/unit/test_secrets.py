"""Canary secrets set in config appear nowhere in plain text: plan inputs, outputs, logs.

(Files rendered by `--render-dir` are checked in test_plan: they hold "[secret]".)
"""
from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from tools.plan import StackConfig, run

DEV = Path(__file__).resolve().parents[2] / "Pulumi.dev.yaml"
CANARIES = {
    "datadog:apiKey": "CANARY-api-key-5f1e0c",
    "datadog:appKey": "CANARY-app-key-9b2d4a",
    "datadog-stack:databasePassword": "CANARY-db-password-O'Hara",
    "datadog-stack:sshPrivateKey": "-----BEGIN OPENSSH PRIVATE KEY-----\nCANARY-ssh\n-----END",
}


@pytest.fixture(scope="module")
def canary_plan():
    config = StackConfig.from_file(DEV)
    config.values.update(CANARIES)
    config.secret_keys = sorted(set(config.secret_keys) | set(CANARIES))
    return run(config, "dev", created=True)


def assert_no_canary(text: str, where: str):
    for key, canary in CANARIES.items():
        for fragment in {canary, canary.splitlines()[1] if "\n" in canary else canary}:
            assert fragment not in text, f"the secret {key} leaked into {where}"


def test_no_secret_in_the_plan_inputs(canary_plan):
    assert_no_canary(json.dumps(canary_plan.resources), "resource inputs")


def test_secret_inputs_reach_the_engine_marked_secret(canary_plan):
    bundle = next(r for r in canary_plan.resources if r["name"] == "vm1-agent-bundle")
    assert bundle["inputs"]["stdin"] == "[secret]", "the Agent bundle carries the API key"
    assert bundle["inputs"]["connection"] == "[secret]", "the connection carries the SSH key"


def test_no_secret_in_the_stack_outputs(canary_plan):
    assert_no_canary(json.dumps(canary_plan.outputs), "stack outputs")


def test_no_secret_in_the_program_logs(caplog, capsys):
    config = StackConfig.from_file(DEV)
    config.values.update(CANARIES)
    config.secret_keys = sorted(set(config.secret_keys) | set(CANARIES))
    with caplog.at_level(logging.DEBUG):
        run(config, "dev", created=True)
    captured = capsys.readouterr()
    assert_no_canary(caplog.text + captured.out + captured.err, "logs")
