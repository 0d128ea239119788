"""The stack through the real engine: Pulumi's Automation API (`pulumi.automation`, part of
the SDK we pin) drives `pulumi up` / `destroy` of an `e2e` stack in a file backend in a temp
dir, passphrase secrets, against the Datadog API stand-in (tests/standins/datadog_api) and
the SSH test hosts (tests/standins/ssh_hosts). Used by tests/e2e, `make demo` and
tests/bench/e2e.py; `FleetProject`, several stacks of one project run by tools.fleet's
Automation API layer, by tests/e2e/test_fleet_e2e.py and tests/bench/fleet.py.

Needs a `pulumi` CLI on PATH with the datadog 5.8.0 and command 1.2.1 plugins; `missing()`
says, in one line, what is not there.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
# The dev stack's example catalog (catalog/): objects every e2e stack creates besides its own.
SHIPPED_CATALOG = {kind: len(list((REPO / "catalog" / kind).glob("*.json")))
                   for kind in ("monitors", "dashboards")}
POLICY = REPO / "policy"
PLUGINS = {"datadog": "5.8.0", "command": "1.2.1"}
STACK = "e2e"
ACCOUNT = "acct"  # a FleetProject's account stack: its `hosts` stacks name it
PASSPHRASE = "e2e-passphrase-not-a-secret"
CANARIES = {
    "datadog:apiKey": "CANARY-api-key-5f1e0c",
    "datadog:appKey": "CANARY-app-key-9b2d4a",
    "datadog-stack:databasePassword": "CANARY-db-password-O'Hara",
}
# The program's files; copied to a work dir so the stack file never lands in the checkout.
PROGRAM = ("Pulumi.yaml", "__main__.py", "program.py", "settings.py", "pulumi_config.py",
           "domain.py", "components", "rules", "catalog",
           "agent_files", "app")


def missing() -> str | None:
    """One line naming what the e2e tier lacks here, or None."""
    if os.geteuid() != 0:
        return "the SSH test hosts need root"
    if not shutil.which("pulumi"):
        return ("no `pulumi` CLI on PATH (and plugins " +
                ", ".join(f"{n} {v}" for n, v in PLUGINS.items()) + ")")
    listed = subprocess.run(["pulumi", "plugin", "ls", "--json"], capture_output=True, text=True)
    have = {(p.get("name"), p.get("version")) for p in json.loads(listed.stdout or "[]")
            if p.get("kind") == "resource"}
    absent = [f"{n} {v}" for n, v in PLUGINS.items() if (n, v) not in have]
    if absent:
        return "pulumi plugins missing: " + ", ".join(absent) + \
            " (pulumi plugin install resource <name> <version>)"
    return None


def program_copy(prefix: str) -> tuple[Path, Path, dict[str, str]]:
    """A temp dir holding a copy of the program (`project/`, run in the repository's venv)
    and a file backend (`state/`), and the engine's environment for them."""
    root = Path(tempfile.mkdtemp(prefix=prefix))
    work = root / "project"
    work.mkdir()
    for name in PROGRAM:
        source = REPO / name
        (shutil.copytree if source.is_dir() else shutil.copy)(source, work / name)
    project = yaml.safe_load((work / "Pulumi.yaml").read_text())
    project["runtime"]["options"]["virtualenv"] = str(REPO / "venv")
    (work / "Pulumi.yaml").write_text(yaml.safe_dump(project, sort_keys=False))
    (root / "state").mkdir()
    env = {"PULUMI_BACKEND_URL": f"file://{root / 'state'}",
           "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE,
           "PULUMI_SKIP_UPDATE_CHECK": "true",
           "PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK": "true"}
    return root, work, env


@dataclass
class Step:
    """One engine run and what it cost."""
    name: str
    ok: bool
    changes: dict
    writes: int
    sessions: dict
    seconds: float
    output: str = ""
    outputs: dict = field(default_factory=dict)

    def line(self) -> str:
        changes = ", ".join(f"{k} {v}" for k, v in sorted(self.changes.items()) if k != "same")
        return (f"{self.name}: {'ok' if self.ok else 'FAILED'} in {self.seconds:.1f} s; "
                f"{changes or 'no changes'}; {self.writes} Datadog writes; "
                f"SSH sessions {sum(self.sessions.values())} "
                f"({', '.join(f'{h} {n}' for h, n in self.sessions.items())})")


def datadog_writes(standin) -> int:
    """Datadog writes the stand-in has seen: POST/PUT/PATCH/DELETE, not the provider's
    validate calls (POST .../validate checks a monitor body and changes nothing)."""
    return sum(1 for e in standin.requests()
               if e["method"] in ("POST", "PUT", "PATCH", "DELETE")
               and e["path"].startswith("/api/") and not e["path"].endswith("/validate"))


class Lifecycle:
    """An `e2e` stack over `hosts` (TestHosts) and `standin` (the Datadog API stand-in)."""

    def __init__(self, hosts, standin, on_output=None, agent_socket: str = ""):
        """`agent_socket`: log in through that ssh-agent (sshAgentSocket), no key in config."""
        from pulumi import automation as auto

        self.auto, self.hosts, self.standin = auto, hosts, standin
        self.agent_socket = agent_socket
        self.on_output = on_output
        self.clock_offset_days = 0.0
        self.dir, self.work, self.env = program_copy("e2e-stack-")
        self.stack = auto.create_or_select_stack(
            stack_name=STACK, work_dir=str(self.work),
            opts=auto.LocalWorkspaceOptions(env_vars=self.env, secrets_provider="passphrase"))
        self.set_config(self.base_config())

    def base_config(self) -> dict:
        """The dev stack's config, pointed at the stand-in and the test hosts."""
        config = yaml.safe_load((REPO / "Pulumi.dev.yaml").read_text())["config"]
        config.update({
            "datadog:apiUrl": self.standin.url + "/",
            "datadog:validate": "true",
            "datadog-stack:hosts": [
                {"name": h.name, "address": h.address, "sshPort": h.port, "sshUser": h.user}
                for h in self.hosts],
            **({"datadog-stack:sshAgentSocket": self.agent_socket} if self.agent_socket else {}),
        })
        return config

    def _write_config(self, values: dict) -> None:
        """Plain values go into the stack file as YAML, lists as lists, as a user would
        write them (the Automation API's set_config takes strings only)."""
        path = self.work / f"Pulumi.{STACK}.yaml"
        document = (yaml.safe_load(path.read_text()) if path.exists() else None) or {}
        document.setdefault("config", {}).update(values)
        path.write_text(yaml.safe_dump(document, sort_keys=False))

    def set_config(self, values: dict) -> None:
        self._write_config(values)
        secrets = {k: self.auto.ConfigValue(value=v, secret=True) for k, v in CANARIES.items()}
        if not self.agent_socket:
            secrets["datadog-stack:sshPrivateKey"] = self.auto.ConfigValue(
                value=self.hosts.private_key, secret=True)
        self.stack.set_all_config(secrets)

    def change(self, **values) -> None:
        self._write_config({f"datadog-stack:{k}": v for k, v in values.items()})

    def _counted(self, name: str, run) -> Step:
        writes = self.writes()
        sessions = {h.name: h.sessions() for h in self.hosts}
        started = time.monotonic()
        ok, changes, output, outputs = True, {}, "", {}
        try:
            result = run()
            summary = getattr(result, "summary", None)  # a preview has change_summary instead
            changes = dict((summary.resource_changes if summary else result.change_summary) or {})
            output = result.stdout + (result.stderr or "")  # stderr: the engine's log
            outputs = {k: v.value for k, v in getattr(result, "outputs", {}).items()}
        except self.auto.CommandError as error:
            ok, output = False, str(error)
        return Step(name, ok, changes, self.writes() - writes,
                    {h.name: h.sessions() - sessions[h.name] for h in self.hosts},
                    time.monotonic() - started, output, outputs)

    def writes(self) -> int:
        return datadog_writes(self.standin)

    def advance_clock(self, days: float) -> None:
        """Time passes for Datadog and for the program alike: the stand-in's clock, and the
        program's (DATADOG_STACK_NOW, set afresh before each operation from now on)."""
        self.clock_offset_days = days
        self.standin.set_clock_offset(days)

    def _tick(self) -> None:
        if self.clock_offset_days:
            later = datetime.now(timezone.utc) + timedelta(days=self.clock_offset_days)
            self.stack.workspace.env_vars = {**self.env, "DATADOG_STACK_NOW": later.isoformat()}

    def up(self, name: str, **kwargs) -> Step:
        self._tick()
        return self._counted(name, lambda: self.stack.up(
            on_output=self.on_output, policy_packs=[str(POLICY)], color="never", **kwargs))

    def preview(self, name: str) -> Step:
        self._tick()
        return self._counted(name, lambda: self.stack.preview(
            on_output=self.on_output, policy_packs=[str(POLICY)], color="never"))

    def destroy(self, name: str = "destroy") -> Step:
        self._tick()
        return self._counted(name, lambda: self.stack.destroy(on_output=self.on_output, color="never"))

    def export(self) -> dict:
        """`pulumi stack export` as a user runs it (the Automation API's export_stack adds
        --show-secrets, which would decrypt every secret)."""
        done = subprocess.run(["pulumi", "stack", "export", "--stack", STACK], cwd=self.work,
                              env={**os.environ, **self.env}, capture_output=True, text=True,
                              check=True)
        return json.loads(done.stdout)["deployment"]

    def pending_operations(self) -> list:
        return self.export().get("pending_operations") or []

    def stack_file(self) -> str:
        return (self.work / f"Pulumi.{STACK}.yaml").read_text()

    def close(self) -> None:
        try:
            self.stack.workspace.remove_stack(STACK, force=True)
        except Exception:  # noqa: BLE001 - a half-built stack: the temp dir goes anyway
            pass
        shutil.rmtree(self.dir, ignore_errors=True)


def live(objects: dict) -> dict:
    """The stand-in's objects that are live: every monitor and dashboard, uncanceled downtimes."""
    def canceled(obj):
        return bool(obj.get("canceled") or (obj.get("attributes") or {}).get("canceled"))
    return {kind: [oid for oid, obj in items.items() if not (kind == "downtimes" and canceled(obj))]
            for kind, items in objects.items()}


class FleetProject:
    """The program in a work dir, a file backend beside it, and its stacks (docs/fleet.md):
    `create` one of any role, `run` them as tools.fleet does."""

    def __init__(self, hosts, standin):
        from pulumi import automation as auto

        self.auto, self.hosts, self.standin = auto, hosts, standin
        self.dir, self.work, self.env = program_copy("e2e-fleet-")
        self.stacks: list[str] = []

    def options(self):
        return self.auto.LocalWorkspaceOptions(env_vars=self.env, secrets_provider="passphrase")

    def create(self, name: str, role: str, hosts=()) -> None:
        """A stack with the dev stack's config, pointed at the stand-in, of `role`: an
        `account` stack lists no host; a `hosts` stack names ACCOUNT; `all` is the dev
        stack's shape with these hosts."""
        stack = self.auto.create_stack(stack_name=name, work_dir=str(self.work), opts=self.options())
        config = yaml.safe_load((REPO / "Pulumi.dev.yaml").read_text())["config"]
        config.update({"datadog:apiUrl": self.standin.url + "/", "datadog:validate": "true",
                       "datadog-stack:role": role})
        if role == "account":
            config.pop("datadog-stack:hosts")
        else:
            if role == "hosts":
                config["datadog-stack:accountStack"] = ACCOUNT
            config["datadog-stack:hosts"] = [{"name": h.name, "address": h.address,
                                              "sshPort": h.port, "sshUser": h.user} for h in hosts]
        path = self.work / f"Pulumi.{name}.yaml"
        document = yaml.safe_load(path.read_text()) if path.exists() else {}
        (document or {}).setdefault("config", {}).update(config)
        path.write_text(yaml.safe_dump(document or {"config": config}, sort_keys=False))
        secrets = {k: self.auto.ConfigValue(value=v, secret=True) for k, v in CANARIES.items()}
        secrets["datadog-stack:sshPrivateKey"] = self.auto.ConfigValue(
            value=self.hosts.private_key, secret=True)
        stack.set_all_config(secrets)
        self.stacks.append(name)

    def run(self, command: str, accounts: tuple[str, ...], others: tuple[str, ...],
            workers: int = 2, env_of=None):
        """tools.fleet's run of these stacks: ({stack: Outcome}, not started, lines).
        `env_of(stack)`: that stack's engine environment (default: the project's)."""
        from tools import fleet

        lines: list[str] = []
        logs = self.dir / "logs"
        logs.mkdir(exist_ok=True)
        runners = {stack: fleet.automation_runner(command, self.work, log_dir=logs,
                                                  env=env_of(stack) if env_of else self.env)
                   for stack in accounts + others}
        outcomes, skipped = fleet.run_fleet(fleet.Waves(accounts, others), command,
                                            lambda stack: runners[stack](stack),
                                            workers=workers, emit=lines.append)
        return {o.stack: o for o in outcomes}, skipped, lines

    def log(self, stack: str) -> str:
        """The last run's engine output of `stack`, for assertion messages."""
        path = self.dir / "logs" / f"{stack}.log"
        return path.read_text()[-3000:] if path.exists() else ""

    def checkpoint(self, stack: str) -> Path | None:
        """The stack's state file in the file backend (its checkpoint), if written yet."""
        found = [p for p in (self.dir / "state").rglob(f"{stack}.json")
                 if p.parent.parent.name == "stacks" or p.parent.name == "stacks"]
        return found[0] if found else None

    def close(self, destroy: bool = True) -> None:
        """Destroy the stacks (the groups before the account they read), then remove the
        work dir and backend; `destroy=False` only removes them (the stand-ins go too)."""
        for name in reversed(self.stacks if destroy else []):
            try:
                stack = self.auto.select_stack(stack_name=name, work_dir=str(self.work),
                                               opts=self.options())
                stack.destroy(color="never")
                stack.workspace.remove_stack(name, force=True)
            except Exception:  # noqa: BLE001 - a half-built stack: the temp dir goes anyway
                pass
        shutil.rmtree(self.dir, ignore_errors=True)
