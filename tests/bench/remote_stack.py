"""One stack's `up` for the fleet bench where no engine is installed (tests/bench/fleet.py):
the stack's offline plan and its remote commands over real SSH, as the remote tier runs
them (tests/remote/runner.py), in a process of its own so that its CPU -- the program
under the mock runtime, the ssh and scp clients -- is counted apart from the hosts'.

    python -m tests.bench.remote_stack SPEC.json

SPEC: {"stack", "role", "hosts": [{name, address, port, user}], "key_file", "state",
"outputs_dir"}. The stack's state (each command's applied inputs: what the engine would
compare) is read from and written back to `state`, as the engine's checkpoint is between
runs; an `account` stack writes its outputs to `outputs_dir/<stack>.json` and a `hosts`
stack reads its account's from there, as its StackReference would. Prints one JSON line:
{"changes": {"create": n, "update": n, "same": n}, "resources": <the plan's resources, as the
engine's state would hold them>, "errors": [...]}; exit 1 on a failed command.
"""
from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path
from types import SimpleNamespace

from tests.e2e.lifecycle import ACCOUNT
from tests.remote.runner import Command, Engine, planned


def changes(commands: list[Command], state: dict[str, Command]) -> dict[str, int]:
    """The engine's summary words for these commands against the state."""
    counts = {"create": 0, "update": 0, "same": 0}
    for command in commands:
        old = state.get(command.name)
        counts["create" if old is None else "same" if old.inputs == command.inputs else "update"] += 1
    return {op: n for op, n in counts.items() if n}


def main(argv: list[str]) -> int:
    spec = json.loads(Path(argv[0]).read_text())
    state_file, outputs_dir = Path(spec["state"]), Path(spec["outputs_dir"])
    hosts = [SimpleNamespace(**h) for h in spec["hosts"]]
    config, references = {"role": spec["role"]}, None
    if spec["role"] == "hosts":
        config["accountStack"] = ACCOUNT
        references = {ACCOUNT: json.loads((outputs_dir / f"{ACCOUNT}.json").read_text())}
    commands, result = planned(hosts, Path(spec["key_file"]).read_text(), spec["stack"],
                               stack_outputs=references, **config)
    engine = Engine()
    if state_file.exists():
        engine.state = {name: Command(**fields) for name, fields in json.loads(state_file.read_text()).items()}
    summary = changes(commands, engine.state)
    outcome = engine.up(commands)
    state_file.write_text(json.dumps({name: dataclasses.asdict(c) for name, c in engine.state.items()}))
    (outputs_dir / f"{spec['stack']}.json").write_text(json.dumps(result.outputs))
    print(json.dumps({"changes": summary, "resources": len(result.resources),
                      "errors": [r.error for r in outcome.failed]}))
    return 1 if outcome.failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
