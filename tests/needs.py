"""What a test needs from the machine. A missing tool skips the test with one line naming
it and the make target that installs it, which the line `make test` ends with counts."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

DEPS = "run `make deps`"
ROOT_ONLY = "run the tier as root (sudo make test, as .ci/run does)"


def tool(name: str, why: str = "") -> str:
    """The tool's path on PATH, or a skip."""
    found = shutil.which(name)
    if not found:
        pytest.skip(f"{name} is missing{f' ({why})' if why else ''}: {DEPS}")
    return found


def installed(path: Path, what: str) -> Path:
    """A file `make deps` installs (a venv's python, a node package), or a skip."""
    if not path.exists():
        pytest.skip(f"{what} is missing: {DEPS}")
    return path


def root(why: str) -> None:
    if os.geteuid() != 0:
        pytest.skip(f"{why} needs root: {ROOT_ONLY}")
