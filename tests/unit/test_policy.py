"""The datadog-stack-standards policy pack (policy/).

Most tests call the pure checks of policy/standards.py with plain dicts, as the engine hands
them to the pack (camelCase wire names). Two run the real pack in its own virtualenv
(policy/venv: pulumi-policy needs protobuf 5.29, the program's venv has 6.x): one imports
__main__'s wiring without serving, one starts the pack's gRPC server as the Pulumi CLI does and
calls Analyze and AnalyzeStack. Those two skip, saying how to build policy/venv, when it is
missing. The last one checks the dev stack's offline plan against every standard.
"""
from __future__ import annotations

import json
import subprocess
import textwrap
from collections.abc import Mapping
from pathlib import Path

import pytest

from policy import standards
from policy.standards import (
    DASHBOARD,
    DOWNTIME_SCHEDULE,
    MONITOR,
    REMOTE_COMMAND,
    dashboard_has_content,
    downtime_scoped_to_monitors,
    monitor_notifies,
    monitor_recovery_consistent,
    monitor_thresholds_ordered,
    remote_deploys_have_delete,
    stack_violations,
    violations,
)

from tests import needs

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
POLICY_DIR = ROOT / "policy"
POLICY_PYTHON = POLICY_DIR / "venv" / "bin" / "python"
UNKNOWN_STRING = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
UNKNOWN_NUMBER = "3eeb2bf0-c639-47a8-9e75-3b44932eb421"


def good_monitor(**overrides):
    props = {
        "name": "my_metric is high",
        "type": "metric alert",
        "query": "avg(last_5m):avg:my_metric{env:dev} > 800",
        "message": "my_metric is {{value}} on {{host.name}} @ops@example.com",
        "notifyNoData": True,
        "noDataTimeframe": 10,
        "monitorThresholds": {"warning": "500", "critical": "800"},
    }
    props.update(overrides)
    return props


def good_downtime(**overrides):
    props = {
        "scope": "env:dev",
        "monitorIdentifier": {"monitorId": 12345},
        "recurringSchedule": {"timezone": "America/New_York", "recurrences": []},
        "message": "off hours @ops@example.com",
    }
    props.update(overrides)
    return props


def good_dashboard(**overrides):
    props = {
        "title": "datadog-stack dev",
        "layoutType": "ordered",
        "widgets": [{"timeseriesDefinition": {"title": "my_metric"}}],
    }
    props.update(overrides)
    return props


def good_command(**overrides):
    props = {
        "connection": {"host": "192.0.2.10", "user": "vagrant"},
        "create": "sudo install -m 0644 /tmp/x /etc/datadog-agent/conf.d/x.yaml",
        "delete": "sudo rm -f /etc/datadog-agent/conf.d/x.yaml",
    }
    props.update(overrides)
    return props


# --- monitor-notifies-and-alerts-on-no-data -----------------------------------------------


def test_monitor_with_handle_and_no_data_alert_passes():
    assert monitor_notifies(MONITOR, good_monitor()) == []


@pytest.mark.parametrize(
    "handle", ["@ops@example.com", "@slack-alerts", "@pagerduty-db", "(@team-sre)"]
)
def test_monitor_handle_forms(handle):
    assert monitor_notifies(MONITOR, good_monitor(message=f"high {handle}")) == []


@pytest.mark.parametrize(
    "message", ["my_metric is high", "mail ops@example.com", "", None]
)
def test_monitor_without_handle_fails(message):
    props = good_monitor(message=message)
    if message is None:
        del props["message"]
    assert monitor_notifies(MONITOR, props) == [
        "monitor message notifies no one: add an @-handle (e.g. @ops@example.com) to `message`"
    ]


@pytest.mark.parametrize("value", [False, None, "true"])
def test_monitor_without_no_data_alert_fails(value):
    props = good_monitor(notifyNoData=value)
    if value is None:
        del props["notifyNoData"]
    assert monitor_notifies(MONITOR, props) == [
        "monitor does not alert on missing data: set `notifyNoData` to true"
    ]


def test_monitor_failing_both_reports_both():
    assert len(monitor_notifies(MONITOR, good_monitor(message="x", notifyNoData=False))) == 2


# --- monitor-warning-before-critical ----------------------------------------------------------


