"""Pulumi.dev.yaml is committed in the form the engine writes, so that a user's first
`pulumi config set --secret` adds only the secret's lines to `git diff` (issue 24).

The engine reads every scalar config value as a string and writes it back as one (`500`
becomes `"500"`, `false` becomes `"false"`), keeps lists and objects structured with their
numbers, and keeps the file's comments and key order, appending new keys at the end
(pulumi/pulumi sdk/go/common/resource/config/value.go `unmarshalValue` and `marshalValue`;
sdk/go/common/util/yamlutil/edit.go `Edit`, `handleMappingNode`). The checks below that run
config_set/ run that code itself, from the SDK module of the version requirements.txt pins.
"""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

import settings
from tests import needs

ROOT = Path(__file__).resolve().parents[2]
DEV = ROOT / "Pulumi.dev.yaml"
HARNESS = Path(__file__).resolve().parent / "config_set"


@pytest.fixture(scope="session")
def config_set(tmp_path_factory):
    """The SDK's load / Config.Set / Save as a command: config_set(KEY...) -> the file's text."""
    go = needs.tool("go", "config_set/ runs the Pulumi SDK's own code")
    binary = tmp_path_factory.mktemp("config-set") / "config-set"
    build = subprocess.run([go, "build", "-o", str(binary), "."], cwd=HARNESS,
                           capture_output=True, text=True, timeout=600)
    assert build.returncode == 0, \
        f"config_set/ must build (Go >= its go.mod's, the SDK from the module proxy): {build.stderr}"

    def run(*keys: str) -> str:
        done = subprocess.run([str(binary), str(DEV), *keys], capture_output=True, text=True,
                              timeout=60)
        assert done.returncode == 0, done.stderr
        return done.stdout

    return run


def test_the_harness_runs_the_sdk_version_the_program_pins():
    program = re.search(r"^pulumi==([\d.]+)$", (ROOT / "requirements.txt").read_text(), re.M)[1]
    harness = re.search(r"github.com/pulumi/pulumi/sdk/v3 v([\d.]+)$",
                        (HARNESS / "go.mod").read_text(), re.M)[1]
    assert harness == program, \
        "config_set/go.mod must pin the Pulumi SDK requirements.txt pins (bump both together)"


def test_every_scalar_in_the_dev_stack_is_a_string_as_the_engine_writes_it():
    config = yaml.safe_load(DEV.read_text())["config"]
    rewritten = sorted(key for key, value in config.items()
                       if not isinstance(value, (str, list, dict)))
    assert not rewritten, \
        f"the engine rewrites {rewritten} as strings on the first `pulumi config set`: quote them"


def test_a_config_set_leaves_the_dev_stack_byte_for_byte_as_committed(config_set):
    assert config_set() == DEV.read_text(), \
        "the engine's save must not rewrite a value, a comment or the key order"


def test_setting_the_secrets_adds_only_their_lines(config_set):
    secrets = settings.SECRET_KEYS + settings.PROVIDER_SECRET_KEYS
    before = DEV.read_text().splitlines()
    after = config_set(*secrets).splitlines()
    assert after[:len(before)] == before, "setting a secret must not rewrite the lines before it"
    added = yaml.safe_load("\n".join(["config:", *after[len(before):]]))["config"]
    assert sorted(added) == sorted(secrets) and all(set(v) == {"secure"} for v in added.values()), \
        "the lines added are the secrets' own, each an encrypted `secure:` value"
