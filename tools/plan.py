"""The offline plan: run the program under the Pulumi SDK's mock runtime and print
every resource it declares, with no CLI, no account and no network.

    python -m tools.plan [--stack NAME | --config-file PATH] [--json] [--render-dir DIR]

`--render-dir DIR` also writes every file each host would receive at
DIR/<host>/<absolute path on the VM>, secrets replaced by "[secret]". Secret values, whether `secure:` in the stack file or absent from it, print as
"[secret]"; values only known after creation print as "[unknown]". Bad config exits 2
with the settings' one-line error on stderr.
"""
from __future__ import annotations

import argparse
import json
import sys
import zlib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
PROJECT = "datadog-stack"
SECRET = "[secret]"
UNKNOWN = "[unknown]"


@dataclass
class Plan:
    stack: str
    resources: list[dict[str, Any]] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    settings: Any = None

    def as_json(self) -> dict[str, Any]:
        return {"stack": self.stack, "resources": self.resources, "outputs": self.outputs}


class StackConfig:
    """A stack's config as the engine hands it to the program: strings, JSON for objects.

    Also a `settings.ConfigSource` of its own, for code that validates settings without a
    Pulumi runtime (the Agent tier's venv has none); secrets are then plain strings."""

    def __init__(self, values: dict[str, str], secret_keys: list[str]):
        self.values = values
        self.secret_keys = secret_keys

    def get(self, key: str) -> str | None:
        return self.values.get(key)

    def is_secret(self, key: str) -> bool:
        return key in self.secret_keys

    def secret(self, key: str) -> str | None:
        return self.values.get(key)

    @classmethod
    def from_file(cls, path: Path) -> "StackConfig":
        document = yaml.safe_load(path.read_text()) or {}
        config = document.get("config") if isinstance(document, dict) else None
        if not isinstance(config or {}, dict):
            raise yaml.YAMLError("`config` must be a mapping of key: value")
        values: dict[str, str] = {}
        secret_keys: list[str] = []
        for key, value in (config or {}).items():
            if isinstance(value, dict) and set(value) == {"secure"}:
                values[key], secret_keys = SECRET, secret_keys + [key]
            else:
                values[key] = value if isinstance(value, str) else json.dumps(value)
        from settings import NAMESPACE, PROVIDER_SECRET_KEYS, SECRET_KEYS  # the secrets required

        # A stack that logs in through an ssh-agent has no private key to stand in for.
        agent = bool(values.get(f"{NAMESPACE}:sshAgentSocket"))
        for key in SECRET_KEYS + PROVIDER_SECRET_KEYS:
            if agent and key == f"{NAMESPACE}:sshPrivateKey":
                continue
            if key not in values:
                values[key], secret_keys = SECRET, secret_keys + [key]
        return cls(values, secret_keys)


def _clean(value: Any, mask: bool = True) -> Any:
    """Wire values -> plain JSON, unknowns marked, secrets masked (or unwrapped)."""
    from tools import mock_engine  # the SDK's wire markers, imported, not copied

    if isinstance(value, dict):
        if mock_engine.is_secret(value):
            return SECRET if mask else _clean(value.get("value"), mask)
        return {key: _clean(item, mask) for key, item in sorted(value.items())}
    if isinstance(value, list):
        return [_clean(item, mask) for item in value]
    if value == mock_engine.UNKNOWN:
        return UNKNOWN
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def run(config: StackConfig, stack: str, created: bool = False, mask: bool = True,
        now: datetime | None = None, stack_outputs: dict[str, dict] | None = None) -> Plan:
    """Run the program under mocks; raises settings.ConfigError on bad config.

    `created=False` is a preview of a new stack (ids unknown); `created=True` is an
    `up`, with stable made-up ids, so tests can check what derives from them.
    `mask=False` keeps secret input values, so tests can diff what the engine would
    (the CLI always masks). `now` is the program's clock (default: program.clock(), the
    real time or DATADOG_STACK_NOW). `stack_outputs`: what a StackReference reads, by the
    referenced stack's name (a `hosts` stack's account stack: its plan's `outputs`).
    """
    import pulumi

    import settings
    from tools import mock_engine
    from pulumi_config import PulumiConfig

    plan = Plan(stack=stack)
    urn_names: dict[str, str] = {}

    class Recorder(mock_engine.RecordingMonitor):
        def RegisterResource(self, request):
            response = super().RegisterResource(request)
            # The stack itself is no one's parent in the plan: top level shows as null.
            if request.type != "pulumi:pulumi:Stack":
                urn_names[response.urn] = request.name
                plan.resources.append({
                    "type": request.type,
                    "name": request.name,
                    "parent": urn_names.get(request.parent),
                    "inputs": _clean(self.raw(request.name), mask),
                    **({"ignoreChanges": list(request.ignoreChanges)}
                       if request.ignoreChanges else {}),
                })
            return response

    class PlanMocks(pulumi.runtime.Mocks):
        # An empty id during a preview leaves the id, and what derives from it, unknown,
        # as the engine does for a resource not created yet.
        def new_resource(self, args):
            if args.typ == "pulumi:pulumi:StackReference" and stack_outputs is not None:
                return args.name, {"name": args.name, "outputs": stack_outputs.get(args.name, {})}
            if not created:
                return "", {}
            id_ = str(zlib.crc32(args.name.encode()) % 10**7)
            return id_, {**args.inputs, "url": f"/dashboard/{id_}"}

        def call(self, args):
            return {}

    mock_engine.start(PlanMocks(), project=PROJECT, stack=stack, preview=not created,
                      monitor=Recorder(PlanMocks()))
    pulumi.runtime.set_all_config(config.values, config.secret_keys)
    config = PulumiConfig()
    settings.check_known_keys(config.keys())
    loaded = plan.settings = settings.load(config, stack)
    # Only now the program and pulumi_datadog (seconds of CPU): bad config is refused first.
    import program

    moment = program.clock() if now is None else now

    # Stack outputs as the engine stores them: a secret leaf stays a secret leaf.
    plan.outputs = _clean(mock_engine.run(lambda: program.build(loaded, moment)))
    plan.resources.sort(key=lambda r: (r["parent"] or "", r["type"], r["name"]))
    return plan


