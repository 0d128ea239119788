"""The offline plan's remote commands, run over real SSH the way the engine and
pulumi-command's remote provider would run them.

What is modelled, and from where:
* One SSH connection and one session per command run, the command string sent as the
  session's `exec` request (the user's login shell runs it), the `stdin` input written to
  the session and then closed, stdout and stderr captured. pulumi-command
  provider/pkg/provider/remote/commandOutputs.go (`run`): Dial, NewSession, Setenv of
  `environment` and of PULUMI_COMMAND_STDOUT/STDERR (errors ignored: a stock sshd refuses
  them), `session.Stdin = strings.NewReader(stdin)`, `session.Run(cmd)`; a failure is
  "<exit error>: running <cmd quoted>:\n<stdout and stderr>". The OpenSSH client does the
  same with `ssh -T user@host -- <command>` and a pipe on stdin.
* The engine: commands in dependency order (inputs and `dependsOn`), independent ones in
  parallel; a resource whose inputs are unchanged is not run; a changed `triggers` (the
  provider's replaceOnChanges) is a replacement: create the new one, then run the old one's
  `delete`, or the other way round with `deleteBeforeReplace`; any other change is an
  update, which re-runs `create` when there is no `update` command; `destroy` runs each
  `delete` in reverse dependency order. A failed command stops its dependents only.
* `remote.CopyToRemote` (the app's wheel set): its `source` file asset written at
  `remotePath` over one SSH session's SFTP subsystem, as `scp` (OpenSSH 9: the SFTP protocol)
  writes it; nothing runs on delete. pulumi-command's schema for it: "Copy an Asset or
  Archive to a remote host"; remotePath: "When the source is a file and the remote path is
  an existing file, that file will be overwritten" (sdk/python pulumi_command/remote/
  copy_to_remote.py). The asset's path is relative to the project dir, as the CLI reads it.
"""
from __future__ import annotations

import json
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from agent_files import wheels
from tools.plan import StackConfig, run

REMOTE = "command:remote:Command"
COPY = "command:remote:CopyToRemote"
ROOT = Path(__file__).resolve().parents[2]
DEV = Path(__file__).resolve().parents[2] / "Pulumi.dev.yaml"
CANARIES = {
    "datadog:apiKey": "CANARY-api-key-5f1e0c",
    "datadog:appKey": "CANARY-app-key-9b2d4a",
    "datadog-stack:databasePassword": "CANARY-db-password-O'Hara",
}


@dataclass
class Command:
    name: str
    inputs: dict
    depends_on: list[str]
    delete_before_replace: bool
    kind: str = REMOTE

    @property
    def connection(self) -> dict:
        return self.inputs["connection"]


@dataclass
class Result:
    name: str
    action: str  # create | delete
    exit_code: int
    stdout: str
    stderr: str

    @property
    def error(self) -> str:
        """The provider's error text for a failed command."""
        return (f"Process exited with status {self.exit_code}: running "
                f"{json.dumps(self.inputs_command)}:\n{self.stdout}{self.stderr}")

    inputs_command: str = ""


@dataclass
class Outcome:
    results: list[Result] = field(default_factory=list)

    @property
    def failed(self) -> list[Result]:
        return [r for r in self.results if r.exit_code != 0]

    def ran(self) -> list[str]:
        return [f"{r.action} {r.name}" for r in self.results]


def plan(hosts, private_key: str | None, stack: str = "remote", **config) -> tuple[list[Command], object]:
    """The plan's remote commands for these hosts, in dependency order, secrets real; and
    the settings the program loaded. `private_key=None`: no key in config (the stack logs
    in through `sshAgentSocket`, given in `config`)."""
    commands, result = planned(hosts, private_key, stack, **config)
    return commands, result.settings


