"""Render the reference part of docs/package.md from the package's schema.

    python -m tools.package_reference           # (re)write it (make docs)
    python -m tools.package_reference --check   # exit 1 when the committed page is stale

The page's hand-written part ends at MARKER; everything after it is rendered here from the
schema the SDK's analyzer infers (provider/served.py), the one `pulumi package get-schema`
prints, so the reference says what every language's SDK is generated from.
"""
import argparse
import sys
from pathlib import Path
from typing import Any

from provider import served

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "package.md"
MARKER = "<!-- generated below by `make docs` (tools/package_reference.py): do not edit -->\n"


def _type(prop: dict[str, Any]) -> str:
    if "$ref" in prop:
        return prop["$ref"].rsplit(":", 1)[-1]
    if prop.get("type") == "array":
        return f"list of {_type(prop['items'])}"
    if prop.get("type") == "object" and "additionalProperties" in prop:
        return f"map of {_type(prop['additionalProperties'])}"
    return prop.get("type", "any")


def _one_line(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _table(props: dict[str, Any], required: list[str], inputs: bool) -> list[str]:
    head = ["| name | type | | description |", "|---|---|---|---|"]
    rows = []
    for name, prop in sorted(props.items()):
        flags = ["required" if name in required else "optional"] if inputs else []
        if inputs and not prop.get("plain"):
            flags.append("Input")
        rows.append(f"| `{name}` | {_type(prop)} | {', '.join(flags)} | "
                    f"{_one_line(prop.get('description', ''))} |")
    return head + rows


def reference(schema: dict[str, Any]) -> str:
    lines = [f"Package `{schema['name']}` {schema['version']}.", ""]
    for token, resource in schema["resources"].items():
        lines += [f"### {token.rsplit(':', 1)[-1]}", "", f"`{token}`: "
                  f"{_one_line(resource.get('description', ''))}", "", "Inputs:", ""]
        lines += _table(resource["inputProperties"], resource.get("requiredInputs", []), True)
        lines += ["", "Outputs:", ""]
        lines += _table(resource["properties"], resource.get("required", []), False)
        lines.append("")
    for token, type_ in schema["types"].items():
        lines += [f"### {token.rsplit(':', 1)[-1]} (type)", "",
                  _one_line(type_.get("description", "")), ""]
        lines += _table(type_["properties"], type_.get("required", []), True)
        lines.append("")
    return "\n".join(lines)


def current() -> str:
    """The page as it should be: its hand-written part, then the rendered reference."""
    head = PAGE.read_text().split(MARKER)[0] if PAGE.exists() else ""
    return head + MARKER + "\n" + reference(served.schema())


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the page is stale")
    check = parser.parse_args(argv).check
    if not PAGE.exists() or MARKER not in PAGE.read_text():
        print(f"{PAGE.relative_to(ROOT)}: missing, or without its marker line", file=sys.stderr)
        return 1
    if check:
        if PAGE.read_text() != current():
            print(f"{PAGE.relative_to(ROOT)} is stale: run `make docs`", file=sys.stderr)
            return 1
        return 0
    PAGE.write_text(current())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