def host_files(loaded) -> dict[str, dict[str, bytes]]:
    """Host name -> VM path -> content, with "[secret]" where a secret goes."""
    from agent_files import app_service, render

    app = {f"{app_service.app_root(loaded)}/current/{name}": content.encode()
           for name, content in app_service.bundle_files(loaded).items()
           if name in ("app.py", "requirements.txt")}
    app[f"/etc/systemd/system/{app_service.unit_name(loaded)}"] = \
        app_service.render_unit(loaded).encode()
    return {host.name: {**render.render_host_files(loaded.agent, host, SECRET, SECRET),
                        f"{render.BUNDLE_DIR}/database.sql":
                            render.database_user_sql(loaded.agent, SECRET),
                        **app}
            for host in loaded.hosts}


def wheels_note() -> str:
    """One line on the app's wheel set: the plan needs only its manifest, `pulumi up` the
    wheels themselves (build/app-wheels/, fetched from PyPI once per set)."""
    from agent_files import wheels

    wheel_set = wheels.load()
    if (ROOT / wheel_set.archive).is_file():
        return f"app wheels: set {wheel_set.id[:16]} cached in {wheel_set.archive}"
    return (f"app wheels: set {wheel_set.id[:16]} not cached yet: `pulumi up` fetches it from "
            "PyPI once; with no PyPI here, run `make app-wheels` where it is reachable and "
            "copy build/app-wheels/ into this checkout")


def write_files(files: dict[str, dict[str, bytes]], directory: Path) -> None:
    for host, contents in files.items():
        for path, content in contents.items():
            target = directory / host / path.lstrip("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)


def render_table(plan: Plan) -> str:
    rows = [("TYPE", "NAME", "PARENT")] + [
        (r["type"], r["name"], r["parent"] or "-") for r in plan.resources]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = [f"Stack {plan.stack}: {len(plan.resources)} resources (offline plan, mock runtime)"]
    lines += ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip()
              for row in rows]
    lines.append("Outputs:")
    lines += [f"  {name}: {json.dumps(value)}" for name, value in plan.outputs.items()]
    return "\n".join(lines)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tools.plan", description=__doc__.split("\n\n")[0])
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--stack", default="dev", help="use Pulumi.<NAME>.yaml (default dev)")
    source.add_argument("--config-file", type=Path, help="use this stack config file")
    parser.add_argument("--json", action="store_true", help="print the plan as JSON")
    parser.add_argument("--render-dir", type=Path,
                        help="also write each host's files to DIR/<host>/<path on the VM>")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    path = args.config_file or ROOT / f"Pulumi.{args.stack}.yaml"
    stack = args.stack if args.config_file is None else path.stem.removeprefix("Pulumi.")
    if not path.is_file():
        print(f"error: no stack config file {path}", file=sys.stderr)
        return 2
    from agent_files import wheels
    from settings import ConfigError

    try:
        plan = run(StackConfig.from_file(path), stack)
    except ConfigError as error:
        print(f"error: invalid configuration: {error}", file=sys.stderr)
        return 2
    except wheels.WheelsError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except yaml.YAMLError as error:
        print(f"error: {path} is not valid YAML: {str(error).splitlines()[0]}", file=sys.stderr)
        return 2
    if args.render_dir:
        write_files(host_files(plan.settings), args.render_dir)
    if plan.settings.hosts:
        print(wheels_note(), file=sys.stderr)
    print(json.dumps(plan.as_json(), indent=2, sort_keys=True) if args.json else render_table(plan))
    return 0


if __name__ == "__main__":
    sys.exit(main())
