"""A fleet's stacks under the mock engine (docs/fleet.md): `datadog-stack:role` all (the dev
stack, unchanged: test_plan's snapshot), account (the Datadog objects scoped by the fleet
tag, no host) and hosts (only its hosts, which read the fleet tag and the account's ids
from the account stack's outputs through a StackReference, mocked here)."""
from __future__ import annotations

import base64
import io
import json
import tarfile
from pathlib import Path

import pulumi
import pytest
import yaml

import program
import settings
from domain import ConfigError
from pulumi_config import PulumiConfig
from rules import fleet
from tests.unit.test_plan import run_cli, write_config
from tests.unit.test_settings import dev_config
from tools import mock_engine
from tools.plan import StackConfig

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
NS = settings.NAMESPACE
STACK_REFERENCE = "pulumi:pulumi:StackReference"
# What the mocked account stack exports: a fleet tag no rule of this program would compute
# (rules.fleet.fleet_tag gives pulumi-fleet:datadog-stack/<stack>), so a hosts stack that
# recomputed it instead of reading it would fail these tests.
ACCOUNT = {"fleetTag": "pulumi-fleet:from-the-account", "downtimeTag": "off-hours-downtimes:x/acct",
           "dashboardId": "dash-1", "dashboardUrl": "https://app.datadoghq.com/dashboard/dash-1",
           "monitorId": "42", "monitorUrl": "https://app.datadoghq.com/monitors/42",
           "downtimeIds": ["d1", "d2"], "apmDashboardUrl": "https://app.datadoghq.com/dashboard/apm-1"}
GROUP_HOSTS = [{"name": "web7", "address": "192.0.2.70", "sshUser": "deploy"}]


def config(**changes) -> StackConfig:
    """The dev stack's config with `changes` (short keys in our namespace; None removes)."""
    return dev_config(**changes)


def account_config(**changes) -> StackConfig:
    return config(**{"role": "account", "hosts": None, **changes})


def hosts_config(**changes) -> StackConfig:
    return config(**{"role": "hosts", "accountStack": "acct", "hosts": GROUP_HOSTS, **changes})


class FleetMocks(mock_engine.Mocks):
    """The project's mocks, also keeping each resource's type: a StackReference is read
    (ReadResource), not registered, so only the mocks see it."""

    def __init__(self):
        super().__init__(outputs={STACK_REFERENCE: {"outputs": ACCOUNT}})
        self.types: dict[str, str] = {}

    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        self.types[args.name] = args.typ
        return super().new_resource(args)


def deploy(source: StackConfig, stack: str):
    """Run the program under the mock engine as `stack`: (mocks, monitor, outputs)."""
    mocks = FleetMocks()
    monitor = mock_engine.start(mocks, stack=stack, preview=False)
    pulumi.runtime.set_all_config(source.values, source.secret_keys)
    loaded = settings.load(PulumiConfig(), stack)
    outputs = mock_engine.run(lambda: program.build(loaded, program.clock()))
    return mocks, monitor, outputs


def types(monitor) -> dict[str, str]:
    return {name: request.type for name, request in monitor.requests.items()}


def references(mocks) -> list[str]:
    return [name for name, kind in mocks.types.items() if kind == STACK_REFERENCE]


def host_commands(monitor) -> list[str]:
    return [name for name, kind in types(monitor).items() if kind.startswith("command:")]


def datadog_objects(monitor) -> list[str]:
    return [name for name, kind in types(monitor).items() if kind.startswith("datadog:")]


def datadog_yaml(mocks, host: str) -> dict:
    """datadog.yaml as the bundle command would ship it to `host`."""
    data = base64.b64decode(mock_engine.plain(mocks.inputs[f"{host}-agent-bundle"]["stdin"]))
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        member = next(m for m in tar.getmembers() if m.name.endswith("datadog.yaml"))
        return yaml.safe_load(tar.extractfile(member).read())


# --- account ---------------------------------------------------------------------------

def test_an_account_stack_declares_the_datadog_objects_and_no_host():
    mocks, monitor, _ = deploy(account_config(), "acct")
    assert datadog_objects(monitor), "the account stack owns the timeboard, monitor, downtimes"
    assert host_commands(monitor) == [], "an account stack opens no SSH session: no host command"
    assert references(mocks) == [], "the account stack reads no other stack"


