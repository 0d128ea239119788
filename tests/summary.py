"""The one line `make test` ends with: each tier's counts, the skips by reason (each reason
names the command that would run them), from the JSON each tier's pytest run wrote
(TEST_RESULTS, tests/conftest.py). Exits 0; the Makefile keeps the tiers' own status.

    python3 -m tests.summary unit agent apm e2e remote
"""
from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

RESULTS = Path(__file__).resolve().parents[1] / "build" / "test-results"


def load(tiers: list[str], results: Path = RESULTS) -> dict[str, dict | None]:
    """Each tier's results, None where its run wrote none (it stopped before pytest ended)."""
    return {tier: json.loads((results / f"{tier}.json").read_text())
            if (results / f"{tier}.json").exists() else None for tier in tiers}


def line(results: dict[str, dict | None]) -> str:
    tiers, skips, ok = [], Counter(), True
    for tier, result in results.items():
        if result is None:
            tiers.append(f"{tier} did not run to the end")
            ok = False
            continue
        counts = [f"{result['passed']} passed"]
        if result["failed"]:
            counts.append(f"{result['failed']} failed")
        skipped = sum(result["skipped"].values())
        if skipped:
            counts.append(f"{skipped} skipped")
        skips.update(result["skipped"])
        ok = ok and not result["failed"] and result["exitstatus"] in (0, 5)
        tiers.append(f"{tier} {', '.join(counts)}")
    text = f"{'PASSED' if ok else 'FAILED'}: {'; '.join(tiers)}"
    if skips:
        text += f" | {sum(skips.values())} skipped: " + "; ".join(
            f"{count} × {reason}" for reason, count in skips.most_common())
    return text


def main(argv: list[str]) -> int:
    print(line(load(argv)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
