"""Render docs/configuration.md from Pulumi.yaml's `config:` block and settings.DEFAULTS.

    python -m tools.config_reference           # (re)write docs/configuration.md (make docs)
    python -m tools.config_reference --check   # exit 1 when the committed page is stale

Each key is described in exactly one place. A key Pulumi.yaml declares takes its type,
default and description from there (its default is settings.DEFAULTS', which the unit
tests keep equal). The keys Pulumi.yaml cannot declare are described in `UNDECLARED`
below, each with the reason: a declared key without a default is required by the engine,
so keys whose default follows other values, the secrets (a declared secret cannot have a
default and would have to be set in every stack file) and the Datadog provider's keys
live here instead. `tests/unit/test_config_reference.py` checks that the two together
cover every key settings.py reads, once.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, NamedTuple

import yaml

import settings

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "configuration.md"
COMMAND = "make docs"


class Key(NamedTuple):
    type: str
    default: str  # as the page shows it; "(required)" when there is none
    description: str


def _sites() -> str:
    return ", ".join(f"`{site}`" for site in settings.SITES)


# Keys settings.py reads that Pulumi.yaml does not declare (see the module's docstring).
UNDECLARED: dict[str, Key] = {
    f"{settings.NAMESPACE}:env": Key(
        "string", "the stack name",
        "`env` tag of the hosts, the APM service and the Datadog objects; lowercase letters, "
        "digits, `-` and `_`, up to 63 characters (not declared: its default is the stack name)"),
    f"{settings.NAMESPACE}:databasePort": Key(
        "integer", ", ".join(f"`{port}` for {kind}" for kind, port in settings.DATABASE_KINDS.items()),
        "port of the database server on each VM, 1-65535, not apmPort (not declared: its "
        "default follows databaseKind)"),
    f"{settings.NAMESPACE}:databaseName": Key(
        "string", ", ".join(f"`{kind}` for {kind}" for kind in settings.DATABASE_KINDS),
        "database the integration connects to; the same characters as `env` (not declared: "
        "its default follows databaseKind)"),
    f"{settings.NAMESPACE}:databasePassword": Key(
        "secret", "(required)", "password of the `datadog` database user the stack creates: not empty, no NUL, "
        "no trailing line break; with `databaseKind: mysql` Latin-1 only (the Agent's driver, "
        "PyMySQL, sends a str password as Latin-1), any Unicode with postgres"),
    f"{settings.NAMESPACE}:sshPrivateKey": Key(
        "secret", "(required)", "private key for SSH to every host (`< ~/.ssh/id_ed25519`): the key's text, not a path "
        "or a public key"),
    "datadog:apiKey": Key(
        "secret", "(required)", "Datadog API key: the provider's, and `api_key` in each "
        "VM's datadog.yaml; visible ASCII without whitespace"),
    "datadog:appKey": Key(
        "secret", "(required)", "Datadog application key (the provider's; checked early "
        "so a missing one fails before any resource); visible ASCII without whitespace"),
    "datadog:validate": Key(
        "boolean", "`true`", "whether the provider checks the keys at start-up and each "
        "monitor query with Datadog; the dev stack sets false so an offline preview makes "
        "no network call, and the monitor's own `validate` input follows it"),
    "datadog:apiUrl": Key(
        "string", "`https://api.<site>/`", "the provider's API endpoint; set it to "
        f"`https://api.<site>/` for any site but `datadoghq.com` (sites: {_sites()}); "
        "it must agree with `site` (a loopback URL, a local stand-in, is accepted)"),
}


def shown(value: Any) -> str:
    """A default as Pulumi.yaml writes it: JSON for booleans and lists."""
    return json.dumps(value) if isinstance(value, (bool, list)) else str(value)


def declared(project: dict) -> dict[str, Key]:
    keys = {}
    for key, spec in project["config"].items():
        type_ = spec["type"] + (f" of {spec['items']['type']}" if "items" in spec else "")
        name = key.partition(":")[2]
        default = f"`{shown(settings.DEFAULTS[name])}`" if name in settings.DEFAULTS else "(required)"
        keys[key] = Key(type_, default, spec.get("description", ""))
    return keys


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _table(keys: dict[str, Key]) -> list[str]:
    lines = ["| Key | Type | Default | Description |", "| --- | --- | --- | --- |"]
    for key, spec in keys.items():
        lines.append(f"| `{key}` | {_cell(spec.type)} | {_cell(spec.default)} | "
                     f"{_cell(spec.description)} |")
    return lines


def render(project: dict) -> str:
    """The page's text, from the project file's config block and settings."""
    stack = {**declared(project),
             **{k: v for k, v in UNDECLARED.items() if k.startswith(f"{settings.NAMESPACE}:")}}
    ordered = dict(sorted(stack.items(), key=lambda item: list(project["config"]).index(item[0])
                          if item[0] in project["config"] else len(project["config"])))
    provider = {k: v for k, v in UNDECLARED.items() if k.startswith("datadog:")}
    lines = [
        "# Configuration reference",
        "",
        f"<!-- Generated by `python -m tools.config_reference` ({COMMAND}) from Pulumi.yaml's",
        "     `config:` block and settings.py: edit those, then regenerate. -->",
        "",
        "Set a key with `pulumi config set <key> <value>` (a secret with `--secret`); a list",
        "with `pulumi config set --path '<key>[0]' <value>`, or edit the stack file. Every key",
        "is read and validated once, in `settings.py`, before any resource is declared: a bad",
        "value stops the program with one line naming the key and what is wrong.",
        "",
        "Every value either works exactly on the VM or is refused up front: each description",
        "says what is accepted. Names and ports a VM already owns are refused (the Agent's, the",
        "database servers', sshd's, systemd's, Debian's base units and system users; ports below",
        "1024, `databasePort` and the Agent's own ports), and so are MySQL passwords outside",
        "Latin-1, which the Agent's driver (PyMySQL) cannot send.",
        "",
        f"## The stack's keys (`{settings.NAMESPACE}:`)",
        "",
        *_table(ordered),
        "",
        f"A key in the `{settings.NAMESPACE}` namespace that is not in this table is refused (a",
        "typo would otherwise fall back to a default), and so is a secret stored in plain text",
        "in the stack file. Pulumi.yaml declares each key with its type and default as the",
        "engine checks them; `env`, `databasePort` and `databaseName` are left undeclared",
        "because their defaults depend on other values, and the secrets because a declared",
        "key without a default would be required in every stack file, offline ones too.",
        "Thresholds are strings in Pulumi.yaml (Pulumi has no number type); `settings.py`",
        "parses and checks them.",
        "",
        "## The Datadog provider's keys (`datadog:`)",
        "",
        *_table(provider),
        "",
    ]
    return "\n".join(lines)


def current() -> str:
    return render(yaml.safe_load((ROOT / "Pulumi.yaml").read_text()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="exit 1 if the committed page differs from a fresh render")
    args = parser.parse_args(argv)
    text = current()
    if args.check:
        if not PAGE.exists() or PAGE.read_text() != text:
            print(f"{PAGE.relative_to(ROOT)} is stale: run `{COMMAND}`", file=sys.stderr)
            return 1
        return 0
    PAGE.parent.mkdir(exist_ok=True)
    PAGE.write_text(text)
    print(f"wrote {PAGE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
