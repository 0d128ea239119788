"""settings.DEFAULTS is the one table of defaults; Pulumi.yaml and the README agree with it."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import yaml

import settings

ROOT = Path(__file__).resolve().parents[2]
PROJECT = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())


def shown(value) -> str:
    """A default as the README and Pulumi.yaml write it."""
    return json.dumps(value) if isinstance(value, (bool, list)) else str(value)


def readme_defaults() -> dict[str, str]:
    """`key` -> default cell of the README's configuration table; `a` / `b` rows split."""
    table = {}
    for keys, default in re.findall(r"^\| (`[^|]+`) \| ([^|]*) \|", (ROOT / "README.md").read_text(), re.M):
        names = re.findall(r"`([^`]+)`", keys)
        values = [v.strip().strip("`") for v in default.split(" / ")] if len(names) > 1 else \
            [default.strip().strip("`")]
        table.update(zip(names, values if len(values) == len(names) else [default] * len(names)))
    return table


def test_the_readme_table_gives_every_default_of_settings():
    table = readme_defaults()
    assert {key: table.get(key) for key in settings.DEFAULTS} == \
        {key: shown(value) for key, value in settings.DEFAULTS.items()}, \
        "the README's configuration table must show settings.DEFAULTS"


def test_the_readme_table_lists_every_key_of_the_stack():
    assert settings.KNOWN_KEYS <= set(readme_defaults()), "a key missing from the README's table"


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
