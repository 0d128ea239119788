"""The `--stack NAME | --config-file PATH` choice of the tools that read a stack's config."""
from __future__ import annotations

import argparse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def add(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--stack", default="dev", help="use Pulumi.<NAME>.yaml (default dev)")
    source.add_argument("--config-file", type=Path, help="use this stack config file")


def resolve(args: argparse.Namespace) -> tuple[Path, str]:
    """(config file, stack name): the file's `Pulumi.<name>.yaml` names the stack."""
    path = args.config_file or ROOT / f"Pulumi.{args.stack}.yaml"
    return path, args.stack if args.config_file is None else path.stem.removeprefix("Pulumi.")