def planned(hosts, private_key: str | None, stack: str = "remote",
            stack_outputs: dict[str, dict] | None = None, **config) -> tuple[list[Command], object]:
    """`plan`, with the whole offline plan (tools.plan.Plan: its outputs too) instead of
    the settings. No `hosts`: no `hosts` key (an account stack); `stack_outputs`: what the
    stack's StackReference reads (tools.plan.run)."""
    values = StackConfig.from_file(DEV)
    key = "datadog-stack:sshPrivateKey"
    values.values.pop(key, None)
    values.values.update({
        "datadog-stack:hosts": json.dumps([
            {"name": h.name, "address": h.address, "sshPort": h.port, "sshUser": h.user}
            for h in hosts]),
        **({key: private_key} if private_key is not None else {}),
        **CANARIES,
        **{f"datadog-stack:{k}": v if isinstance(v, str) else json.dumps(v)
           for k, v in config.items()},
    })
    if not hosts:
        values.values.pop("datadog-stack:hosts")
    values.secret_keys = sorted((set(values.secret_keys) | set(CANARIES) | {key}) &
                                set(values.values))
    wheels.ensure(wheels.load())  # the copy's source, as __main__ fetches it before `up`
    recorded = _record_dependencies()
    try:
        result = run(values, stack, created=True, mask=False, stack_outputs=stack_outputs)
        resources = result.resources
    finally:
        recorded.undo()
    urn_names = recorded.urn_names
    children: dict[str, list[str]] = {}
    for r in resources:
        if r["parent"]:
            children.setdefault(r["parent"], []).append(r["name"])
    commands = {}
    for r in resources:
        if r["type"] not in (REMOTE, COPY):
            continue
        deps = []
        for urn in recorded.dependencies[r["name"]]:
            if urn not in urn_names:  # read, not registered: a StackReference runs nothing
                continue
            dep = urn_names[urn]
            deps += [c for c in children.get(dep, [])] or [dep]  # a component: its children
        commands[r["name"]] = Command(r["name"], r["inputs"], sorted(set(deps)),
                                      recorded.delete_before_replace[r["name"]], r["type"])
    return _ordered(commands), result


class _record_dependencies:
    """Record what the mock runtime's RegisterResource hears about dependencies (the plan's
    table does not keep them)."""

    def __init__(self):
        from pulumi.runtime import mocks

        self.dependencies: dict[str, list[str]] = {}
        self.delete_before_replace: dict[str, bool] = {}
        self.urn_names: dict[str, str] = {}
        self._cls, self._original = mocks.MockMonitor, mocks.MockMonitor.RegisterResource
        original = self._original

        def register(monitor, request):
            response = original(monitor, request)
            self.urn_names[response.urn] = request.name
            self.dependencies[request.name] = list(request.dependencies)
            self.delete_before_replace[request.name] = request.deleteBeforeReplace
            return response

        mocks.MockMonitor.RegisterResource = register

    def undo(self):
        self._cls.RegisterResource = self._original


def _ordered(commands: dict[str, Command]) -> list[Command]:
    done: list[Command] = []
    seen: set[str] = set()

    def visit(name):
        if name in seen or name not in commands:
            return
        seen.add(name)
        for dep in commands[name].depends_on:
            visit(dep)
        done.append(commands[name])

    for name in sorted(commands):
        visit(name)
    return done


def _client(tool: str, conn: dict, key_file: str) -> list[str]:
    """`ssh` or `scp` logged in as the connection says (connection.go `SShConfig`): with
    `privateKey`, or with the keys of the ssh-agent at `agentSocketPath` (and nothing else:
    no default identity files, no agent from this process's environment).

    The key exchange is the one pulumi-command's client agrees with these hosts' sshd:
    `SSHConfig` sets no KeyExchanges, so golang.org/x/crypto/ssh's defaults apply (v0.48.0,
    pulumi-command v1.2.1's provider/go.mod; ssh/common.go `defaultKexAlgos`:
    mlkem768x25519-sha256, curve25519-sha256, ...), and Debian 12's OpenSSH 9.2 has no
    ML-KEM, so curve25519-sha256. OpenSSH's own client would pick sntrup761x25519-sha512,
    which x/crypto does not implement (and whose key generation costs the client about
    0.07 s of CPU a session here: the remote tier opens hundreds)."""
    if "privateKey" in conn:
        login = ["-i", key_file, "-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none"]
    else:
        login = ["-o", "IdentityFile=none", "-o", f"IdentityAgent={conn['agentSocketPath']}"]
    port = ["-P" if tool == "scp" else "-p", str(conn.get("port", 22))]
    return [tool, "-F", "/dev/null", *(["-T"] if tool == "ssh" else []), *login, *port,
            "-o", "BatchMode=yes", "-o", "LogLevel=ERROR",
            "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
            "-o", "KexAlgorithms=curve25519-sha256", "-o", "ConnectTimeout=15"]


