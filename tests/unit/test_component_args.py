"""One way to read a component's Args (components/args.py), however the component was built.

In this program each component gets its frozen `...Args`; served as a package, pulumi's
component provider calls the same `__init__` with plain dicts, mapped from the schema's
camelCase names to the Python field names (pulumi/provider/experimental/component.py,
`ComponentProvider.construct` -> `map_inputs`). Both ways must declare the same resources
with the same inputs: the tests run the dev stack's program once in Python, then hand every
component's Args, as the engine sends them (camelCase, nested objects, lists), to the SDK's
own `ComponentProvider.construct`, under the mock runtime both times.
"""
import base64
import dataclasses
import io
import tarfile
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Optional

import pulumi
import pytest
from pulumi.provider.experimental.component import ComponentProvider
from pulumi.provider.experimental.util import camel_case

import program
from components import package, ssh
from components.args import ArgsError, read
from components.apm_service import ApmService
from components.downtimes import OffHoursDowntimes, OffHoursDowntimesArgs
from domain import Host
from provider import served
from tools import mock_engine
from tools.plan import StackConfig, run

pytestmark = pytest.mark.unit

DEV = Path(__file__).resolve().parents[2] / "Pulumi.dev.yaml"
NOW = datetime.fromisoformat("2027-01-04T15:00:00+00:00")
STACK_TYPE = "pulumi:pulumi:Stack"


def engine_form(value: Any) -> Any:
    """A Python value as the engine hands it to a provider: dataclasses as objects with
    camelCase keys, sequences as lists, numbers as floats, unset optionals left out, Outputs
    as they are."""
    if dataclasses.is_dataclass(value):
        return {camel_case(f.name): engine_form(getattr(value, f.name))
                for f in dataclasses.fields(value) if getattr(value, f.name) is not None}
    if isinstance(value, Sequence) and not isinstance(value, str):
        return [engine_form(v) for v in value]
    if isinstance(value, dict):
        return {k: engine_form(v) for k, v in value.items()}
    if isinstance(value, int) and not isinstance(value, bool):
        # every number crosses the engine as a protobuf double (google.protobuf.Value
        # number_value; pulumi/runtime/rpc.py), so a provider receives 540 as 540.0
        return float(value)
    return value


def declared_args(build) -> list[tuple[type, str, Any]]:
    """Run `build()` under the installed mocks; return each component it declared, in order,
    as (class, name, the Args it was given)."""
    declared: list[tuple[type, str, Any]] = []
    originals = {c: c.__init__ for c in served.COMPONENTS}

    def recording(cls):
        def __init__(self, name, args, opts=None):
            declared.append((cls, name, args))
            originals[cls](self, name, args, opts)
        return __init__

    for cls in served.COMPONENTS:
        cls.__init__ = recording(cls)
    try:
        mock_engine.run(build)
    finally:
        for cls, init in originals.items():
            cls.__init__ = init
    return declared


def dev_settings():
    return run(StackConfig.from_file(DEV), "dev").settings


@pytest.fixture(scope="module")
def built() -> dict:
    """Each component the dev stack declares, built in Python and through the provider:
    {"python"|"provider": {resource name: (type, parent's name, inputs as sent)}}."""
    settings = dev_settings()

    def registrations(monitor) -> dict:
        by_urn = {monitor.urns[n]: n for n in monitor.requests}
        return {name: (r.type, by_urn.get(r.parent), monitor.raw(name))
                for name, r in monitor.requests.items() if r.type != STACK_TYPE}

    monitor = mock_engine.start(mock_engine.Mocks(), stack="dev", preview=False)
    declared = declared_args(lambda: program.build(settings, NOW))
    python = registrations(monitor)

    provider = ComponentProvider(served.COMPONENTS, package.NAME, package.VERSION)
    monitor = mock_engine.start(mock_engine.Mocks(), stack="dev", preview=False)
    mock_engine.run(lambda: [provider.construct(name, package.token(cls.__name__),
                                                engine_form(args), None).urn
                             for cls, name, args in declared])
    return {"python": python, "provider": registrations(monitor),
            "components": {cls.__name__ for cls, _, _ in declared}}