@pytest.mark.parametrize(
    "query, warning, critical",
    [
        ("avg(last_5m):avg:my_metric{*} > 800", "500", "800"),
        ("avg(last_5m):avg:my_metric{*} >= 800", 500, 800.0),
        ("avg(last_5m):avg:free_mem{*} < 100", "200", "100"),
        ("avg(last_5m):avg:free_mem{*} <= 1e2", "200.5", "100"),
    ],
)
def test_thresholds_in_order_pass(query, warning, critical):
    props = good_monitor(query=query, monitorThresholds={"warning": warning, "critical": critical})
    assert monitor_thresholds_ordered(MONITOR, props) == []


@pytest.mark.parametrize(
    "query, warning, critical, word",
    [
        ("avg(last_5m):avg:my_metric{*} > 800", "900", "800", "below"),
        ("avg(last_5m):avg:my_metric{*} >= 800", "800", "800", "below"),
        ("avg(last_5m):avg:free_mem{*} < 100", "50", "100", "above"),
        ("avg(last_5m):avg:free_mem{*} <= 100", "100", "100", "above"),
    ],
)
def test_thresholds_out_of_order_fail(query, warning, critical, word):
    props = good_monitor(query=query, monitorThresholds={"warning": warning, "critical": critical})
    [message] = monitor_thresholds_ordered(MONITOR, props)
    assert f"must be {word} the critical one" in message


def test_thresholds_not_numbers_fail():
    props = good_monitor(monitorThresholds={"warning": "lots", "critical": "800"})
    assert monitor_thresholds_ordered(MONITOR, props) == [
        "monitor warning threshold 'lots' is not a number"
    ]


@pytest.mark.parametrize(
    "props",
    [
        good_monitor(monitorThresholds={"critical": "800"}),  # no warning: nothing to order
        good_monitor(query='"http.can_connect".over("*").by("host").last(2).count_by_status()'),
        {k: v for k, v in good_monitor().items() if k != "monitorThresholds"},
    ],
)
def test_thresholds_not_applicable_pass(props):
    assert monitor_thresholds_ordered(MONITOR, props) == []


# --- monitor-recovery-beyond-threshold -----------------------------------------------------

GT, LT = "avg(last_5m):avg:my_metric{*} > 800", "avg(last_5m):avg:free_mem{*} < 100"


@pytest.mark.parametrize(
    "query, thresholds",
    [
        (GT, {"warning": "500", "critical": "800", "warningRecovery": "200", "criticalRecovery": "650"}),
        (GT.replace(">", ">="), {"warning": 500, "critical": 800, "criticalRecovery": 799.5}),
        (LT, {"warning": "200", "critical": "100", "warningRecovery": "300", "criticalRecovery": "150"}),
        (GT, {"criticalRecovery": "700"}),  # critical taken from the query's own number
        (GT, {"warning": "500", "critical": "800"}),  # no recovery thresholds: nothing to judge
    ],
)
def test_recovery_on_the_recovering_side_passes(query, thresholds):
    props = good_monitor(query=query, monitorThresholds=thresholds)
    assert monitor_recovery_consistent(MONITOR, props) == []


@pytest.mark.parametrize(
    "query, thresholds, key, side",
    [
        (GT, {"warning": "500", "critical": "800", "warningRecovery": "600"}, "warningRecovery", "below"),
        (GT, {"warning": "500", "critical": "800", "criticalRecovery": "800"}, "criticalRecovery", "below"),
        (GT.replace(">", ">="), {"critical": "800", "criticalRecovery": "900"}, "criticalRecovery", "below"),
        (LT, {"warning": "200", "critical": "100", "warningRecovery": "150"}, "warningRecovery", "above"),
        (LT.replace("<", "<="), {"critical": "100", "criticalRecovery": "100"}, "criticalRecovery", "above"),
    ],
)
def test_recovery_at_or_beyond_its_threshold_fails(query, thresholds, key, side):
    [message] = monitor_recovery_consistent(MONITOR, good_monitor(query=query, monitorThresholds=thresholds))
    assert message.startswith(f"monitor {key} (") and f"must be {side} the" in message


def test_warning_recovery_without_a_warning_fails():
    props = good_monitor(monitorThresholds={"critical": "800", "warningRecovery": "200"})
    assert monitor_recovery_consistent(MONITOR, props) == [
        "monitor warningRecovery (200) is set without a warning threshold to recover from"]


