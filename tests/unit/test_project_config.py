"""Pulumi.yaml and the dev stack as the real engine loads them.

The mock runtime never reads Pulumi.yaml, so these checks use the engine's own rules: the
project schema (project.json) from the Go SDK module of the pinned Pulumi version, and
the stack-config rules of pkg/workspace/config.go (a declared key without a default is
required; a typed key's value must match its type, per ValidateConfigValue).
"""
from __future__ import annotations

import json
import re
import subprocess
from functools import lru_cache
from pathlib import Path

import jsonschema
import pytest
import yaml

import settings
from domain import Settings
from pulumi_config import PulumiConfig
from tests import needs

ROOT = Path(__file__).resolve().parents[2]
PROJECT = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
DEV = yaml.safe_load((ROOT / "Pulumi.dev.yaml").read_text())["config"]
# Keys whose default depends on another value (the stack name, the database kind).
DERIVED = {"env", "databasePort", "databaseName"}


@lru_cache(maxsize=None)
def project_schema() -> dict:
    version = re.search(r"^pulumi==([\d.]+)$", (ROOT / "requirements.txt").read_text(), re.M)[1]
    go = needs.tool("go", "the project schema comes from the Pulumi Go SDK module")
    result = subprocess.run(
        [go, "mod", "download", "-json", f"github.com/pulumi/pulumi/sdk/v3@v{version}"],
        capture_output=True, text=True, timeout=300, cwd="/")
    assert result.returncode == 0, f"the Go module proxy must serve the Pulumi SDK: {result.stderr}"
    module = Path(json.loads(result.stdout)["Dir"])
    return json.loads((module / "go/common/workspace/project.json").read_text())


def matches(type_: str, items: dict | None, value) -> bool:
    """ValidateConfigValue (sdk/go/common/workspace/project.go) on a stack value."""
    if type_ == "string":
        return isinstance(value, str) or (not isinstance(value, (list, dict, bool)))
    if type_ == "integer":
        return (isinstance(value, int) and not isinstance(value, bool)) or \
            (isinstance(value, str) and re.fullmatch(r"[+-]?\d+", value) is not None)
    if type_ == "boolean":
        return isinstance(value, bool) or value in ("true", "false")
    if type_ == "object":
        return isinstance(value, dict)
    if type_ == "array":
        return isinstance(value, list) and all(
            matches(items["type"], items.get("items"), item) for item in value)
    return False


def test_pulumi_yaml_is_a_valid_project_for_the_engine():
    jsonschema.validate(PROJECT, project_schema())


def test_pulumi_yaml_rejects_a_type_the_engine_lacks():
    broken = json.loads(json.dumps(PROJECT))
    broken["config"]["datadog-stack:warningThreshold"]["type"] = "number"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, project_schema())


def test_every_required_project_key_is_set_in_the_dev_stack():
    required = [key for key, spec in PROJECT["config"].items()
                if "default" not in spec and "value" not in spec]
    missing = [key for key in required if key not in DEV]
    assert not missing, f"the engine would fail: Stack 'dev' is missing configuration values {missing}"


@pytest.mark.parametrize("key", sorted(k for k in DEV if k in PROJECT["config"]))
def test_dev_stack_values_have_the_declared_type(key):
    spec = PROJECT["config"][key]
    assert matches(spec["type"], spec.get("items"), DEV[key]), \
        f"the engine would fail: Stack 'dev' with configuration key '{key}' must be of type {spec['type']}"


def load(values: dict) -> Settings:
    import pulumi

    secrets = {key: "x" for key in settings.SECRET_KEYS + settings.PROVIDER_SECRET_KEYS}
    strings = {k: v if isinstance(v, str) else json.dumps(v) for k, v in {**values, **secrets}.items()}
    pulumi.runtime.set_all_config(strings, list(secrets))
    return settings.load(PulumiConfig(), "dev")


# hosts defaults to [] (an account stack lists none: docs/fleet.md), yet the dev stack, of
# role all, must list its hosts: set like a required key.
SET_LIKE_REQUIRED = {f"{settings.NAMESPACE}:hosts"}


def test_engine_applied_defaults_equal_the_programs_own():
    required = {key: DEV[key] for key, spec in PROJECT["config"].items()
                if "default" not in spec or key in SET_LIKE_REQUIRED}
    with_engine_defaults = {**{key: spec["default"] for key, spec in
                               PROJECT["config"].items() if "default" in spec}, **required}
    engine, program = load(with_engine_defaults), load(required)
    assert (engine.thresholds, engine.office_hours, engine.agent, engine.timezone, engine.apm,
            engine.no_data_minutes) == \
        (program.thresholds, program.office_hours, program.agent, program.timezone, program.apm,
         program.no_data_minutes), \
        "the engine fills in Pulumi.yaml's defaults before the program runs: they must equal settings.py's"


def test_every_setting_is_declared_or_derived_or_secret():
    declared = {key.split(":")[1] for key in PROJECT["config"]}
    secrets = {key.split(":")[1] for key in settings.SECRET_KEYS if key.startswith(settings.NAMESPACE)}
    assert settings.KNOWN_KEYS == declared | DERIVED | secrets