def test_the_dev_stack_declares_every_served_component(built):
    assert built["components"] == {c.__name__ for c in served.COMPONENTS}, \
        "the comparison below covers every component only if the dev stack declares each"


def test_components_built_by_the_provider_declare_what_python_declares(built):
    python, provider = built["python"], built["provider"]
    differing = sorted(name for name in python.keys() | provider.keys()
                       if python.get(name) != provider.get(name))
    assert differing == [], ("a component must read its Args the same way from a dataclass and "
                             "from the provider's dicts, or another program gets other resources")


def test_args_given_as_the_dataclass_are_read_as_they_are():
    args = OffHoursDowntimesArgs(office_hours=None, timezone="UTC", host_names=("vm1",),
                                 notify="@ops", monitor_tag="t", now=NOW.isoformat())
    assert read(OffHoursDowntimesArgs, args) is args, "Python callers' Args pass untouched"


@dataclasses.dataclass(frozen=True)
class _Window:
    start: int
    end: int


@dataclasses.dataclass(frozen=True)
class _Optional:
    window: Optional[_Window] = None


@dataclasses.dataclass(frozen=True)
class _Union:
    window: _Window | None = None


@dataclasses.dataclass(frozen=True)
class _Nested:
    window: _Window
    windows: list[_Window] = dataclasses.field(default_factory=list)
    tags: list[str] = dataclasses.field(default_factory=list)
    anything: object = None


def test_nested_args_and_lists_of_them_given_as_objects_are_built_as_their_dataclasses():
    got = read(_Nested, {"window": {"start": 1, "end": 2}, "windows": [{"start": 3, "end": 4}],
                         "tags": ["a", "b"], "anything": [5, 6]})
    assert got == _Nested(_Window(1, 2), [_Window(3, 4)], ["a", "b"], [5, 6]), \
        "objects become dataclasses at any depth; lists of plain values and untyped values pass as given"


def test_an_integer_input_that_crossed_the_engine_as_a_double_is_an_int_again():
    """Found by the package e2e: a YAML program's office hours reached OffHoursDowntimes as
    1080.0 (protobuf numbers are doubles), and the schedule's label formatting failed."""
    got = read(_Nested, {"window": {"start": 540.0, "end": 1080.0}, "anything": 2.5})
    assert got.window == _Window(540, 1080) and type(got.window.end) is int
    assert got.anything == 2.5, "only fields declared int are converted"


def test_a_fractional_number_for_an_integer_input_is_refused_naming_it():
    with pytest.raises(ArgsError) as error:
        read(_Nested, {"window": {"start": 540.5, "end": 1080}})
    assert str(error.value) == "args.window.start: 540.5 is not a whole number"


@pytest.mark.parametrize("cls", [_Optional, _Union], ids=["Optional[X]", "X | None"])
def test_an_optional_nested_args_given_as_an_object_is_built_as_its_dataclass(cls):
    got = read(cls, {"window": {"start": 540, "end": 1080}})
    assert got.window == _Window(540, 1080), "the provider's dict becomes the Args a component reads by attribute"
    assert read(cls, {}).window is None, "left out, it keeps its default"


@pytest.mark.parametrize("cls, given, path", [
    (Host, {"name": "vm1", "address": "192.0.2.10", "ssh_user": "root"}, "args.ssh_port"),
    (Host, {"name": "vm1", "address": "192.0.2.10", "ssh_port": 22, "ssh_user": "root", "user": "x"},
     "args.user"),
    (Host, "vm1", "args"),
    (_Nested, {"window": {"start": 1}}, "args.window.end"),
    (_Nested, {"window": {"start": 1, "end": 2}, "windows": [{"start": 3, "end": 4}, {"end": 5}]},
     "args.windows[1].start"),
    (_Nested, {"window": {"start": 1, "end": 2}, "windows": ["9-17"]}, "args.windows[0]"),
    (_Optional, {"window": {"start": 1}}, "args.window.end"),
    (_Union, {"window": "9-17"}, "args.window"),
], ids=["missing field", "unknown field", "not an object", "nested field", "item of a list",
        "item that is not an object", "field of an optional object", "optional object that is not one"])
