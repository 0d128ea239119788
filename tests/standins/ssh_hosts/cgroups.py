"""CPU accounting by cgroup (v2): the CPU seconds a set of processes, and every process they
start, spent, whoever reaps them.

A process's own counters (/proc/<pid>/stat utime+stime, cutime+cstime) only see children
that were waited for, and the SSH test hosts' sessions are started and reaped by the
process that holds the hosts -- the same process that may run an engine's children. A
cgroup sums the CPU time of its member processes, children included from the moment they
fork, living or gone: `cpu.stat`'s usage_usec (user_usec + system_usec), which cgroup v2
keeps for every cgroup without enabling any controller (kernel
Documentation/admin-guide/cgroup-v2.rst, "Core Interface Files" and "CPU": "cpu.stat ...
usage_usec, user_usec, system_usec" are present even when the cpu controller is not).

`writable_root()` finds a cgroup v2 hierarchy this process may make groups in (root
needed); `CpuGroup.command(argv)` runs argv inside the group through `in_cgroup.sh`, which
joins it before exec, so nothing the command starts is missed.
"""
from __future__ import annotations

import os
import time
from pathlib import Path

JOIN = Path(__file__).resolve().parent / "in_cgroup.sh"


def writable_root() -> Path | None:
    """A mounted cgroup v2 hierarchy where this process may create groups, or None (not root,
    no cgroup2 mount, or a read-only one, as in many containers)."""
    if os.geteuid() != 0:
        return None
    for line in Path("/proc/self/mounts").read_text().splitlines():
        fields = line.split()
        if len(fields) > 3 and fields[2] == "cgroup2" and "rw" in fields[3].split(","):
            path = Path(fields[1])
            if os.access(path, os.W_OK) and (path / "cgroup.procs").exists():
                return path
    return None


def process_tree(pid: int) -> list[int]:
    """`pid` and its descendants living now (from /proc/<pid>/stat's parent pid)."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])  # the comm may hold spaces
        parents.setdefault(ppid, []).append(int(entry))
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo += parents.get(current, [])
    return tree


class CpuGroup:
    """One cgroup: `seconds()` is the CPU its members spent since it was made."""

    def __init__(self, path: Path):
        self.path = path

    @classmethod
    def make(cls, parent: Path, name: str) -> "CpuGroup":
        path = parent / name
        path.mkdir()
        return cls(path)

    def child(self, name: str) -> "CpuGroup":
        return CpuGroup.make(self.path, name)

    def add(self, pids: list[int]) -> None:
        """Move these processes in (their future children follow; a process that has
        already exited is skipped)."""
        for pid in pids:
            try:
                (self.path / "cgroup.procs").write_text(f"{pid}\n")
            except ProcessLookupError:
                pass

    def command(self, argv: list[str]) -> list[str]:
        """argv, run inside this group from its first instruction."""
        return ["/bin/sh", str(JOIN), str(self.path), *argv]

    def seconds(self) -> float:
        """User + system CPU seconds of every process that has been in the group."""
        stat = dict(line.split() for line in (self.path / "cpu.stat").read_text().splitlines())
        return int(stat["usage_usec"]) / 1e6

    def remove(self) -> None:
        """Remove the group and its children once their processes are gone (best effort:
        a group whose last processes are still exiting is retried for a second)."""
        for sub in [p for p in self.path.iterdir() if p.is_dir()]:
            CpuGroup(sub).remove()
        for _ in range(20):
            try:
                self.path.rmdir()
                return
            except FileNotFoundError:
                return
            except OSError:
                time.sleep(0.05)
