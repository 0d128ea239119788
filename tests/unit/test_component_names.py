"""The Datadog side's names: a deployed stack's objects keep their URNs, or are found by an
alias, so `pulumi up` after a rename updates them in place (same ids, same URLs).

The program's Datadog side is built under the mock runtime (tools/mock_engine.py), which records
each registration as the engine receives it; URNs and aliases are then resolved the way the
engine does (pulumi/pulumi pkg/resource/deploy/step_generator.go, collapseAliasToUrn: an
alias spec's empty name, type or parent is the resource's own, a parent that is the stack
is none; the URN is the stack, the project, the types from the top-level component down
joined by `$`, and the name; generateAliases: a child inherits its parent's aliases). The
engine refuses two resources claiming one old URN.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest

import program
from components import apm_dashboard, downtimes, monitor, timeboard
from tools import mock_engine
from tools.plan import PROJECT, StackConfig, run

pytestmark = pytest.mark.unit

STACK = "dev"
DEV = Path(__file__).resolve().parents[2] / "Pulumi.dev.yaml"
ROOT_TYPE = "pulumi:pulumi:Stack"  # the engine leaves the stack out of its children's types
NOW = datetime.fromisoformat("2027-01-04T15:00:00+00:00")  # downtime starts; no name uses it
# The dev stack's Datadog side as deployed before the children were named `<name>-<role>`:
# tests/snapshots/dev-plan.json at commit 549329f (type chain from the top, name).
DEPLOYED = [
    (("datadog-stack:dashboards:Timeboard",), "timeboard"),
    (("datadog-stack:dashboards:Timeboard", "datadog:index/dashboard:Dashboard"), "timeboard"),
    (("datadog-stack:monitoring:MetricMonitor",), "my-metric-high"),
    (("datadog-stack:monitoring:MetricMonitor", "datadog:index/monitor:Monitor"),
     "my-metric-high"),
    (("datadog-stack:monitoring:OffHoursDowntimes",), "off-hours"),
    (("datadog-stack:monitoring:OffHoursDowntimes",
      "datadog:index/downtimeSchedule:DowntimeSchedule"), "off-hours-weekday-nights-1b13d5a4"),
    (("datadog-stack:monitoring:OffHoursDowntimes",
      "datadog:index/downtimeSchedule:DowntimeSchedule"), "off-hours-weekends-1763671d"),
    (("datadog-stack:apm:ApmDashboard",), "apm"),
    (("datadog-stack:apm:ApmDashboard", "datadog:index/dashboard:Dashboard"), "apm-dashboard"),
]

# The whole dev stack as deployed before the components became the package `datadog-stack`
# (tokens `datadog-stack:<area>:<Class>`): tests/snapshots/dev-plan.json at commit 4d3e6fa.
_OLD = {"apm": "datadog-stack:apm:ApmDashboard", "vm1-app": "datadog-stack:apm:ApmService",
        "catalog": "datadog-stack:catalog:Catalog", "timeboard": "datadog-stack:dashboards:Timeboard",
        "vm1-agent": "datadog-stack:host:AgentHost",
        "my-metric-high": "datadog-stack:monitoring:MetricMonitor",
        "off-hours": "datadog-stack:monitoring:OffHoursDowntimes"}
_COMMAND = "command:remote:Command"
DEPLOYED_BEFORE_PACKAGE = [((token,), name) for name, token in _OLD.items()] + [
    ((_OLD[parent], type_), name) for parent, type_, name in [
        ("apm", "datadog:index/dashboard:Dashboard", "apm-dashboard"),
        ("catalog", "datadog:index/dashboardJson:DashboardJson", "dashboard-hosts"),
        ("catalog", "datadog:index/monitorJson:MonitorJson", "monitor-agent-up"),
        ("my-metric-high", "datadog:index/monitor:Monitor", "my-metric-high-monitor"),
        ("off-hours", "datadog:index/downtimeSchedule:DowntimeSchedule",
         "off-hours-weekday-nights-1b13d5a4"),
        ("off-hours", "datadog:index/downtimeSchedule:DowntimeSchedule",
         "off-hours-weekends-1763671d"),
        ("timeboard", "datadog:index/dashboard:Dashboard", "timeboard-dashboard"),
        *(("vm1-agent", _COMMAND, f"vm1-agent-{role}") for role in ("bundle", "install", "teardown")),
        *(("vm1-app", _COMMAND, f"vm1-app-{role}") for role in ("install", "smoke", "teardown")),
    ]]


def urn(types: tuple[str, ...], name: str) -> str:
    return f"urn:pulumi:{STACK}::{PROJECT}::{'$'.join(types)}::{name}"


@dataclass
class Registered:
    """The RegisterResource requests of the program's Datadog side, the stack's aside."""

    requests: list
    by_mock_urn: dict  # the mock's URN -> its request, to walk up the parents

    def types(self, request) -> tuple[str, ...]:
        chain: list[str] = []
        while request is not None and request.type != ROOT_TYPE:
            chain.insert(0, request.type)
            request = self.by_mock_urn.get(request.parent)
        return tuple(chain)

    def urn(self, request) -> str:
        return urn(self.types(request), request.name)

    def alias_urns(self, request) -> set[str]:
        """Every URN the resource's aliases stand for, as the engine reads them: an alias spec
        leaves empty what is the resource's own (collapseAliasToUrn), and a child of an aliased
        parent also goes by its own type and name, and by each of its aliases, under every
        alias of the parent (generateAliases, same file)."""
        inherited = {urn((*parent, request.type), request.name)
                     for parent, _ in self._keys_of(self.parent(request))}
        return inherited.union(*self.declared_alias_urns(request))

    def declared_alias_urns(self, request) -> list[set[str]]:
        """Each alias the program declares: the URNs it stands for."""
        return [{urn(types, name) for types, name in self._alias_keys(request, alias)}
                for alias in request.aliases]

    def parent(self, request):
        parent = self.by_mock_urn.get(request.parent)
        return None if parent is None or parent.type == ROOT_TYPE else parent

    def _keys_of(self, request) -> set[tuple[tuple[str, ...], str]]:
        """(types, name) of every alias URN of `request` (none for the stack)."""
        if request is None:
            return set()
        inherited = {((*parent, request.type), request.name)
                     for parent, _ in self._keys_of(self.parent(request))}
        return inherited.union(*(self._alias_keys(request, a) for a in request.aliases))

    def _alias_keys(self, request, alias) -> set[tuple[tuple[str, ...], str]]:
        if alias.urn:
            types, name = alias.urn.split("::", 3)[2:]
            return {(tuple(types.split("$")), name)}
        spec = alias.spec
        type_, name = spec.type or request.type, spec.name or request.name
        if spec.noParent:
            return {((type_,), name)}
        if spec.parentUrn:
            return {((*self.types(self.by_mock_urn[spec.parentUrn]), type_), name)}
        parents = {self.types(request)[:-1]} | {p for p, _ in self._keys_of(self.parent(request))}
        return {((*parent, type_), name) for parent in parents}

    def claims(self) -> dict[str, list[str]]:
        """URN -> the resources that take it over: by being there, or by an alias."""
        claimed: dict[str, list[str]] = {}
        for request in self.requests:
            for each in {self.urn(request)} | self.alias_urns(request):
                claimed.setdefault(each, []).append(request.name)
        return claimed


def register(declare) -> Registered:
    """What `declare(settings)` registers for the dev stack. The settings come from their own
    mock run of the program; this one starts after it."""
    settings = run(StackConfig.from_file(DEV), STACK).settings
    monitor_ = mock_engine.start(mock_engine.Mocks(), stack=STACK, preview=False)
    mock_engine.run(lambda: declare(settings))
    requests = [r for r in monitor_.requests.values() if r.type != ROOT_TYPE]
    return Registered(requests, {monitor_.urns[name]: r for name, r in monitor_.requests.items()})


@pytest.fixture(scope="module")
def registered() -> Registered:
    return register(lambda settings: program._datadog(settings, NOW))


@pytest.fixture(scope="module")
def registered_stack() -> Registered:
    """The whole dev stack: the Datadog side, the catalog and the hosts' commands."""
    return register(lambda settings: program.build(settings, NOW))