def test_an_account_stack_scopes_monitor_and_downtimes_by_the_fleet_tag():
    mocks, _, _ = deploy(account_config(), "acct")
    tag = fleet.fleet_tag("datadog-stack", "acct")
    query = mocks.inputs["my-metric-high-monitor"]["query"]
    assert f"my_metric{{{tag}}} by {{host,{fleet.FLEET_TAG_KEY}}}" in query, \
        "the monitor watches every host carrying the fleet tag, grouped by host and the tag's key " \
        "(a downtime's group scope filters only on grouped tags)"
    scopes = {inputs["scope"] for name, inputs in mocks.inputs.items()
              if name.startswith("off-hours-") and "scope" in inputs}
    assert scopes == {tag}, "both downtime schedules mute the fleet tag's groups, not a host list"


def test_an_account_stack_dashboards_offer_any_host():
    mocks, _, _ = deploy(account_config(), "acct")
    for board in ("timeboard-dashboard", "apm-dashboard"):
        [variable] = mocks.inputs[board]["templateVariables"]
        assert variable == {"name": "host", "prefix": "host", "defaults": ["*"]}, \
            f"{board}: the $host variable its graphs name, over the host tag, listing no host " \
            "(the groups' hosts join later): any host"


def queries(value) -> list[str]:
    """Every widget query (`q`) in a dashboard's inputs."""
    if isinstance(value, dict):
        own = [value["q"]] if isinstance(value.get("q"), str) else []
        return own + [q for v in value.values() for q in queries(v)]
    if isinstance(value, list):
        return [q for v in value for q in queries(v)]
    return []


@pytest.mark.parametrize("board", ["timeboard-dashboard", "apm-dashboard"])
def test_an_account_stack_dashboards_graph_only_the_fleets_hosts(board):
    mocks, _, _ = deploy(account_config(), "acct")
    tag = fleet.fleet_tag("datadog-stack", "acct")
    found = queries(mocks.inputs[board]["widgets"])
    assert found and all(f"$host,{tag}" in q for q in found), \
        f"{board}: every graph is the chosen host among the fleet's, never another team's host"


def test_a_dev_stack_dashboards_graph_the_chosen_host_only():
    mocks, _, _ = deploy(config(), "dev")
    found = queries(mocks.inputs["timeboard-dashboard"]["widgets"])
    assert found and not any(fleet.FLEET_TAG_KEY in q for q in found)


def test_an_account_stack_exports_the_fleet_tag_and_downtime_tag_for_its_groups():
    _, _, outputs = deploy(account_config(), "acct")
    assert outputs[fleet.FLEET_TAG_OUTPUT] == fleet.fleet_tag("datadog-stack", "acct")
    assert outputs["downtimeTag"] == "off-hours-downtimes:datadog-stack/acct"
    assert "hosts" not in outputs, "no hosts output: the account stack has none"


def test_an_account_stack_catalog_hosts_placeholder_is_the_fleet_tag(tmp_path):
    monitors = tmp_path / "monitors"
    monitors.mkdir()
    body = json.loads((ROOT / "catalog" / "monitors" / "agent-up.json").read_text())
    body["query"] = body["query"].replace('"env:<<stack.env>>"', '"<<stack.hosts>>"')
    (monitors / "up.json").write_text(json.dumps(body))
    mocks, _, _ = deploy(account_config(catalogDir=str(tmp_path)), "acct")
    sent = json.loads(mocks.inputs["monitor-up"]["monitor"])
    assert fleet.fleet_tag("datadog-stack", "acct") in sent["query"], \
        "<<stack.hosts>> in an account stack's catalog is the fleet tag, covering every group"


def test_an_account_stack_needs_no_ssh_login_or_database_password():
    source = account_config(**{f"{NS}:sshPrivateKey": None, f"{NS}:databasePassword": None})
    source.secret_keys = [k for k in source.secret_keys if k in source.values]
    loaded = settings.load(source, "acct")
    assert loaded.hosts == () and loaded.secrets.database_password is None


# --- hosts -----------------------------------------------------------------------------

def test_a_hosts_stack_declares_no_datadog_object():
    _, monitor, _ = deploy(hosts_config(), "group-a")
    assert datadog_objects(monitor) == [], "a host-group stack leaves the account's objects alone"
    assert {name.split("-")[0] for name in host_commands(monitor)} == {"web7"}, \
        "it declares its own hosts' commands"


def test_a_hosts_stack_references_its_account_stack_by_the_configured_name():
    mocks, _, _ = deploy(hosts_config(accountStack="acme/datadog-stack/acct"), "group-a")
    assert references(mocks) == ["acme/datadog-stack/acct"], "one StackReference, named as accountStack says"