def test_unreadable_args_name_the_field_by_its_whole_path(cls, given, path):
    with pytest.raises(ArgsError) as error:
        read(cls, given)
    assert error.value.path == path, "the error names the input a caller must fix"


def test_a_clock_without_a_utc_offset_is_refused_before_any_resource():
    monitor = mock_engine.start(mock_engine.Mocks(), stack="dev", preview=False)
    args = {"office_hours": {"start_minutes": 540, "end_minutes": 1080}, "timezone": "UTC",
            "host_names": ["vm1"], "notify": "@ops", "monitor_tag": "t",
            "now": "2027-01-04T15:00:00"}
    with pytest.raises(ArgsError, match="args.now: .* not an ISO-8601 time with a UTC offset"):
        mock_engine.run(lambda: OffHoursDowntimes("off-hours", args))
    assert [r.type for r in monitor.requests.values()] == [STACK_TYPE], "bad input stops the component before it declares anything"


def test_a_configured_host_becomes_the_components_host_field_for_field():
    configured = Host(name="vm1", address="192.0.2.10", ssh_port=2222, ssh_user="vagrant")
    given = ssh.Host.of(configured)
    assert [f.name for f in dataclasses.fields(ssh.Host)] == \
        [f.name for f in dataclasses.fields(Host)], "the component's host is the configured one"
    assert dataclasses.asdict(given) == dataclasses.asdict(configured) and \
        given.resolved(configured.address) == configured, "nothing of the host is lost either way"


def test_the_components_alias_their_deployed_tokens_whoever_builds_them():
    monitor = mock_engine.start(mock_engine.Mocks(), stack="dev", preview=False)
    provider = ComponentProvider(served.COMPONENTS, package.NAME, package.VERSION)
    inputs = {"officeHours": {"startMinutes": 540, "endMinutes": 1080}, "timezone": "UTC",
              "hostNames": ["vm1"], "notify": "@ops", "monitorTag": "t",
              "now": NOW.isoformat()}
    mock_engine.run(lambda: provider.construct("off-hours", package.token("OffHoursDowntimes"),
                                               inputs, pulumi.ResourceOptions()).urn)
    aliases = [a.spec.type for a in monitor.requests["off-hours"].aliases]
    assert aliases == ["datadog-stack:monitoring:OffHoursDowntimes"], \
        "the alias to the deployed token is the component's own, not the caller's to add"


# --- issue 22 item 2: a host's address may be another resource's output -----------------
# A program that creates its VM in the same run hands AgentHost and ApmService the VM's
# address as an Output (`instance.public_ip`): in Python directly, through the package's
# provider as an output value inside the plain `host` object (the Python provider accepts
# output values: pulumi/provider/server.py `_select_value` leaves them in place).

VM_TYPE = "test:index:Vm"
NEW_VM_IP = "203.0.113.7"
REMOTE = "command:remote:Command"
HOST_COMPONENTS = {"AgentHost": ("vm1-agent", program.agent_host_args),
                   "ApmService": ("vm1-app", program.apm_service_args)}


def _new_vm_address() -> pulumi.Output:
    """Declare a VM; its address, an output (known once created, unknown in a preview)."""
    return pulumi.CustomResource(VM_TYPE, "new-vm", {"publicIp": None}).publicIp


def _on_new_vm(args: Any, **changes: Any) -> Any:
    """`args` (AgentHostArgs or ApmServiceArgs) for a new VM's address, `changes` replaced."""
    host = dataclasses.replace(args.host, address=_new_vm_address())
    return dataclasses.replace(args, host=host, **changes)


def _with_new_vm(settings, component: str, builder: str) -> Any:
    """`component` for the dev stack's vm1 on a new VM's address, built as `builder` says;
    returns the component's URN."""
    name, make_args = HOST_COMPONENTS[component]
    args = _on_new_vm(make_args(settings, settings.hosts[0]))
    cls = {c.__name__: c for c in served.COMPONENTS}[component]
    if builder == "python":
        return cls(name, args).urn
    provider = ComponentProvider(served.COMPONENTS, package.NAME, package.VERSION)
    return provider.construct(name, package.token(component), engine_form(args), None).urn


