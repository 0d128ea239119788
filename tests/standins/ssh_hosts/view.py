"""What a test host holds, compared across time: which files a deploy wrote, what a
destroy left behind.

Only what differs from this machine lives in a host's overlay upper directories (and its
/tmp), so a snapshot walks those and records each path's state in the host's own view.
A path absent from a snapshot was then this machine's file (the overlay's lower layer),
which `diff` reads directly. /root, /home and /tmp are the host's own (nothing of this
machine's shows there).
"""
from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

ABSENT = ("absent",)


def state(path: Path, identity: bool = True) -> tuple:
    """Kind, content, mode and owner; with `identity`, also inode and mtime (a file
    rewritten with the same bytes is then a change)."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return ABSENT
    if stat.S_ISCHR(st.st_mode) and st.st_rdev == 0:  # an overlay whiteout: deleted
        return ABSENT
    owner = (oct(st.st_mode & 0o7777), st.st_uid, st.st_gid)
    if stat.S_ISDIR(st.st_mode):
        return ("dir", *owner)
    if stat.S_ISLNK(st.st_mode):
        return ("link", os.readlink(path))
    digest = hashlib.sha256(path.read_bytes()).hexdigest() if stat.S_ISREG(st.st_mode) else ""
    return ("file", digest, *owner) + ((st.st_ino, st.st_mtime_ns) if identity else ())


def _walk(top: Path):
    for root, dirs, files in os.walk(top):
        for name in dirs + files:
            yield Path(root, name).relative_to(top)


def snapshot(host) -> dict[str, tuple]:
    """Host path -> state, for every path of the host that is not this machine's."""
    from tests.standins.ssh_hosts.hosts import OVERLAID, PRIVATE

    out = {}
    for layer in OVERLAID + PRIVATE:
        for rel in _walk(host.base / "upper" / layer):
            inside = f"/{layer}/{rel}"
            out[inside] = state(host.path(inside))
    for rel in _walk(host.path("/tmp")):
        out[f"/tmp/{rel}"] = state(host.path(f"/tmp/{rel}"))
    return out


def _strip(value: tuple) -> tuple:
    return value[:5] if value[0] == "file" else value


def diff(before: dict, after: dict, identity: bool = False) -> dict[str, tuple]:
    """Paths whose state differs: path -> (before, after). Without `identity` only kind,
    content, mode and owner count; with it, a file rewritten in place counts too."""
    changed = {}
    for path in sorted(set(before) | set(after)):
        machine = ABSENT if path.startswith(("/tmp/", "/root/", "/home/")) else None
        old = before.get(path) or machine or state(Path(path))
        new = after.get(path) or machine or state(Path(path))
        if not identity:
            old, new = _strip(old), _strip(new)
        if old != new:
            changed[path] = (old, new)
    return changed
