"""Figures for the fleet: deploys over real SSH to 1 and to 20 SSH test hosts, and, where a
`pulumi` CLI with the plugins is installed, the same through the real engine plus a warm
`pulumi preview` of the dev stack against the `import pulumi_datadog` floor, measured back
to back. Goals, not assertions: 20 hosts within 3x of 1; a no-op `up` with 0 writes and 0
SSH sessions; the warm preview at most 1.4x the floor.

    venv/bin/python -m tests.bench.e2e [--hosts 1,20] [--skip-remote] [--skip-engine]
        [--preview-only]

`make bench-e2e`. Needs root (the SSH test hosts); prints one line per figure.
"""
from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def quiet(line: str) -> None:
    if "ready" not in line:
        print(f"  ({line})", flush=True)


def remote(count: int) -> None:
    """The offline plan's remote commands over SSH, as the engine would run them."""
    from tests.remote.runner import Engine, plan
    from tests.standins.ssh_hosts import HostSpec, TestHosts

    started = time.monotonic()
    with TestHosts([HostSpec()] * count, progress=quiet) as hosts:
        setup = time.monotonic() - started
        commands, _ = plan(hosts, hosts.private_key)
        engine = Engine()
        for name, run in (("deploy", lambda: engine.up(commands)),
                          ("no-op", lambda: engine.up(commands)),
                          ("destroy", engine.destroy)):
            sessions, t = hosts.sessions(), time.monotonic()
            outcome = run()
            print(f"remote tier, {count:>2} host(s): {name:<8} {time.monotonic() - t:6.1f} s, "
                  f"{hosts.sessions() - sessions:3d} SSH sessions, {len(outcome.failed)} failed "
                  f"(hosts set up in {setup:.1f} s)", flush=True)


def engine(count: int) -> None:
    """`pulumi up` from empty, a no-op `up` and `destroy` through the Automation API."""
    from tests.e2e.lifecycle import Lifecycle
    from tests.standins.datadog_api import start_server
    from tests.standins.ssh_hosts import HostSpec, TestHosts

    standin = start_server(0, tempfile.mkdtemp(prefix="bench-standin-"), clock_offset=0)
    with TestHosts([HostSpec()] * count, progress=quiet) as hosts:
        life = Lifecycle(hosts, standin)
        try:
            for step in (lambda: life.up(f"up from empty, {count} host(s)"),
                         lambda: life.up(f"no-op up, {count} host(s)"),
                         lambda: life.preview(f"warm preview, {count} host(s)"),
                         lambda: life.destroy(f"destroy, {count} host(s)")):
                print("engine: " + step().line(), flush=True)
        finally:
            life.close()
            standin.stop()


def catalog_preview(count: int = 100) -> None:
    """Issue 20 item 7: the real preview of the dev stack with `count` catalog objects
    against the same preview without (median of 3 each, same run; goal <= 3 s more)."""
    from tests.e2e.lifecycle import Lifecycle
    from tests.standins.datadog_api import start_server
    from tests.standins.ssh_hosts import HostSpec, TestHosts
    from tests.bench.offline import config_with_catalog

    import yaml

    directory = Path(tempfile.mkdtemp(prefix="bench-catalog-"))
    catalog_dir = yaml.safe_load(config_with_catalog(count, directory).read_text())[
        "config"]["datadog-stack:catalogDir"]
    standin = start_server(0, tempfile.mkdtemp(prefix="bench-standin-"), clock_offset=0)
    with TestHosts([HostSpec()], progress=quiet) as hosts:
        life = Lifecycle(hosts, standin)
        try:
            medians = {}
            for label, where in (("with", catalog_dir), ("without", str(directory / "none"))):
                life.set_config({"datadog-stack:catalogDir": where})
                life.up(f"up {label} the catalog")
                medians[label] = statistics.median(
                    life.preview(f"preview {label} the catalog").seconds for _ in range(3))
            print(f"engine: preview with {count} catalog objects {medians['with']:.1f} s, without "
                  f"{medians['without']:.1f} s: +{medians['with'] - medians['without']:.1f} s "
                  "(median of 3; goal <= 3 s)", flush=True)
        finally:
            life.close()
            standin.stop()


