"""A fleet through the real engine (docs/fleet.md): an account stack and a first host-group
stack deployed by `tools.fleet`'s Automation API layer, then a second group stack's host
deployed beside them; the account's objects in the Datadog stand-in stay exactly as they
were, and the first group's host sees no SSH session.

Three stacks of one project in one file backend (each its own lock), passphrase secrets,
two SSH test hosts: the model is tests/e2e/lifecycle.py. Skips, in one line, where the
`pulumi` CLI or the plugins are missing (lifecycle.missing).
"""
from __future__ import annotations

import copy
import shutil

import pytest
import yaml

from agent_files import render
from tests.e2e.lifecycle import CANARIES, REPO, missing, program_copy
from tests.remote.conftest import start_hosts
from tests.standins.ssh_hosts import HostSpec
from tools import fleet

pytestmark = pytest.mark.e2e
_why = missing()
if _why:
    pytest.skip(f"e2e tier skipped: {_why}", allow_module_level=True)

ACCOUNT, FIRST, SECOND = "acct", "group-a", "group-b"
FLEET_TAG = "pulumi-fleet:datadog-stack/acct"  # rules.fleet.fleet_tag of this project and ACCOUNT


class FleetProject:
    """The program in a work dir, a file backend beside it, and its stacks."""

    def __init__(self, hosts, standin):
        from pulumi import automation as auto

        self.auto, self.hosts, self.standin = auto, hosts, standin
        self.dir, self.work, self.env = program_copy("e2e-fleet-")
        self.stacks: list[str] = []

    def options(self):
        return self.auto.LocalWorkspaceOptions(env_vars=self.env, secrets_provider="passphrase")

    def create(self, name: str, role: str, hosts=()) -> None:
        """A stack with the dev stack's config, pointed at the stand-in, of `role`."""
        stack = self.auto.create_stack(stack_name=name, work_dir=str(self.work), opts=self.options())
        config = yaml.safe_load((REPO / "Pulumi.dev.yaml").read_text())["config"]
        config.update({"datadog:apiUrl": self.standin.url + "/", "datadog:validate": "true",
                       "datadog-stack:role": role})
        if role == "account":
            config.pop("datadog-stack:hosts")
        else:
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

    def run(self, command: str, accounts: tuple[str, ...], others: tuple[str, ...]):
        lines: list[str] = []
        logs = self.dir / "logs"
        logs.mkdir(exist_ok=True)
        runner = fleet.automation_runner(command, self.work, log_dir=logs, env=self.env)
        outcomes, skipped = fleet.run_fleet(fleet.Waves(accounts, others), command, runner,
                                            workers=2, emit=lines.append)
        return {o.stack: o for o in outcomes}, skipped, lines

    def log(self, stack: str) -> str:
        """The last run's engine output of `stack`, for assertion messages."""
        path = self.dir / "logs" / f"{stack}.log"
        return path.read_text()[-3000:] if path.exists() else ""

    def close(self) -> None:
        for name in reversed(self.stacks):  # the groups before the account they read
            try:
                stack = self.auto.select_stack(stack_name=name, work_dir=str(self.work),
                                               opts=self.options())
                stack.destroy(color="never")
                stack.workspace.remove_stack(name, force=True)
            except Exception:  # noqa: BLE001 - a half-built stack: the temp dir goes anyway
                pass
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="module")
def hosts():
    with start_hosts([HostSpec(user="root"), HostSpec(user="root")]) as started:
        yield started


@pytest.fixture(scope="module")
def project(hosts, standin):
    made = FleetProject(hosts, standin)
    made.create(ACCOUNT, "account")
    first, second = list(hosts)
    made.create(FIRST, "hosts", [first])
    made.create(SECOND, "hosts", [second])
    yield made
    made.close()


@pytest.fixture(scope="module")
def first_wave(project):
    """The account stack, then the first group."""
    return project.run("up", (ACCOUNT,), (FIRST,))


@pytest.fixture(scope="module")
def second_group(project, standin, hosts, first_wave):
    """The second group's up, with the stand-in's objects and the first host's SSH
    sessions before and after."""
    first_host = list(hosts)[0]
    objects, sessions = copy.deepcopy(standin.objects()), first_host.sessions()
    writes = standin.count(writes_only=True)
    outcomes, skipped, lines = project.run("up", (), (SECOND,))
    return {"outcomes": outcomes, "lines": lines, "objects_before": objects,
            "objects_after": copy.deepcopy(standin.objects()),
            "writes": standin.count(writes_only=True) - writes,
            "first_host_sessions": first_host.sessions() - sessions}


def test_the_account_stack_and_the_first_group_deploy_in_order(project, first_wave):
    outcomes, skipped, lines = first_wave
    assert skipped == [] and all(o.ok for o in outcomes.values()), \
        (lines, project.log(ACCOUNT), project.log(FIRST))
    assert lines.index(f"{ACCOUNT}: started up") < lines.index(f"{FIRST}: started up"), \
        "the group reads the account's outputs: the account stack runs first"


def test_the_account_monitor_watches_every_host_with_the_fleet_tag(standin, first_wave):
    queries = [m.get("query", "") for m in standin.objects()["monitors"].values()]
    assert any(f"my_metric{{{FLEET_TAG}}}" in q for q in queries), queries


def test_a_second_group_deploys_its_host_with_the_fleet_tag(project, hosts, second_group):
    outcome = second_group["outcomes"][SECOND]
    assert outcome.ok, (second_group["lines"], project.log(SECOND))
    written = yaml.safe_load(list(hosts)[1].path(render.DATADOG_YAML).read_text())
    assert FLEET_TAG in written["tags"], \
        "the host carries the account's fleet tag, so the account's monitor and downtimes cover it"


def test_the_account_objects_are_untouched_by_the_second_group(second_group):
    assert second_group["writes"] == 0, "a group stack makes no Datadog write"
    assert second_group["objects_after"] == second_group["objects_before"], \
        "the stand-in's monitors, dashboards and downtimes are exactly as before"


def test_the_first_groups_host_sees_no_session_from_the_second_group(second_group):
    assert second_group["first_host_sessions"] == 0, "each group stack touches only its hosts"


def test_a_second_up_of_the_fleet_changes_nothing(project, second_group):
    outcomes, skipped, lines = project.run("up", (ACCOUNT,), (FIRST, SECOND))
    assert skipped == [] and all(o.ok for o in outcomes.values()), lines
    # A group's StackReference is read again on every run: a read, not a change.
    changed = {name: set(o.changes) - {"same", "read"} for name, o in outcomes.items()}
    assert changed == {ACCOUNT: set(), FIRST: set(), SECOND: set()}, lines
