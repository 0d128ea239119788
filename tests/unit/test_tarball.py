"""The one tar builder both hosts' deploys use (agent_files/tarball.py)."""
from __future__ import annotations

import base64
import io
import tarfile

import pytest

from agent_files import tarball

pytestmark = pytest.mark.unit

MEMBERS = {"run.sh": (b"#!/bin/sh\n", 0o700), "files/etc/app.conf": (b"a = 1\n", 0o600)}


def entries(data: bytes) -> dict[str, tarfile.TarInfo]:
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as archive:  # uncompressed only
        return {m.name: m for m in archive.getmembers()}


def contents(data: bytes) -> dict[str, bytes]:
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as archive:
        return {m.name: archive.extractfile(m).read() for m in archive.getmembers() if m.isfile()}


def test_files_round_trip_with_the_mode_each_was_given():
    data = tarball.build(MEMBERS)
    assert contents(data) == {name: content for name, (content, _) in MEMBERS.items()}
    assert {n: m.mode for n, m in entries(data).items() if m.isfile()} == \
        {name: mode for name, (_, mode) in MEMBERS.items()}


def test_parent_directories_are_root_only():
    dirs = {n: m.mode for n, m in entries(tarball.build(MEMBERS)).items() if m.isdir()}
    assert dirs == {"files": 0o700, "files/etc": 0o700}


def test_every_entry_is_owned_by_root_with_no_time():
    """A uid, a local user name or a time would make the bytes differ between machines."""
    assert all((m.mtime, m.uid, m.gid, m.uname, m.gname) == (0, 0, 0, "root", "root")
               for m in entries(tarball.build(MEMBERS)).values())


def test_the_same_files_in_another_order_give_the_same_bytes():
    assert tarball.build(dict(reversed(MEMBERS.items()))) == tarball.build(MEMBERS), \
        "the same files must give the same stdin and hash, or every update re-runs the install"


def test_the_tar_is_plain_ustar_not_gzip():
    # gzip's bytes depend on the zlib build: another machine would see another bundle.
    data = tarball.build(MEMBERS)
    assert data[:2] != b"\x1f\x8b" and data[257:263] == b"ustar\x00"


def test_stdin_is_the_tar_in_base64_for_base64_d_on_the_host():
    data = tarball.build(MEMBERS)
    assert base64.b64decode(tarball.stdin(data), validate=True) == data