def test_recovery_not_a_number_fails():
    props = good_monitor(monitorThresholds={"warning": "500", "critical": "800", "warningRecovery": "low"})
    assert monitor_recovery_consistent(MONITOR, props) == ["monitor warningRecovery 'low' is not a number"]


def test_recovery_unknown_during_preview_is_judged_later():
    props = good_monitor(monitorThresholds={"warning": "500", "critical": "800",
                                            "warningRecovery": UNKNOWN_NUMBER})
    assert monitor_recovery_consistent(MONITOR, props) == []


# --- downtime-scoped-to-monitors ------------------------------------------------------------


@pytest.mark.parametrize(
    "identifier",
    [
        {"monitorId": 12345},
        {"monitorTags": ["service:my_metric", "env:dev"]},
        {"monitorId": UNKNOWN_NUMBER},  # the monitor's id during preview
    ],
)
def test_downtime_scoped_passes(identifier):
    assert downtime_scoped_to_monitors(DOWNTIME_SCHEDULE, good_downtime(monitorIdentifier=identifier)) == []


@pytest.mark.parametrize(
    "identifier",
    [None, {}, {"monitorTags": []}, {"monitorId": 0}, {"monitorId": None, "monitorTags": None}],
)
def test_downtime_unscoped_fails(identifier):
    props = good_downtime(monitorIdentifier=identifier)
    if identifier is None:
        del props["monitorIdentifier"]
    [message] = downtime_scoped_to_monitors(DOWNTIME_SCHEDULE, props)
    assert message.startswith("downtime is not scoped to monitors")


@pytest.mark.parametrize("tags", [["*"], ["env:dev", "service:*"]])
def test_downtime_wildcard_tags_fail(tags):
    props = good_downtime(monitorIdentifier={"monitorTags": tags})
    [message] = downtime_scoped_to_monitors(DOWNTIME_SCHEDULE, props)
    assert "contain `*`" in message


# --- dashboard-has-title-and-widgets ----------------------------------------------------------


def test_dashboard_with_title_and_widget_passes():
    assert dashboard_has_content(DASHBOARD, good_dashboard()) == []


@pytest.mark.parametrize("title", ["", "   ", None])
def test_dashboard_without_title_fails(title):
    assert dashboard_has_content(DASHBOARD, good_dashboard(title=title)) == [
        "dashboard has no title: set a non-empty `title`"
    ]


@pytest.mark.parametrize("widgets", [[], None])
def test_dashboard_without_widgets_fails(widgets):
    assert dashboard_has_content(DASHBOARD, good_dashboard(widgets=widgets)) == [
        "dashboard has no widgets: add at least one to `widgets`"
    ]


# --- remote-deploy-has-delete (stack level) -------------------------------------------------


def triggered_command(**overrides):
    """A content-triggered command (`-bundle`, `-install`, `-smoke`): no delete, on purpose."""
    props = good_command(triggers=["sha256:0123abcd"])
    del props["delete"]
    props.update(overrides)
    return props


def component_commands(parent="vm1-agent", teardown_delete="sudo rm -rf /var/lib/datadog-stack"):
    """One component's deployment to one host, as components/agent_host.py declares it."""
    teardown = good_command(delete=teardown_delete)
    if teardown_delete is None:
        del teardown["delete"]
    return [
        (f"{parent}-teardown", parent, teardown),
        (f"{parent}-bundle", parent, triggered_command()),
        (f"{parent}-install", parent, triggered_command()),
    ]


def test_component_with_teardown_delete_and_triggered_commands_without_passes():
    commands = component_commands("vm1-agent") + component_commands("vm1-app")
    assert remote_deploys_have_delete(commands) == []


@pytest.mark.parametrize("delete", ["", "  ", None])
def test_component_without_any_delete_fails_naming_it(delete):
    commands = component_commands("vm1-agent") + component_commands("vm1-app", delete)
    [message] = remote_deploys_have_delete(commands)
    assert message.startswith("component vm1-app deploys to a host with remote commands "
                              "(vm1-app-teardown, vm1-app-bundle, vm1-app-install)")
    assert "none has a delete step" in message
    assert "vm1-agent" not in message


