"""Every shell script of the repository, checked the same way (CI runs this file)."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests import needs

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]


def shell_scripts() -> list[str]:
    """Tracked files named *.sh or starting with a sh/bash shebang."""
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout.split()
    scripts = []
    for name in tracked:
        path = ROOT / name
        if not path.is_file():
            continue
        with path.open("rb") as f:
            first = f.readline()
        if name.endswith(".sh") or re.match(rb"#!\s*/\S*(/env\s+)?(ba)?sh\b", first):
            scripts.append(name)
    return sorted(scripts)


SCRIPTS = shell_scripts()
# The scripts that run on a VM: function headers name the globals they change.
HOST_SCRIPTS = ["agent_files/install.sh", "app/deploy.sh"]


def test_the_host_scripts_are_among_the_checked_scripts():
    assert set(HOST_SCRIPTS) <= set(SCRIPTS) and ".ci/run" in SCRIPTS, SCRIPTS


@pytest.mark.parametrize("script", SCRIPTS)
def test_script_passes_shellcheck(script):
    shellcheck = needs.tool("shellcheck")
    done = subprocess.run([shellcheck, "--shell=bash", script], cwd=ROOT, capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stdout


# NAME=VALUE (or +=) as a statement of its own, where a statement starts (`export` too).
# `NAME=value command` sets NAME for that one command only (IFS= read, DD_API_KEY=... bash)
# and `-v NAME=1` is an argument: neither is an assignment.
VALUE = r"""(?:"[^"]*"|'[^']*'|\$\([^)]*\)|\([^)]*\)|[^\s;&|)"'])*"""
ASSIGNMENT = (r"(?:^[ \t]*|[;{(][ \t]*|(?:&&|\|\||\bthen|\bdo|\belse|\bexport)[ \t]+)"
              r"([A-Z_][A-Z0-9_]*)\+?=" + VALUE + r"(?=[ \t]*(?:$|[;&|#)}]))")


def without_subshells(body: str) -> str:
    """The body with every $(...) emptied: what runs in one sets no global."""
    while True:
        emptied = re.sub(r"\$\([^()]+\)", "$()", body)
        if emptied == body:
            return body
        body = emptied


def functions(lines: list[str]):
    """(name, header comment, body) of every `name() {` function."""
    for i, line in enumerate(lines):
        match = re.match(r"^(\w+)\(\) \{", line)
        if not match:
            continue
        start = i
        while start > 0 and lines[start - 1].startswith("#"):
            start -= 1
        end = i if line.rstrip().endswith("}") else lines.index("}", i)
        yield match.group(1), " ".join(lines[start:i]), "\n".join(lines[i:end + 1])


@pytest.mark.parametrize("script", HOST_SCRIPTS)
def test_every_function_has_a_header_naming_the_globals_it_changes(script):
    """Globals are UPPER_CASE: one a function assigns without `local` is named in its header."""
    for name, header, body in functions((ROOT / script).read_text().splitlines()):
        assert header, f"{script}: {name} has no header comment"
        local = set(re.findall(r"\blocal\b[^\n]*?\b([A-Z_][A-Z0-9_]*)\b", body))
        assigned = re.findall(ASSIGNMENT, without_subshells(body), re.M)
        for variable in set(assigned) - local:
            assert variable in header, f"{script}: {name} sets {variable}; its header must say so"
