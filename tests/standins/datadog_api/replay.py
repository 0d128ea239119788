"""Replay Datadog's recorded exchanges against the stand-in and count the ones it agrees with.

The recordings are the go-vcr cassettes of Datadog's Terraform provider
(``../shared/datadog-cassettes``, see its README): each interaction is sent to a fresh
stand-in whose clock is frozen at the cassette's ``.freeze`` time, with the ids Datadog
gave (monitor ids, dashboard ids, downtime uuids) replaced by the ones the stand-in gave.
An exchange agrees when the stand-in answers the recorded status and every field of the
recorded answer, with the same JSON type (values differ: ids, times, authors), and the same
value where the exchanges and the clock decide it (VALUE_FIELDS: a downtime's status, ...).

    python -m tests.standins.datadog_api.replay [--verbose]
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from .server import start_server

ROOT = Path(__file__).resolve().parents[3]
DEFAULT_DIR = ROOT.parent / "shared" / "datadog-cassettes"
ENDPOINTS = ("/api/v1/monitor", "/api/v1/dashboard", "/api/v2/downtime", "/api/v1/downtime",
             "/api/v1/validate", "/api/v2/restriction_policy/monitor:")
# dashboard lists are a kind of their own (datadog_dashboard_list), not one we manage or serve
NOT_OURS = ("/api/v1/dashboard/lists",)
# libyaml's parser when PyYAML has it: the pure-Python one takes most of the replay's time
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# the store rewrites its file on every write: a RAM-backed directory keeps that off the disk
_MEMORY_DIR = "/dev/shm" if os.path.isdir("/dev/shm") else None
# Fields whose null-or-value depends on state outside the exchanges: overall_state_modified is set
# once Datadog has evaluated the monitor; name/author_name/icon/last_login_time come from the
# recording user's profile; a v1 downtime's uuid is null in the answer to its PUT
# (TestAccDatadogDowntime_Updated.yaml). Null against a value is accepted there, nowhere else.
STATE_NULLABLE = {"overall_state_modified", "author_name", "name", "icon", "last_login_time", "uuid"}
# Fields whose value follows from the exchanges and the frozen clock alone: compared by value too.
# (overall_state is not: it comes from Datadog evaluating the monitor.)
VALUE_FIELDS = {"status", "active", "disabled", "downtime_type", "draft_status", "is_read_only",
                "display_timezone", "multi"}


def cassette_dir() -> Path:
    """``DD_STANDIN_CASSETTE_DIR`` or ``../shared/datadog-cassettes`` next to the repository."""
    return Path(os.environ.get("DD_STANDIN_CASSETTE_DIR") or DEFAULT_DIR)


def ours(path: str) -> bool:
    return path.startswith(ENDPOINTS) and not path.startswith(NOT_OURS)


@dataclass
class Exchange:
    method: str
    url: str  # path?query
    body: str
    status: int
    answer: str

    @property
    def path(self) -> str:
        return urlsplit(self.url).path


def load(path: Path) -> tuple[dt.datetime, list[Exchange]]:
    """A cassette's frozen clock and its exchanges on our kinds' endpoints."""
    freeze = dt.datetime.fromisoformat(path.with_suffix(".freeze").read_text().strip())
    out = []
    for it in yaml.load(path.read_text(), Loader=_LOADER).get("interactions", []):
        req, resp = it["request"], it["response"]
        parts = urlsplit(req["url"])
        url = parts.path + (f"?{parts.query}" if parts.query else "")
        if ours(parts.path):
            out.append(Exchange(req["method"], url, req.get("body") or "", int(resp["code"]),
                                resp.get("body") or ""))
    return freeze, out


# ----------------------------------------------------------------------------- comparison

def jtype(x) -> str:
    if x is None:
        return "null"
    if isinstance(x, bool):
        return "boolean"
    if isinstance(x, (int, float)):
        return "number"
    return {str: "string", list: "array", dict: "object"}[type(x)]


class Ids:
    """Recorded id -> stand-in id, learnt from the answers to creates."""

    def __init__(self):
        self.map: dict[str, str] = {}

    def learn(self, recorded, got) -> None:
        if not (isinstance(recorded, dict) and isinstance(got, dict)):
            return
        rec = recorded.get("data", recorded) if isinstance(recorded.get("data"), dict) else recorded
        mine = got.get("data", got) if isinstance(got.get("data"), dict) else got
        if "id" in rec and "id" in mine and str(rec["id"]) != str(mine["id"]):
            self.map[str(rec["id"])] = str(mine["id"])

    def apply(self, text: str) -> str:
        for rec, mine in self.map.items():
            text = re.sub(rf"(?<![\w-]){re.escape(rec)}(?![\w-])", mine, text)
        return text

    def mine(self, recorded_id) -> str:
        return self.map.get(str(recorded_id), str(recorded_id))


def compare(recorded, got, ids: Ids, path="$") -> list[str]:
    """Every field of ``recorded`` present in ``got`` with the same JSON type (see STATE_NULLABLE),
    and the same value for VALUE_FIELDS."""
    if isinstance(recorded, dict):
        if not isinstance(got, dict):
            return [f"{path}: expected object, got {jtype(got)}"]
        problems = []
        for k, rv in recorded.items():
            if k not in got:
                problems.append(f"{path}.{k}: missing")
            else:
                problems += compare(rv, got[k], ids, f"{path}.{k}")
        return problems
    if isinstance(recorded, list):
        if not isinstance(got, list):
            return [f"{path}: expected array, got {jtype(got)}"]
        return _compare_list(recorded, got, ids, path)
    field_name = path.rsplit(".", 1)[-1]
    if jtype(recorded) != jtype(got) and not (field_name in STATE_NULLABLE and None in (recorded, got)):
        return [f"{path}: expected {jtype(recorded)}, got {jtype(got)}"]
    if field_name in VALUE_FIELDS and recorded != got:
        return [f"{path}: expected {recorded!r}, got {got!r}"]
    return []


def _compare_list(recorded: list, got: list, ids: Ids, path: str) -> list[str]:
    """Lists of objects with ids (list endpoints) pair by id: objects of the recording org that
    this replay did not create are not expected; every other list pairs by position."""
    if recorded and all(isinstance(x, dict) and "id" in x for x in recorded):
        by_id = {str(x.get("id")): x for x in got if isinstance(x, dict)}
        problems, matched = [], 0
        for x in recorded:
            mine = by_id.get(ids.mine(x["id"]))
            if mine is not None:
                matched += 1
                problems += compare(x, mine, ids, f"{path}[id={x['id']}]")
            elif str(x["id"]) in ids.map:
                problems.append(f"{path}: no element with id {ids.mine(x['id'])}")
        if matched or problems or not got:
            return problems
    if len(got) < len(recorded):
        return [f"{path}: {len(recorded)} elements expected, got {len(got)}"]
    problems = []
    for i, x in enumerate(recorded):
        problems += compare(x, got[i], ids, f"{path}[{i}]")
    return problems


# ----------------------------------------------------------------------------- replay

@dataclass
class Result:
    cassette: str
    exchange: Exchange
    status: int
    problems: list[str] = field(default_factory=list)

    @property
    def agrees(self) -> bool:
        return not self.problems


def _send(url: str, ex: Exchange, body: str) -> tuple[int, str]:
    data = body.encode() if body else None
    req = urllib.request.Request(url + ex.url, data=data, method=ex.method)
    req.add_header("Accept", "application/json")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    req.add_header("DD-API-KEY", "replay-api-key")
    if not ex.path.startswith("/api/v1/validate"):  # the provider sends only the API key there
        req.add_header("DD-APPLICATION-KEY", "replay-app-key")
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def _parse(text: str):
    return json.loads(text) if text.strip() else None


def replay_cassette(handle, path: Path) -> list[Result]:
    freeze, exchanges = load(path)
    handle.app.store.reset()
    handle.set_clock(freeze)
    ids = Ids()
    results = []
    for ex in exchanges:
        mapped = Exchange(ex.method, ids.apply(ex.url), ids.apply(ex.body), ex.status, ex.answer)
        status, text = _send(handle.url, mapped, mapped.body)
        recorded, got = _parse(ex.answer), _parse(text)
        if ex.method == "POST" and status == ex.status:
            ids.learn(recorded, got)
        problems = [] if status == ex.status else [f"status {status}, recorded {ex.status}: {text[:300]}"]
        if not problems and recorded is not None:
            problems = compare(recorded, got, ids)
        results.append(Result(path.name, mapped, status, problems))
    return results


def replay_all(directory: Path | None = None) -> list[Result]:
    """Replay every cassette of ``directory`` (default :func:`cassette_dir`) on one stand-in."""
    directory = directory or cassette_dir()
    if not directory.is_dir():
        raise FileNotFoundError(f"no recorded exchanges at {directory}: set DD_STANDIN_CASSETTE_DIR to the "
                                "datadog-cassettes directory")
    with tempfile.TemporaryDirectory(dir=_MEMORY_DIR) as tmp:
        handle = start_server(0, tmp)
        try:
            return [r for p in sorted(directory.glob("*.yaml")) for r in replay_cassette(handle, p)]
        finally:
            handle.stop()


def summary(results: list[Result]) -> str:
    agree = sum(r.agrees for r in results)
    return f"{agree} of {len(results)} recorded exchanges agree"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m tests.standins.datadog_api.replay", description=__doc__)
    p.add_argument("--verbose", "-v", action="store_true", help="print each disagreement")
    args = p.parse_args(argv)
    results = replay_all()
    if args.verbose:
        for r in results:
            if not r.agrees:
                print(f"{r.cassette}: {r.exchange.method} {r.exchange.url}: {'; '.join(r.problems[:5])}")
    print(summary(results))
    return 0 if all(r.agrees for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
