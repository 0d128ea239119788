"""`make demo`: the stack's life cycle through the real engine, step by step, against the
Datadog API stand-in and two SSH test hosts; prints each step's cost and the stack outputs.

    venv/bin/python -m tests.e2e.demo
"""
from __future__ import annotations

import json
import sys
import tempfile

from tests.e2e.lifecycle import Lifecycle, missing
from tests.standins.ssh_hosts import SUDO_USER, HostSpec, TestHosts


def main() -> int:
    why = missing()
    if why:
        print(f"demo: cannot run: {why}")
        return 1
    from tests.standins.datadog_api import start_server

    standin = start_server(0, tempfile.mkdtemp(prefix="demo-standin-"), clock_offset=0)
    with TestHosts([HostSpec(user="root"), HostSpec(user=SUDO_USER)], progress=print) as hosts:
        life = Lifecycle(hosts, standin)
        try:
            steps = [lambda: life.up("up from empty (2 hosts)"),
                     lambda: life.up("no-op up")]
            for step in steps:
                done = step()
                print(done.line())
            outputs = done.outputs
            for key, value, label in (("criticalThreshold", 900, "threshold 800 -> 900"),
                                      ("checkInterval", 30, "checkInterval 45 -> 30")):
                life.change(**{key: value})
                print(life.up(label).line())
            print("stack outputs:")
            print(json.dumps(outputs, indent=2, default=str))
            print(life.destroy().line())
        finally:
            life.close()
            standin.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
