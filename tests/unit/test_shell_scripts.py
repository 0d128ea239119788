"""Every shell script of the repository, checked the same way (CI runs this file)."""
from __future__ import annotations

import re
import shlex
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
INSTALL_PARTS = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "agent_files/install.d").glob("*.sh"))
HOST_SCRIPTS = ["agent_files/drift_report.sh", "agent_files/install.sh", *INSTALL_PARTS,
                "agent_files/receive_bundle.sh", "agent_files/remove_bundle.sh",
                "app/deploy.sh", "app/preflight.sh", "app/receive.sh", "app/remove.sh"]


def dialect(script: str) -> str:
    """What ShellCheck checks a script as: POSIX sh when its shebang says sh (the host
    scripts run by `sh -c`/`sh -s` meet dash there), else bash."""
    with (ROOT / script).open("rb") as f:
        first = f.readline()
    return "sh" if re.match(rb"#!\s*(\S*/)?(env\s+)?sh\b", first) else "bash"


def test_the_host_scripts_are_among_the_checked_scripts():
    assert set(HOST_SCRIPTS) <= set(SCRIPTS) and ".ci/run" in SCRIPTS, SCRIPTS


@pytest.mark.parametrize("script", SCRIPTS)
def test_script_passes_shellcheck(script):
    shellcheck = needs.tool("shellcheck")
    # -x: follow `source` (install.sh's parts), so a global a part reads is not "unused".
    done = subprocess.run([shellcheck, "-x", f"--shell={dialect(script)}", script], cwd=ROOT,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout


def assembled_installer() -> str:
    """install.sh as bash runs it: each `source "$PARTS/<part>"` replaced by the part's text
    (its ShellCheck directives dropped), the PARTS lines with them."""
    def part(match: re.Match) -> str:
        text = (ROOT / "agent_files/install.d" / match.group(1)).read_text()
        return "\n".join(line for line in text.splitlines() if not line.startswith("# shellcheck "))

    text = (ROOT / "agent_files/install.sh").read_text()
    text = re.sub(r"^(# shellcheck source.*|PARTS=.*|readonly PARTS)\n", "", text, flags=re.M)
    return re.sub(r'^source "\$PARTS/([\w-]+\.sh)" \|\| exit 1$', part, text, flags=re.M)


def test_the_assembled_installer_passes_shellcheck(tmp_path):
    """Each part alone cannot tell a global another part reads from an unused one (they
    disable SC2034); the whole program can, and every other check runs across the parts."""
    shellcheck = needs.tool("shellcheck")
    assembled = tmp_path / "install-assembled.sh"
    assembled.write_text(assembled_installer())
    assert "$PARTS" not in assembled.read_text() and len(INSTALL_PARTS) > 1, "every part inlined"
    done = subprocess.run([shellcheck, "--shell=bash", str(assembled)], capture_output=True,
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


# --- the remote commands: shell only in those files ---------------------------------------
# A remote command's string is parsed by the login shell of the SSH user. It may be one
# simple command (words, maybe `sudo -n` and `env NAME=value` first); any shell logic
# (`;`, `&&`, `|`, `$(...)`, redirections) must come from a script file above, whose text
# the command passes whole as `sh -c`'s script.
SHELL_OPERATORS = set(";&|()<>")


def remote_commands() -> dict[str, str]:
    """`<resource> create|delete` -> the command string, of every remote command of the
    dev stack's offline plan (tools/plan.py: the program under the SDK's mocks)."""
    from tools.plan import StackConfig, run

    config = StackConfig.from_file(ROOT / "Pulumi.dev.yaml")
    plan = run(config, "dev", created=True)
    return {f'{r["name"]} {step}': r["inputs"][step] for r in plan.resources
            if r["type"] == "command:remote:Command" for step in ("create", "delete")
            if step in r["inputs"]}


REMOTE_COMMANDS = remote_commands()


def test_the_plan_has_the_agent_and_app_commands():
    steps = {name.split("-", 1)[1] for name in REMOTE_COMMANDS}
    assert {"agent-bundle create", "agent-teardown delete", "app-teardown create",
            "app-teardown delete"} <= steps, steps


@pytest.mark.parametrize("name", sorted(REMOTE_COMMANDS))
def test_a_remote_command_is_one_simple_command_or_runs_a_checked_script(name):
    command = REMOTE_COMMANDS[name]
    lexer = shlex.shlex(command, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    words = list(lexer)
    script = None
    if "-c" in words:
        at = words.index("-c")
        script, script_name = words[at + 1:at + 3]
        words = words[:at + 1] + words[at + 2:]
        checked = {(ROOT / s).read_text(): s for s in HOST_SCRIPTS}
        assert script in checked and checked[script].endswith("/" + script_name), \
            f"{name}: `sh -c` must run the text of a checked script file, named as its $0"
    operators = [w for w in words if set(w) <= SHELL_OPERATORS]
    assert not operators, f"{name}: shell logic {operators} outside a file ShellCheck reads"
    expansions = [w for w in words if "$" in w or "`" in w]
    assert not expansions, f"{name}: expansions {expansions} outside a file ShellCheck reads"
