"""The one tar builder for what a host receives over SSH: the Agent's bundle and the app's.

Both travel the same way, as the `stdin` of a pulumi-command `remote.Command`, base64
text of an uncompressed USTAR tar, and both tars must be the same bytes on every machine:
the Agent's bundle hash is a trigger, and the app's stdin is a plain input whose change
re-runs its install. So: no gzip (its output depends on the zlib build), sorted entries,
mtime 0, every entry owned by root (uid/gid 0, names "root"), each file's mode given by
its caller and every directory 0700. Pure: no pulumi, no disk, no clock.
"""
from __future__ import annotations

import base64
import io
import tarfile
from collections.abc import Mapping

DIRECTORY_MODE = 0o700
OWNER = "root"


def build(members: Mapping[str, tuple[bytes, int]]) -> bytes:
    """Bundle-relative path -> (content, mode): the tar, parent directories included."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.USTAR_FORMAT) as archive:
        directories: set[str] = set()
        for name, (content, mode) in sorted(members.items()):
            parts = name.split("/")[:-1]
            for depth in range(1, len(parts) + 1):
                directory = "/".join(parts[:depth])
                if directory not in directories:
                    directories.add(directory)
                    archive.addfile(_entry(directory, tarfile.DIRTYPE, DIRECTORY_MODE, 0))
            archive.addfile(_entry(name, tarfile.REGTYPE, mode, len(content)), io.BytesIO(content))
    return raw.getvalue()


def stdin(data: bytes) -> str:
    """A tar as a command's stdin: base64 text (`base64 -d` on the host), since the
    provider's stdin input is a string."""
    return base64.b64encode(data).decode()


def _entry(name: str, kind: bytes, mode: int, size: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.mode, info.size = kind, mode, size
    info.mtime, info.uid, info.gid, info.uname, info.gname = 0, 0, 0, OWNER, OWNER
    return info