@pytest.mark.parametrize("delete", ["", None])
def test_parentless_command_without_delete_fails(delete):
    props = good_command(delete=delete)
    if delete is None:
        del props["delete"]
    commands = component_commands() + [("standalone", None, props), ("ok", None, good_command())]
    [message] = remote_deploys_have_delete(commands)
    assert message.startswith("remote command standalone has no delete step")


def test_parentless_command_does_not_borrow_a_components_delete():
    """Each top-level command is its own deployment: another command's delete does not count."""
    commands = [("a", None, good_command()), ("b", None, triggered_command())]
    [message] = remote_deploys_have_delete(commands)
    assert message.startswith("remote command b has no delete step")


def test_targeted_up_does_not_judge_untargeted_commands_without_properties():
    """`pulumi up --target` hands untargeted resources to the stack policy with empty props."""
    commands = [(name, parent, {}) for name, parent, _ in component_commands("vm1-agent")]
    commands += [("standalone", None, {})]
    assert remote_deploys_have_delete(commands) == []


def test_a_component_whose_teardown_is_untargeted_is_not_judged():
    """Targeting only the install: the teardown (with the delete) arrives without props."""
    commands = [("vm1-agent-teardown", "vm1-agent", {}),
                ("vm1-agent-install", "vm1-agent", triggered_command())]
    assert remote_deploys_have_delete(commands) == []


def test_a_seen_component_without_delete_still_fails_beside_an_unseen_one():
    commands = [("vm1-agent-teardown", "vm1-agent", {})] + component_commands("vm1-app", None)
    [message] = remote_deploys_have_delete(commands)
    assert message.startswith("component vm1-app deploys to a host")


def test_unknown_delete_during_preview_passes():
    proxied = UnknownProxy(good_command(), {"delete"})  # pulumi_policy's proxy raises on access
    sentinel = good_command(delete=UNKNOWN_STRING)  # the engine's raw wire sentinel
    commands = [
        ("vm1-agent-teardown", "vm1-agent", proxied),
        ("vm1-agent-install", "vm1-agent", triggered_command()),
        ("vm1-app-teardown", "vm1-app", sentinel),
        ("standalone", None, UnknownProxy(good_command(), {"delete"})),
    ]
    assert remote_deploys_have_delete(commands) == []


def test_stack_violations_reads_plan_resources():
    def plan_resource(rtype, name, parent, inputs):
        return {"type": rtype, "name": name, "parent": parent, "inputs": inputs}

    resources = [
        plan_resource("datadog-stack:host:AgentHost", "vm1-agent", None, {}),
        plan_resource(MONITOR, "m", None, good_monitor()),
        plan_resource("command:local:Command", "local", None, {"create": "true"}),
    ] + [plan_resource(REMOTE_COMMAND, name, parent, props)
         for name, parent, props in component_commands(teardown_delete=None)]
    [message] = stack_violations(resources)
    assert message.startswith("component vm1-agent deploys to a host")
    assert stack_violations(resources[:3]) == []  # no remote command, nothing to judge


# --- across the catalogue -------------------------------------------------------------------


def test_each_check_ignores_other_resource_types():
    bad = {"message": "", "notifyNoData": False, "title": "", "widgets": [], "delete": ""}
    for standard in standards.STANDARDS:
        assert standard.check("datadog:index/user:User", bad) == []
        assert standard.check("command:local:Command", bad) == []
        assert standard.check(REMOTE_COMMAND, bad) == []  # judged per stack, not per command
    others = [{"type": t, "name": "x", "parent": None, "inputs": bad}
              for t in ("datadog:index/user:User", "command:local:Command")]
    assert stack_violations(others) == []


@pytest.mark.parametrize(
    "resource_type, props",
    [
        (MONITOR, good_monitor()),
        (DOWNTIME_SCHEDULE, good_downtime()),
        (DASHBOARD, good_dashboard()),
        (REMOTE_COMMAND, triggered_command()),  # no delete: the stack-level standard's business
    ],
)
def test_violations_of_good_resources_are_empty(resource_type, props):
    assert violations(resource_type, props) == []


