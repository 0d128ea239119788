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

import pytest
import yaml

from agent_files import render
from tests.e2e.lifecycle import ACCOUNT, FleetProject, missing
from tests.remote.conftest import start_hosts
from tests.standins.ssh_hosts import HostSpec

pytestmark = pytest.mark.e2e
_why = missing()
if _why:
    pytest.skip(f"e2e tier skipped: {_why}", allow_module_level=True)

FIRST, SECOND = "group-a", "group-b"
FLEET_TAG = "pulumi-fleet:datadog-stack/acct"  # rules.fleet.fleet_tag of this project and ACCOUNT


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