def test_every_resource_deployed_before_the_package_is_taken_over_by_exactly_one(registered_stack):
    claimed = registered_stack.claims()
    lost = [urn(t, n) for t, n in DEPLOYED_BEFORE_PACKAGE if len(claimed.get(urn(t, n), [])) != 1]
    assert lost == [], ("the package's tokens must not replace what a stack deployed: each "
                        "component aliases its old token, and its children inherit the alias")


def test_every_alias_of_the_stack_names_an_object_it_deployed(registered_stack):
    deployed = {urn(t, n) for t, n in DEPLOYED + DEPLOYED_BEFORE_PACKAGE}
    stray = {r.name: [sorted(urns) for urns in registered_stack.declared_alias_urns(r)
                      if not urns & deployed] for r in registered_stack.requests}
    assert {name: urns for name, urns in stray.items() if urns} == {}, \
        "an alias to a URN no stack ever had is a typo that protects nothing"

def test_every_deployed_datadog_object_is_taken_over_by_exactly_one_resource(registered):
    claimed = registered.claims()
    lost = [urn(t, n) for t, n in DEPLOYED if len(claimed.get(urn(t, n), [])) != 1]
    assert lost == [], ("a deployed object no resource takes over is deleted and created "
                        "again, with a new id and URL")


def test_the_renamed_monitor_and_timeboard_keep_their_deployed_objects(registered):
    claimed = registered.claims()
    assert claimed[urn(DEPLOYED[1][0], "timeboard")] == ["timeboard-dashboard"]
    assert claimed[urn(DEPLOYED[3][0], "my-metric-high")] == ["my-metric-high-monitor"]


def test_every_alias_names_a_deployed_object(registered):
    deployed = {urn(t, n) for t, n in DEPLOYED}
    stray = {r.name: [sorted(urns) for urns in registered.declared_alias_urns(r)
                      if not urns & deployed] for r in registered.requests}
    assert {name: urns for name, urns in stray.items() if urns} == {}, \
        "an alias to a URN no stack ever had is a typo that protects nothing"


def test_children_are_named_after_their_component(registered):
    misnamed = [r.name for r in registered.requests if len(registered.types(r)) > 1
                and not r.name.startswith(f"{registered.by_mock_urn[r.parent].name}-")]
    assert misnamed == [], "a child is `<component>-<role>`"


@pytest.mark.parametrize("module", [timeboard, monitor, downtimes, apm_dashboard])
def test_each_component_registers_the_type_its_module_declares(registered, module):
    assert module.TYPE in {registered.types(r)[0] for r in registered.requests}