def test_catalogue_names_are_unique_policy_ids():
    assert len(standards.STANDARDS) == 5 and len(standards.STACK_STANDARDS) == 1
    names = [s.name for s in standards.STANDARDS + standards.STACK_STANDARDS]
    assert len(set(names)) == len(names) == 6
    assert all(n == n.lower() and " " not in n for n in names)
    assert [s.name for s in standards.STACK_STANDARDS] == ["remote-deploy-has-delete"]


# --- values unknown during preview ----------------------------------------------------------


class UnknownValueError(Exception):
    """Stands in for pulumi_policy.proxy.UnknownValueError (matched by class name)."""


class UnknownProxy(Mapping):
    """Like pulumi_policy's _DictProxy: reading an unknown value raises UnknownValueError."""

    def __init__(self, data, unknown):
        self._data, self._unknown = data, set(unknown)

    def __getitem__(self, key):
        if key in self._unknown:
            raise UnknownValueError(key)
        return self._data[key]

    def __iter__(self):
        return iter(self._data)

    def __len__(self):
        return len(self._data)


def test_unknown_values_are_not_judged():
    monitor = UnknownProxy(good_monitor(message=UNKNOWN_STRING), {"notifyNoData", "monitorThresholds"})
    assert violations(MONITOR, monitor) == []
    ident = UnknownProxy({"monitorId": None}, {"monitorId"})
    assert violations(DOWNTIME_SCHEDULE, good_downtime(monitorIdentifier=ident)) == []
    assert violations(DASHBOARD, UnknownProxy(good_dashboard(widgets=None), {"widgets"})) == []
    unknown_delete = {"type": REMOTE_COMMAND, "name": "c", "parent": None,
                      "inputs": UnknownProxy(good_command(), {"delete"})}
    assert stack_violations([unknown_delete]) == []


def test_known_values_beside_unknown_ones_are_still_judged():
    monitor = UnknownProxy(good_monitor(notifyNoData=False), {"monitorThresholds"})
    assert violations(MONITOR, monitor) == [
        "monitor does not alert on missing data: set `notifyNoData` to true"
    ]


# --- the real pack, in policy/venv ----------------------------------------------------------


def _policy_python() -> str:
    return str(needs.installed(POLICY_PYTHON, "policy/venv (pulumi-policy)"))


