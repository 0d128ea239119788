"""settings.DEFAULTS is the one table of defaults; Pulumi.yaml agrees with it (and
docs/configuration.md is generated from both: tests/unit/test_config_reference.py)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml

import settings

ROOT = Path(__file__).resolve().parents[2]
PROJECT = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())


def shown(value) -> str:
    """A default as Pulumi.yaml writes it."""
    return json.dumps(value) if isinstance(value, (bool, list)) else str(value)


def test_pulumi_yaml_declares_a_default_exactly_for_the_keys_that_have_one():
    declared = {key.partition(":")[2]: spec["default"] for key, spec in PROJECT["config"].items()
                if "default" in spec}
    assert {key: shown(value) for key, value in declared.items()} == \
        {key: shown(value) for key, value in settings.DEFAULTS.items()}, \
        "Pulumi.yaml's defaults (the engine fills them in) must be settings.DEFAULTS"


def test_settings_and_rules_import_no_pulumi_sdk():
    # The Agent's venv and the VM-side code use the settings types and the rules as they are.
    rules = sorted(f"rules.{path.stem}" for path in (ROOT / "rules").glob("*.py")
                   if path.stem != "__init__")
    code = f"import sys, settings, {', '.join(rules)}; sys.exit('pulumi' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT).returncode == 0, \
        "settings or a rule imports the Pulumi SDK"


def test_the_domain_types_default_as_settings_defaults_say():
    import dataclasses

    import domain
    fields = {f.name: f.default for f in dataclasses.fields(domain.Settings)}
    assert fields["catalog_dir"] == settings.DEFAULTS["catalogDir"], (
        "domain.Settings.catalog_dir's default must be settings.DEFAULTS['catalogDir']")
    assert fields["ssh_agent_socket"] == settings.DEFAULTS["sshAgentSocket"], (
        "domain.Settings.ssh_agent_socket's default must be settings.DEFAULTS['sshAgentSocket']")
