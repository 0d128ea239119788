"""Product code never imports tests: every tracked Python file outside tests/ is read as an AST
and none may import the `tests` package (`import tests...`, `from tests... import`, or
`importlib.import_module("tests...")` / `__import__("tests...")` with a literal name).
Benchmarks and harnesses that need the stand-ins live under tests/ (tests/bench/)."""
from __future__ import annotations

import ast
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DYNAMIC_IMPORTS = {"import_module", "__import__"}


def _is_tests(name: str | None) -> bool:
    return name is not None and (name == "tests" or name.startswith("tests."))


def imports_of_tests(source: str) -> list[str]:
    """The `tests` modules `source` imports, each as `line: module`."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [f"{node.lineno}: {a.name}" for a in node.names if _is_tests(a.name)]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and _is_tests(node.module):
            found.append(f"{node.lineno}: {node.module}")
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            called = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
            if called in DYNAMIC_IMPORTS and isinstance(node.args[0].value, str) and _is_tests(node.args[0].value):
                found.append(f"{node.lineno}: {node.args[0].value}")
    return found


def product_files() -> list[Path]:
    """Tracked .py files outside tests/ still in the work tree (venvs and node_modules are
    never tracked)."""
    listed = subprocess.run(["git", "ls-files", "-z", "--", "*.py"], cwd=ROOT, check=True,
                            capture_output=True, text=True).stdout
    paths = [ROOT / p for p in listed.split("\0") if p and not p.startswith("tests/")]
    return [path for path in paths if path.exists()]


@pytest.mark.parametrize("source, found", [
    ("import tests", ["1: tests"]),
    ("import tests.standins.ssh_hosts as hosts", ["1: tests.standins.ssh_hosts"]),
    ("from tests.unit.test_downtime_rules import NINE_TO_SEVEN", ["1: tests.unit.test_downtime_rules"]),
    ("def f():\n    from tests.standins.datadog_api import replay", ["2: tests.standins.datadog_api"]),
    ("import importlib\nimportlib.import_module('tests.remote.runner')", ["2: tests.remote.runner"]),
    ("__import__('tests')", ["1: tests"]),
    ("import testsuite\nfrom pytests import x\nfrom . import tests\nfrom .tests import y", []),
    ("import importlib\nimportlib.import_module('testsuite')", []),
])
def test_an_import_of_the_tests_package_is_found_in_any_form(source, found):
    assert imports_of_tests(source) == found, "every way of importing `tests` counts, and only those"


def test_no_module_outside_tests_imports_from_tests():
    files = product_files()
    offenders = [f"{path.relative_to(ROOT)}:{hit}" for path in files
                 for hit in imports_of_tests(path.read_text(encoding="utf-8"))]
    assert len(files) > 10 and offenders == [], \
        f"product code must never import tests (move shared code out of tests/): {offenders}"