def _connections(monitor) -> dict[str, Any]:
    """Each remote command's connection, as sent to the engine (secret wrapper removed)."""
    return {name: mock_engine.plain(monitor.raw(name)["connection"])
            for name, request in monitor.requests.items() if request.type == REMOTE}


@pytest.mark.parametrize("builder", ["python", "provider"])
@pytest.mark.parametrize("component", sorted(HOST_COMPONENTS))
def test_a_new_vms_address_reaches_every_remote_commands_connection(component, builder):
    settings = dev_settings()  # before the mocks: reading the stack runs a program of its own
    monitor = mock_engine.start(mock_engine.Mocks(outputs={VM_TYPE: {"publicIp": NEW_VM_IP}}),
                                stack="dev", preview=False)
    mock_engine.run(lambda: _with_new_vm(settings, component, builder))
    hosts = {name: connection["host"] for name, connection in _connections(monitor).items()}
    assert len(hosts) == 3 and set(hosts.values()) == {NEW_VM_IP}, \
        f"every command of {component} connects to the address the VM resource gave: {hosts}"
    waiting = {name for name, request in monitor.requests.items() if request.type == REMOTE
               and monitor.urns["new-vm"] in request.propertyDependencies["connection"].urns}
    assert waiting == set(hosts), "a command connects only after its VM exists"


@pytest.mark.parametrize("builder", ["python", "provider"])
@pytest.mark.parametrize("component", sorted(HOST_COMPONENTS))
def test_a_preview_with_the_vms_address_unknown_declares_the_commands(component, builder):
    settings = dev_settings()
    monitor = mock_engine.start(mock_engine.Mocks(), stack="dev", preview=True)
    mock_engine.run(lambda: _with_new_vm(settings, component, builder))
    connections = _connections(monitor)
    assert len(connections) == 3 and set(connections.values()) == {mock_engine.UNKNOWN}, \
        f"a preview before the VM exists shows the commands, connection unknown: {connections}"


@pytest.mark.parametrize("builder", ["python", "provider"])
def test_the_app_url_is_the_new_vms_address_once_known(builder):
    settings = dev_settings()
    mock_engine.start(mock_engine.Mocks(outputs={VM_TYPE: {"publicIp": NEW_VM_IP}}),
                      stack="dev", preview=False)

    def build():
        args = program.apm_service_args(settings, settings.hosts[0])
        args = _on_new_vm(args, apm=dataclasses.replace(args.apm, bind_address="0.0.0.0"))
        if builder == "python":
            return ApmService("vm1-app", args).url
        provider = ComponentProvider(served.COMPONENTS, package.NAME, package.VERSION)
        return provider.construct("vm1-app", package.token("ApmService"), engine_form(args),
                                  None).state["url"]

    assert mock_engine.run(build) == f"http://{NEW_VM_IP}:5050/", \
        "an app listening on every interface answers at its VM's address"


@pytest.mark.parametrize("builder", ["python", "provider"])
def test_the_agent_bundle_names_the_new_vms_address_in_its_settings(builder):
    settings = dev_settings()
    monitor = mock_engine.start(mock_engine.Mocks(outputs={VM_TYPE: {"publicIp": NEW_VM_IP}}),
                                stack="dev", preview=False)
    mock_engine.run(lambda: _with_new_vm(settings, "AgentHost", builder))
    archive = base64.b64decode(mock_engine.plain(monitor.raw("vm1-agent-bundle")["stdin"]))
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:") as tar:
        lines = tar.extractfile("settings.env").read().decode().splitlines()
    assert f"HOST_ADDRESS={NEW_VM_IP}" in lines, \
        "install.sh's messages name the host by the address SSH reached (settings.env)"


@pytest.mark.parametrize("now", ["tomorrow", "2027-01-04T10:00:00", ""])
def test_a_creation_moment_that_is_not_an_aware_iso_time_is_refused_naming_it(now):
    from components.downtimes import clock
    with pytest.raises(ArgsError) as error:
        clock(now)
    assert str(error.value) == (f"args.now: {now!r} is not an ISO-8601 time with a UTC offset, "
                                "such as 2027-01-04T10:00:00+00:00"), "one line naming the input"