def _run_in_policy_venv(script: str) -> dict:
    proc = subprocess.run(
        [_policy_python(), "-c", textwrap.dedent(script), str(POLICY_DIR)],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


WIRING = r"""
import importlib.util, json, sys
from pulumi_policy import PolicyResource, ResourceValidationArgs, StackValidationArgs
from pulumi_policy.proxy import unknown_checking_proxy

spec = importlib.util.spec_from_file_location("datadog_policy_pack", sys.argv[1] + "/__main__.py")
pack = importlib.util.module_from_spec(spec)
spec.loader.exec_module(pack)   # __name__ != "__main__": builds POLICIES, serves nothing

def run(policy, rtype, props):
    found = []
    args = ResourceValidationArgs(rtype, unknown_checking_proxy(props), "urn:x", "x", None, None)
    policy.validate(args, lambda message, urn=None: found.append(message))
    return found

def resource(rtype, name, props, parent=None):
    urn = f"urn:pulumi:dev::datadog-stack::{rtype}::{name}"
    return PolicyResource(rtype, unknown_checking_proxy(props), urn, name, None, None, parent, [], {})

def run_stack(policy, resources):
    found = []
    policy.validate(StackValidationArgs(resources), lambda message, urn=None: found.append(message))
    return found

U = "3eeb2bf0-c639-47a8-9e75-3b44932eb421"
S = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
R = "command:remote:Command"
stack = resource("pulumi:pulumi:Stack", "datadog-stack-dev", {})
agent = resource("datadog-stack:host:AgentHost", "vm1-agent", {}, stack)
app = resource("datadog-stack:apm:ApmService", "vm1-app", {}, stack)

def deploy(component, teardown_delete):
    teardown = {"create": "x"} if teardown_delete is None else {"create": "x", "delete": teardown_delete}
    return [resource(R, component.name + "-teardown", teardown, component),
            resource(R, component.name + "-install", {"create": "y", "triggers": ["h"]}, component)]

by = {p.name: p for p in pack.POLICIES}
deploys = by["remote-deploy-has-delete"]
out = {
    "names": sorted(by),
    "types": {p.name: type(p).__name__ for p in pack.POLICIES},
    "levels": sorted({p.enforcement_level.value for p in pack.POLICIES}),
    "bad_monitor": run(by["monitor-notifies-and-alerts-on-no-data"], "datadog:index/monitor:Monitor",
                       {"message": "no handle", "notifyNoData": False}),
    "unknown_id": run(by["downtime-scoped-to-monitors"], "datadog:index/downtimeSchedule:DowntimeSchedule",
                      {"scope": "env:dev", "monitorIdentifier": {"monitorId": U}}),
    "split_deploys": run_stack(deploys, [stack, agent, app] + deploy(agent, "rm -rf /x") + deploy(app, "rm -rf /y")),
    "app_no_delete": run_stack(deploys, [stack, agent, app] + deploy(agent, "rm -rf /x") + deploy(app, None)),
    "top_level": run_stack(deploys, [stack, resource(R, "loose", {"create": "x"}, stack),
                                     resource(R, "orphan", {"create": "x"}),
                                     resource("command:local:Command", "local", {"create": "x"}, stack)]),
    "unknown_delete": run_stack(deploys, [stack, agent] + deploy(agent, S)
                                + [resource(R, "loose", {"create": "x", "delete": S}, stack)]),
}
print(json.dumps(out))
"""


def test_pack_wiring_in_policy_venv():
    out = _run_in_policy_venv(WIRING)
    assert out["names"] == sorted(s.name for s in standards.STANDARDS + standards.STACK_STANDARDS)
    assert out["types"] == {
        **{s.name: "ResourceValidationPolicy" for s in standards.STANDARDS},
        **{s.name: "StackValidationPolicy" for s in standards.STACK_STANDARDS},
    }
    assert out["levels"] == ["mandatory"]
    assert len(out["bad_monitor"]) == 2
    assert out["unknown_id"] == []  # unknown-checking proxy: a computed monitorId counts as set
    assert out["split_deploys"] == []
    [message] = out["app_no_delete"]
    assert message.startswith("component vm1-app deploys to a host with remote commands "
                              "(vm1-app-teardown, vm1-app-install)")
    # the stack as parent, or no parent at all, is no component; a local command is not judged
    assert [m.split(" has no")[0] for m in out["top_level"]] == [
        "remote command loose", "remote command orphan"]
    assert out["unknown_delete"] == []


SERVE = r"""
import json, subprocess, sys
import grpc
from google.protobuf import empty_pb2, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

# Start the pack as the Pulumi CLI does: it runs __main__, which prints its port.
server = subprocess.Popen([sys.executable, sys.argv[1] + "/__main__.py"],
                          stdout=subprocess.PIPE, text=True)
try:
    port = int(server.stdout.readline())
    stub = analyzer_pb2_grpc.AnalyzerStub(grpc.insecure_channel(f"127.0.0.1:{port}"))
    info = stub.GetAnalyzerInfo(empty_pb2.Empty(), timeout=30)

    def analyze(rtype, props):
        s = struct_pb2.Struct()
        s.update(props)
        req = analyzer_pb2.AnalyzeRequest(type=rtype, properties=s, urn="urn:pulumi:dev::p::" + rtype + "::r", name="r")
        resp = stub.Analyze(req, timeout=30)
        return [[d.policyName, d.message, d.enforcementLevel] for d in resp.diagnostics]

    STACK_URN = "urn:pulumi:dev::p::pulumi:pulumi:Stack::p-dev"

    def resource(rtype, name, props, parent=STACK_URN):
        s = struct_pb2.Struct()
        s.update(props)
        urn = "urn:pulumi:dev::p::" + rtype + "::" + name  # parents are matched by URN only
        return analyzer_pb2.AnalyzerResource(type=rtype, properties=s, urn=urn, name=name, parent=parent)

    def analyze_stack(*resources):
        req = analyzer_pb2.AnalyzeStackRequest(resources=list(resources))
        resp = stub.AnalyzeStack(req, timeout=30)
        return [[d.policyName, d.message, d.enforcementLevel] for d in resp.diagnostics]

    def deploy(component, teardown):
        return [resource("command:remote:Command", component.name + "-teardown", teardown, component.urn),
                resource("command:remote:Command", component.name + "-install",
                         {"create": "y", "triggers": ["h"]}, component.urn)]

    root = analyzer_pb2.AnalyzerResource(type="pulumi:pulumi:Stack", urn=STACK_URN, name="p-dev")
    agent = resource("datadog-stack:host:AgentHost", "vm1-agent", {})

    out = {
        "name": info.name,
        "policies": sorted(p.name for p in info.policies),
        "mandatory": all(p.enforcementLevel == analyzer_pb2.MANDATORY for p in info.policies),
        "good_dashboard": analyze("datadog:index/dashboard:Dashboard", {"title": "t", "widgets": [{"a": 1}]}),
        "bad_dashboard": analyze("datadog:index/dashboard:Dashboard", {"title": "", "widgets": []}),
        "bad_thresholds": analyze("datadog:index/monitor:Monitor", {
            "message": "@ops@example.com", "notifyNoData": True,
            "query": "avg(last_5m):avg:my_metric{*} > 800",
            "monitorThresholds": {"warning": "900", "critical": "800"}}),
        "bad_recovery": analyze("datadog:index/monitor:Monitor", {
            "message": "@ops@example.com", "notifyNoData": True,
            "query": "avg(last_5m):avg:my_metric{*} > 800",
            "monitorThresholds": {"warning": "500", "critical": "800", "warningRecovery": "600"}}),
        "mandatory_level": analyzer_pb2.MANDATORY,
        "good_stack": analyze_stack(root, agent, *deploy(agent, {"create": "x", "delete": "rm -rf /x"})),
        "bad_stack": analyze_stack(root, agent, *deploy(agent, {"create": "x"}),
                                   resource("command:remote:Command", "loose", {"create": "x"})),
        # Analyze (per resource) no longer judges a remote command on its own
        "command_alone": analyze("command:remote:Command", {"create": "x"}),
    }
    print(json.dumps(out))
finally:
    server.kill()
    server.wait()
"""


def test_pack_server_analyze_in_policy_venv():
    out = _run_in_policy_venv(SERVE)
    assert out["name"] == "datadog-stack-standards"
    assert out["policies"] == sorted(s.name for s in standards.STANDARDS + standards.STACK_STANDARDS)
    assert out["mandatory"] is True
    assert out["good_dashboard"] == []
    assert [d[0] for d in out["bad_dashboard"]] == ["dashboard-has-title-and-widgets"] * 2
    [[name, message, level]] = out["bad_thresholds"]
    assert name == "monitor-warning-before-critical"
    assert "must be below the critical one" in message
    assert level == out["mandatory_level"]
    [[name, message, level]] = out["bad_recovery"]
    assert name == "monitor-recovery-beyond-threshold" and level == out["mandatory_level"]
    assert out["good_stack"] == []
    assert out["command_alone"] == []
    # the server sends "<description>\n<message>"
    assert sorted((name, message.splitlines()[-1].split(" has no")[0].split(" deploys")[0], level)
                  for name, message, level in out["bad_stack"]) == [
        ("remote-deploy-has-delete", "component vm1-agent", out["mandatory_level"]),
        ("remote-deploy-has-delete", "remote command loose", out["mandatory_level"]),
    ]


# --- the program itself meets the pack --------------------------------------------------------


def test_dev_stack_offline_plan_meets_every_standard():
    """Every resource of the offline plan (the dev stack under the mock runtime), in-process."""
    from tools.plan import StackConfig, run

    plan = run(StackConfig.from_file(ROOT / "Pulumi.dev.yaml"), "dev")
    resources = plan.resources
    checked = {r["type"] for r in resources} & {MONITOR, DOWNTIME_SCHEDULE, DASHBOARD, REMOTE_COMMAND}
    assert checked == {MONITOR, DOWNTIME_SCHEDULE, DASHBOARD, REMOTE_COMMAND}
    found = {
        f'{r["type"]}::{r["name"]}': violations(r["type"], r["inputs"])
        for r in resources
    }
    assert {k: v for k, v in found.items() if v} == {}
    assert stack_violations(resources) == []
    # the split a per-command rule would reject: content-triggered commands with no delete
    commands = [r for r in resources if r["type"] == REMOTE_COMMAND]
    assert any(not (c["inputs"].get("delete") or "").strip() for c in commands)