def ssh(command: Command, text: str, stdin: str | None, action: str) -> Result:
    """One SSH session running `text`, as the remote provider's `run`."""
    conn = command.connection
    with tempfile.NamedTemporaryFile("w", prefix="ssh-key-") as key:
        key.write(conn.get("privateKey", ""))
        key.flush()
        done = subprocess.run(
            [*_client("ssh", conn, key.name), f"{conn.get('user', 'root')}@{conn['host']}",
             "--", text],
            input=stdin or "", capture_output=True, text=True, timeout=600)
    return Result(command.name, action, done.returncode, done.stdout, done.stderr, text)


def copy(command: Command) -> Result:
    """CopyToRemote's create: the source file at remotePath, over SFTP (one SSH session)."""
    conn, source = command.connection, ROOT / command.inputs["source"]["path"]
    target = f"{conn.get('user', 'root')}@{conn['host']}:{command.inputs['remotePath']}"
    with tempfile.NamedTemporaryFile("w", prefix="ssh-key-") as key:
        key.write(conn.get("privateKey", ""))
        key.flush()
        done = subprocess.run([*_client("scp", conn, key.name), "-q", str(source), target],
                              capture_output=True, text=True, timeout=600)
    return Result(command.name, "create", done.returncode, done.stdout, done.stderr,
                  f"copy {source.name} to {target}")


class Engine:
    """`up` and `destroy` over a state of applied inputs, as the engine keeps them."""

    def __init__(self):
        self.state: dict[str, Command] = {}

    def up(self, commands: list[Command]) -> Outcome:
        wanted = {c.name: c for c in commands}
        outcome = Outcome()

        def apply(command: Command) -> bool:
            old = self.state.get(command.name)
            if old is not None and old.inputs == command.inputs:
                return True
            steps = [("create", command)]
            if old is not None and old.inputs.get("triggers") != command.inputs.get("triggers"):
                steps = [("delete", old), ("create", command)] if command.delete_before_replace \
                    else [("create", command), ("delete", old)]
            for action, target in steps:
                if target.kind == COPY:
                    if action != "create":
                        continue
                    result = copy(target)
                else:
                    text = target.inputs.get(action)
                    if not text:
                        continue
                    result = ssh(target, text,
                                 target.inputs.get("stdin") if action == "create" else None, action)
                outcome.results.append(result)
                if result.exit_code:
                    return False
            self.state[command.name] = command
            return True

        self._in_order(list(wanted.values()), apply)
        gone = [c for name, c in self.state.items() if name not in wanted]
        self._destroy(gone, outcome)
        return outcome

    def destroy(self) -> Outcome:
        outcome = Outcome()
        self._destroy(list(self.state.values()), outcome)
        return outcome

    def _destroy(self, commands: list[Command], outcome: Outcome) -> None:
        names = {c.name for c in commands}
        dependents = {c.name: [d.name for d in commands if c.name in d.depends_on] for c in commands}

        def delete(command: Command) -> bool:
            text = command.inputs.get("delete")
            if text:
                result = ssh(command, text, None, "delete")
                outcome.results.append(result)
                if result.exit_code:
                    return False
            del self.state[command.name]
            return True

        reverse = [Command(c.name, c.inputs, [d for d in dependents[c.name] if d in names],
                           c.delete_before_replace, c.kind) for c in commands]
        self._in_order(reverse, delete, originals={c.name: c for c in commands})

    @staticmethod
    def _in_order(commands: list[Command], step, originals: dict | None = None) -> None:
        """Each command once all it depends on succeeded; independent ones in parallel."""
        futures = {}
        with ThreadPoolExecutor(max_workers=16) as pool:
            def task(command: Command) -> bool:
                if not all(futures[d].result() for d in command.depends_on if d in futures):
                    return False
                return step((originals or {}).get(command.name, command))

            for command in _ordered({c.name: c for c in commands}):
                futures[command.name] = pool.submit(task, command)
            for f in futures.values():
                f.result()
