"""File-backed object store for the Datadog API stand-in.

One JSON document (``<state-dir>/store.json``) holds every object; each change
rewrites it atomically (write to a temp file in the same directory, ``os.replace``),
so a stand-in restarted on the same state dir -- or killed, even with SIGKILL --
sees the same objects and ids. No fsync: that guards against a power cut, which a
test stand-in's state need not survive, and on a disk it cost ~5 ms a write (the
downtime proof against the stand-in writes ~1,000 times per zone: docs/testing.md).
"""
from __future__ import annotations

import copy
import json
import os
import tempfile
import threading
from pathlib import Path

# downtimes: v2 downtime schedules; downtimes_v1: the legacy v1 downtimes (listed, not managed);
# restriction_policies: v2 restriction policies of monitors, keyed "monitor:ID"; events: posted events
KINDS = ("monitors", "dashboards", "downtimes", "downtimes_v1", "restriction_policies", "events")


class Store:
    def __init__(self, state_dir: str | os.PathLike):
        self.dir = Path(state_dir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.path = self.dir / "store.json"
        self.lock = threading.RLock()
        self.data = self._load()

    def _empty(self) -> dict:
        return {"version": 1, "next_monitor_id": 100000001, "next_downtime_v1_id": 7000000001,
                "next_event_id": 8000000000000000001, "next_widget_id": 1000000000000001,
                "clock_offset_days": 0.0, "clock_now": None, **{k: {} for k in KINDS}}

    def _load(self) -> dict:
        if self.path.exists():
            with open(self.path, encoding="utf-8") as f:
                data = json.load(f)
            base = self._empty()
            base.update(data)
            return base
        return self._empty()

    def save(self) -> None:
        with self.lock:
            fd, tmp = tempfile.mkstemp(prefix=".store.", suffix=".tmp", dir=self.dir)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as f:
                    json.dump(self.data, f, indent=1, sort_keys=True)
                os.replace(tmp, self.path)
            except BaseException:
                try:
                    os.unlink(tmp)
                except FileNotFoundError:
                    pass
                raise

    # -- objects
    def get(self, kind: str, oid: str):
        with self.lock:
            obj = self.data[kind].get(str(oid))
            return copy.deepcopy(obj) if obj is not None else None

    def put(self, kind: str, oid: str, obj: dict) -> None:
        with self.lock:
            self.data[kind][str(oid)] = copy.deepcopy(obj)
            self.save()

    def delete(self, kind: str, oid: str) -> bool:
        with self.lock:
            found = self.data[kind].pop(str(oid), None) is not None
            if found:
                self.save()
            return found

    def all(self) -> dict:
        with self.lock:
            return {k: copy.deepcopy(self.data[k]) for k in KINDS}

    def reset(self) -> None:
        with self.lock:
            clock = {k: self.data.get(k) for k in ("clock_offset_days", "clock_now")}
            self.data = self._empty()
            self.data.update(clock)
            self.save()

    # -- counters and settings
    def next_id(self, counter: str) -> int:
        with self.lock:
            value = int(self.data[counter])
            self.data[counter] = value + 1
            return value

    def get_setting(self, key: str, default=None):
        with self.lock:
            return self.data.get(key, default)

    def set_setting(self, key: str, value) -> None:
        with self.lock:
            self.data[key] = value
            self.save()
