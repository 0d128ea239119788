"""The README and docs/ tell the truth about the checkout: their commands exist, their
links and paths resolve, the README stays a front door, and its code example runs."""
from __future__ import annotations

import re
from pathlib import Path

import pulumi
import pytest

from tools import mock_engine

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
MAKE_TARGETS = set(re.findall(r"^([\w-]+):", (ROOT / "Makefile").read_text(), re.M))


def page_id(path: Path) -> str:
    return str(path.relative_to(ROOT))


def code(path: Path) -> str:
    """The page's code: fenced blocks and inline `code` spans."""
    text = path.read_text()
    return "\n".join(re.findall(r"```[a-z]*\n(.*?)```", text, re.S) +
                     re.findall(r"`([^`\n]+)`", text))


def anchors(path: Path) -> set[str]:
    """GitHub's heading anchors: lowercase, punctuation dropped, spaces to hyphens."""
    return {re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
            for heading in re.findall(r"^#+ (.*)$", path.read_text(), re.M)}


def test_the_readme_is_a_front_door_of_about_a_page():
    lines = (ROOT / "README.md").read_text().splitlines()
    assert len(lines) <= 50, f"README.md has {len(lines)} lines: move detail to docs/"


def test_the_readme_starts_inside_the_repository():
    first_paragraph = (ROOT / "README.md").read_text().split("\n\n")[1]
    assert "../" not in first_paragraph, "the README's opening must not point outside the repository"


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_every_make_target_a_page_names_exists(page):
    named = set(re.findall(r"\bmake ([a-z][\w-]*)", code(page)))
    assert named <= MAKE_TARGETS, f"{page_id(page)} names make targets the Makefile lacks: " \
        f"{sorted(named - MAKE_TARGETS)}"


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_every_python_module_a_page_runs_exists(page):
    modules = set(re.findall(r"python[\d.]* -m ((?:tools|tests)[\w.]*)", code(page)))
    missing = [m for m in sorted(modules) if not (ROOT / (m.replace(".", "/") + ".py")).exists()
               and not (ROOT / m.replace(".", "/") / "__main__.py").exists()]
    assert not missing, f"{page_id(page)} runs modules that do not exist: {missing}"


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_every_relative_link_resolves(page):
    broken = []
    for target in re.findall(r"\]\(([^)\s]+)\)", page.read_text()):
        if re.match(r"[a-z]+:", target):
            continue
        file, _, anchor = target.partition("#")
        path = (page.parent / file).resolve() if file else page
        if not path.exists() or (anchor and path.suffix == ".md" and anchor not in anchors(path)):
            broken.append(target)
    assert not broken, f"{page_id(page)} links to nothing: {broken}"


def test_every_docs_page_is_linked_from_the_readme():
    readme = (ROOT / "README.md").read_text()
    unlinked = [p.name for p in PAGES[1:] if f"(docs/{p.name})" not in readme]
    assert not unlinked, f"docs pages nobody can find from the README: {unlinked}"


def sketch_paths() -> list[str]:
    """Every path docs/architecture.md's sketch names: a line's first column, indented
    names being inside the directory of the unindented line above."""
    text = (ROOT / "docs" / "architecture.md").read_text()
    block = re.search(r"```\n(.*?)```", text, re.S)[1]
    paths, directory = [], ""
    for line in block.splitlines():
        names = re.split(r"\s{2,}", line.strip())[0]
        if not line.startswith(" "):
            directory = names if names.endswith("/") else ""
            paths += [name.strip(",") for name in names.split()]
        elif line.startswith("  ") and not line.startswith("   "):
            paths += [directory + name for name in names.split()]
    return paths


@pytest.mark.parametrize("path", sketch_paths())
def test_every_path_in_the_architecture_sketch_exists(path):
    assert (ROOT / path).exists(), f"docs/architecture.md names {path}, which does not exist"


def test_the_packages_python_example_runs_under_the_mock_engine(monkeypatch):
    blocks = re.findall(r"```python\n(.*?)```", (ROOT / "docs" / "package.md").read_text(), re.S)
    [example] = [b for b in blocks if "MetricMonitorArgs" in b]
    exported = {}
    monkeypatch.setattr(pulumi, "export", lambda name, value: exported.setdefault(name, value))
    mock_engine.start(mock_engine.Mocks(), stack="dev", preview=False)

    def program():
        exec(compile(example, "docs/package.md", "exec"), {})
        return exported

    assert mock_engine.run(program) == {
        "monitorUrl": "https://app.datadoghq.com/monitors/my-metric-high-monitor-id"}, \
        "the package page's Python example must declare a monitor and export its URL"