def test_a_hosts_stack_tags_its_hosts_with_the_fleet_tag_read_from_the_account_stack():
    mocks, _, _ = deploy(hosts_config(), "group-a")
    tags = datadog_yaml(mocks, "web7")["tags"]
    assert ACCOUNT["fleetTag"] in tags, \
        "the host carries the account's fleet tag as its output says, not a recomputed one"
    assert tags[:3] == ["greeting:hello_datadog_team", "region:eastus", "role:database"], \
        "the configured host tags stay first"


def test_a_hosts_stack_exports_the_account_stacks_ids_and_its_own_hosts():
    _, _, outputs = deploy(hosts_config(), "group-a")
    assert {name: outputs[name] for name in fleet.ACCOUNT_OUTPUTS} == ACCOUNT, \
        "the account's ids and scopes, as the StackReference gives them"
    assert set(outputs["hosts"]) == {"web7"}


def test_a_stack_of_role_all_carries_no_fleet_tag():
    mocks, _, outputs = deploy(config(), "dev")
    assert fleet.FLEET_TAG_OUTPUT not in outputs and references(mocks) == []
    assert not any(t.startswith(fleet.FLEET_TAG_KEY) for t in datadog_yaml(mocks, "vm1")["tags"]), \
        "the dev stack's hosts are scoped by name, as before the fleet"


def test_a_hosts_stack_needs_no_application_key():
    source = hosts_config(**{"datadog:appKey": None})
    source.secret_keys = [k for k in source.secret_keys if k in source.values]
    assert settings.load(source, "group-a").role == fleet.HOSTS, \
        "no Datadog object, no provider: the application key is the account stack's"


# --- one-line errors -------------------------------------------------------------------

BAD = [
    ("a role typo, the valid roles listed", config(role="acount"), "dev", f"{NS}:role",
     "'acount' is not a role (all, account, hosts: "),
    ("a hosts stack without hosts", hosts_config(hosts=[]), "group-a", f"{NS}:hosts",
     "must list at least one host"),
    ("an account stack with hosts", config(role="account"), "acct", f"{NS}:hosts",
     "is set on a stack with role account: an account stack declares no host; list them in a "
     "host-group stack (role hosts, accountStack naming this stack)"),
    ("a hosts stack without accountStack", config(role="hosts"), "group-a",
     f"{NS}:accountStack", "is missing"),
    ("a bad accountStack name", hosts_config(accountStack="acme/acct"), "group-a",
     f"{NS}:accountStack", "'acme/acct' is not a stack name or org/project/stack (letters, digits, "
     "- _ and . in each part)"),
    ("an accountStack with a space", hosts_config(accountStack="my acct"), "group-a",
     f"{NS}:accountStack", "is not a stack name"),
    ("an accountStack naming itself", hosts_config(accountStack="group-a"), "group-a",
     f"{NS}:accountStack", "'group-a' is this stack: name the account stack"),
    ("an accountStack on an account stack", account_config(accountStack="acct"), "acct",
     f"{NS}:accountStack", "only a `hosts` stack names its account stack"),
    ("an accountStack on the dev stack", config(accountStack="acct"), "dev",
     f"{NS}:accountStack", "role all"),
    ("a host tag posing as the fleet tag", hosts_config(hostTags=["pulumi-fleet:other/acct"]),
     "group-a", f"{NS}:hostTags[0]", "'pulumi-fleet:other/acct' uses pulumi-fleet, the fleet "
     "tag's key: a host-group stack adds it from its account stack (docs/fleet.md)"),
]


@pytest.mark.parametrize("case, source, stack, key, problem", BAD, ids=[c[0] for c in BAD])
def test_bad_fleet_settings_name_the_key(case, source, stack, key, problem):
    with pytest.raises(ConfigError) as raised:
        settings.load(source, stack)
    assert raised.value.key == key and problem in raised.value.problem, f"{case}: {raised.value}"
    assert "\n" not in str(raised.value), "one line"


def test_a_role_typo_stops_the_plan_with_one_line(capsys, tmp_path):
    code, out, err = run_cli(capsys, "--config-file", str(write_config(tmp_path, **{f"{NS}:role": "acount"})))
    assert code == 2 and out == ""
    assert err.strip().count("\n") == 0 and f"{NS}:role" in err, "one line naming the key"
