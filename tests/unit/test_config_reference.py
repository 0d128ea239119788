"""docs/configuration.md is generated from Pulumi.yaml and settings.py, and kept fresh."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

import settings
from tools import config_reference

ROOT = Path(__file__).resolve().parents[2]
PROJECT = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())


def page_rows(text: str) -> dict[str, tuple[str, str]]:
    """`key` -> (default cell, description cell) of every table row on the page."""
    return {key: (default.strip(), description.strip()) for key, default, description in
            re.findall(r"^\| `([^`]+)` \| [^|]* \| ([^|]*) \| (.*) \|$", text, re.M)}


def keys_settings_reads() -> set[str]:
    """Every full key settings.py reads: its own namespace's and the provider's it names."""
    source = (ROOT / "settings.py").read_text()
    provider = set(re.findall(r'"(datadog:[A-Za-z]+)"', source))
    return {f"{settings.NAMESPACE}:{key}" for key in settings.KNOWN_KEYS} | provider | \
        set(settings.SECRET_KEYS) | set(settings.PROVIDER_SECRET_KEYS)


def test_the_committed_configuration_page_is_fresh():
    assert (ROOT / "docs/configuration.md").read_text() == config_reference.current(), \
        "docs/configuration.md is stale: run `make docs` (python -m tools.config_reference)"


def test_every_key_settings_reads_is_described_in_exactly_one_place():
    declared, undeclared = set(PROJECT["config"]), set(config_reference.UNDECLARED)
    assert not declared & undeclared, \
        f"{sorted(declared & undeclared)} described twice: in Pulumi.yaml and in UNDECLARED"
    assert declared | undeclared == keys_settings_reads(), \
        "the configuration page must describe every key settings.py reads, and no other"


def test_the_page_lists_every_key_settings_reads():
    rows = page_rows(config_reference.current())
    missing = keys_settings_reads() - set(rows)
    assert not missing, f"docs/configuration.md lacks {sorted(missing)}"


@pytest.mark.parametrize("key", sorted(settings.DEFAULTS))
def test_the_page_shows_the_default_settings_applies(key):
    default, _ = page_rows(config_reference.current())[f"{settings.NAMESPACE}:{key}"]
    assert default == f"`{config_reference.shown(settings.DEFAULTS[key])}`", \
        f"{key}: the configuration page must show settings.DEFAULTS' value"


@pytest.mark.parametrize("key", sorted(PROJECT["config"]))
def test_the_page_carries_pulumi_yamls_description(key):
    _, description = page_rows(config_reference.current())[key]
    expected = " ".join(PROJECT["config"][key]["description"].split()).replace("|", "\\|")
    assert description == expected, f"{key}: the page's description must be Pulumi.yaml's"


def test_a_stale_page_is_reported_with_the_command_to_run(monkeypatch, capsys):
    monkeypatch.setattr(config_reference, "PAGE", ROOT / "docs" / "no-such-page.md")
    assert config_reference.main(["--check"]) == 1, "--check must fail on a missing page"
    assert "run `make docs`" in capsys.readouterr().err, "the failure names the command to run"
