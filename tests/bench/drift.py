"""Drift check time for 1 and 20 hosts (a figure, not a test): `make bench-drift`.

    python -m tests.bench.drift [--hosts 1 20]

SSH test hosts (tests/standins/ssh_hosts, root needed), the stack deployed on them by the
plan's own commands, then `tools.drift --only hosts` timed: one SSH session per host, all
hosts in parallel. Setting the hosts up is not timed.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import tempfile
import time
from pathlib import Path

from tests.remote.drift_setup import deploy
from tests.standins.ssh_hosts import HostSpec, TestHosts
from tools import drift


def time_drift(count: int) -> float:
    with tempfile.TemporaryDirectory() as work, TestHosts([HostSpec()] * count, progress=lambda _: None) as hosts:
        args = deploy(hosts, Path(work))
        start = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()) as report:
            code = drift.main(args)
        elapsed = time.perf_counter() - start
    if code != 0:
        raise RuntimeError(f"drift on a fresh deploy: exit {code}\n{report.getvalue()}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.drift", description=__doc__.split("\n\n")[0])
    parser.add_argument("--hosts", type=int, nargs="+", default=[1, 20])
    import program  # noqa: F401  -- pulumi_datadog's import (5-7 s) once, outside the figures
    for count in parser.parse_args().hosts:
        print(f"drift  hosts side, {count:2d} host(s): {time_drift(count):6.2f} s "
              f"(offline render + one SSH session per host)", flush=True)


if __name__ == "__main__":
    main()