def import_floor() -> float:
    """What any real preview pays first: the Python SDK importing pulumi_datadog."""
    started = time.monotonic()
    subprocess.run([sys.executable, "-c", "import pulumi_datadog"], check=True)
    return time.monotonic() - started


def children_cpu() -> float:
    """CPU seconds (user + sys) of the child processes waited for so far: the Automation
    API's `pulumi` and what it waited for (language hosts, the program, plugins)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measured(run) -> tuple[float, float]:
    """Wall and CPU seconds of `run()`, which runs child processes."""
    cpu, started = children_cpu(), time.monotonic()
    run()
    return time.monotonic() - started, children_cpu() - cpu


def preview_against_floor(runs: int = 3) -> None:
    """Issue 21 item 5: the warm preview of the dev stack (one host, as `engine` sets it up)
    against the `import pulumi_datadog` floor, one after the other `runs` times in the same
    run, so both see the same machine; the median of each and their ratio (goal <= 1.4x)."""
    from tests.e2e.lifecycle import Lifecycle
    from tests.standins.datadog_api import start_server
    from tests.standins.ssh_hosts import HostSpec, TestHosts

    standin = start_server(0, tempfile.mkdtemp(prefix="bench-standin-"), clock_offset=0)
    with TestHosts([HostSpec()], progress=quiet) as hosts:
        life = Lifecycle(hosts, standin)
        try:
            up = life.up("up, 1 host")
            if not up.ok:
                print("engine: preview against the floor skipped: " + up.line(), flush=True)
                return
            floors, previews = [], []
            load = os.getloadavg()[0]
            for _ in range(runs):
                floors.append(measured(import_floor))
                step: list = []
                previews.append(measured(lambda: step.append(life.preview("warm preview"))))
                if not step[0].ok:
                    print("engine: " + step[0].line(), flush=True)
                    return
            floor = statistics.median(wall for wall, _ in floors)
            preview = statistics.median(wall for wall, _ in previews)
            floor_cpu = statistics.median(cpu for _, cpu in floors)
            preview_cpu = statistics.median(cpu for _, cpu in previews)
            print(f"engine: warm preview of the dev stack {preview:.1f} s ({preview_cpu:.1f} CPU s) "
                  f"against the import floor {floor:.1f} s ({floor_cpu:.1f} CPU s): "
                  f"{preview / floor:.2f}x wall, {preview_cpu / floor_cpu:.2f}x CPU (median of "
                  f"{runs} each, back to back; goal <= 1.4x; load average {load:.1f} to "
                  f"{os.getloadavg()[0]:.1f})", flush=True)
        finally:
            life.close()
            standin.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.e2e", description=__doc__.split("\n\n")[0])
    parser.add_argument("--hosts", default="1,20", help="host counts (default 1,20)")
    parser.add_argument("--skip-remote", action="store_true")
    parser.add_argument("--skip-engine", action="store_true")
    parser.add_argument("--preview-only", action="store_true",
                        help="only the warm preview against the import floor")
    args = parser.parse_args(argv)
    counts = [int(n) for n in args.hosts.split(",")]
    print(f"import pulumi_datadog (the floor of any preview): {import_floor():.1f} s", flush=True)
    if not (args.skip_remote or args.preview_only):
        for count in counts:
            remote(count)
    if not args.skip_engine:
        from tests.e2e.lifecycle import missing

        why = missing()
        if why:
            print(f"engine figures skipped: {why}")
        elif args.preview_only:
            preview_against_floor()
        else:
            for count in counts:
                engine(count)
            preview_against_floor()
            catalog_preview()
    return 0


if __name__ == "__main__":
    sys.exit(main())
