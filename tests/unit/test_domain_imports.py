"""One declaration per concept: the domain types live in domain.py, which imports nothing of
the project, and the code that uses them (rules/, agent_files/, components/) takes them from
there, never from the config parser (settings.py). Every tracked file is read as an AST."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PARSER = "settings"
USERS_OF_THE_TYPES = ("rules/", "agent_files/", "components/")


def imported_modules(source: str) -> list[tuple[int, str]]:
    """(line, top-level module) of every absolute import in `source`, nested ones included."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name.split(".")[0]) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module.split(".")[0]))
    return found


def tracked(prefixes: tuple[str, ...]) -> list[Path]:
    listed = subprocess.run(["git", "ls-files", "-z", "--", *(p + "*.py" for p in prefixes)],
                            cwd=ROOT, check=True, capture_output=True, text=True).stdout
    return [ROOT / p for p in listed.split("\0") if p and (ROOT / p).exists()]


@pytest.mark.parametrize("source, found", [
    ("import settings", [(1, "settings")]),
    ("from settings import Host", [(1, "settings")]),
    ("import settings.sub as s", [(1, "settings")]),
    ("def f():\n    from settings import Host", [(2, "settings")]),
    ("from domain import Host", [(1, "domain")]),
    ("from . import render", []),
])
def test_imports_are_found_wherever_they_are(source, found):
    assert imported_modules(source) == found, "the scan must see every absolute import"


def test_domain_imports_only_the_standard_library():
    outside = [f"{line}: {module}" for line, module in
               imported_modules((ROOT / "domain.py").read_text())
               if module not in sys.stdlib_module_names]
    assert outside == [], \
        f"domain.py declares the types everyone imports: it imports nothing else ({outside})"


def test_rules_agent_files_and_components_take_their_types_from_domain_not_the_parser():
    files = tracked(USERS_OF_THE_TYPES)
    assert files, f"no tracked files under {USERS_OF_THE_TYPES}"
    offenders = [f"{path.relative_to(ROOT)}:{line}" for path in files
                 for line, module in imported_modules(path.read_text()) if module == PARSER]
    assert offenders == [], \
        f"the domain types come from domain.py, never from the config parser: {offenders}"
