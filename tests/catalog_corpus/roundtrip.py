"""Round-trip every corpus object through the Datadog API stand-in as the provider would.

    python -m tests.catalog_corpus.roundtrip [--unit]

For each sample: rules.catalog normalises the file, the body goes out as pulumi-datadog's
MonitorJson/DashboardJson sends it (POST), comes back as its Read asks for it (GET), and
rules.catalog.diff compares the two as the provider does. Prints how many of how many
show no diff, and the time taken; exit 1 if any differs.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from rules import catalog
from tests.catalog_corpus.build import Sample, corpus

VALUES = catalog.placeholder_values(stack="dev", env="dev", host_scope="host:vm1",
                                    notify="@ops@example.com",
                                    downtime_tag="off-hours-downtimes:datadog-stack/dev")


def unit_corpus(cassettes: Path) -> list[Sample]:
    """Every monitor; the dashboards of the JSON cassettes and of integrations-core."""
    return [s for s in corpus(cassettes) if s.kind == "monitor" or "JSON" in s.source
            or s.source.startswith("integrations-core/")]


def round_trip(api, sample: Sample) -> list[str]:
    """The provider's diff after create, and after a later read (refresh); [] when none."""
    (obj,) = catalog.objects({sample.file: json.dumps(sample.raw)}, VALUES)
    endpoint = f"/api/v1/{obj.kind}"
    status, created, _ = api.call("POST", endpoint, catalog.sent_body(obj.kind, obj.body))
    if status != 200:
        return [f"POST answered {status}: {json.dumps(created)[:200]}"]
    status, read, _ = api.call("GET", f"{endpoint}/{created['id']}{catalog.read_query(obj.kind, obj.body)}")
    if status != 200:
        return [f"GET answered {status}"]
    return [f"after create: {d}" for d in catalog.diff(obj.kind, obj.body, created)] + \
        [f"after refresh: {d}" for d in catalog.diff(obj.kind, obj.body, read)]


def main(argv: list[str] | None = None) -> int:
    from tests.standins.datadog_api.replay import _MEMORY_DIR, cassette_dir
    from tests.standins.datadog_api.server import start_server
    from tests.unit.test_datadog_standin import Client

    parser = argparse.ArgumentParser(prog="python -m tests.catalog_corpus.roundtrip")
    parser.add_argument("--unit", action="store_true", help="only the unit tier's corpus")
    args = parser.parse_args(argv)
    samples = (unit_corpus if args.unit else corpus)(cassette_dir())
    with tempfile.TemporaryDirectory(dir=_MEMORY_DIR) as tmp:
        handle = start_server(0, tmp)
        try:
            api, start = Client(handle.url), time.perf_counter()
            failed = {s.name: p for s in samples if (p := round_trip(api, s))}
            took = time.perf_counter() - start
        finally:
            handle.stop()
    for name, problems in failed.items():
        print(f"{name}: {problems[:3]}", file=sys.stderr)
    print(f"catalog round trip: {len(samples) - len(failed)} of {len(samples)} corpus objects "
          f"read back with no diff ({took:.1f} s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
