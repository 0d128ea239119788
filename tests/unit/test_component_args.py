"""One way to read a component's Args (components/args.py), however the component was built.

In this program each component gets its frozen `...Args`; served as a package, pulumi's
component provider calls the same `__init__` with plain dicts, mapped from the schema's
camelCase names to the Python field names (pulumi/provider/experimental/component.py,
`ComponentProvider.construct` -> `map_inputs`). Both ways must declare the same resources
with the same inputs: the tests run the dev stack's program once in Python, then hand every
component's Args, as the engine sends them (camelCase, nested objects, lists), to the SDK's
own `ComponentProvider.construct`, under the mock runtime both times.
"""
import dataclasses
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import pulumi
import pytest
from pulumi.provider.experimental.component import ComponentProvider
from pulumi.provider.experimental.util import camel_case

import program
from components import package
from components.args import ArgsError, read
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
    camelCase keys, sequences as lists, unset optionals left out, Outputs as they are."""
    if dataclasses.is_dataclass(value):
        return {camel_case(f.name): engine_form(getattr(value, f.name))
                for f in dataclasses.fields(value) if getattr(value, f.name) is not None}
    if isinstance(value, Sequence) and not isinstance(value, str):
        return [engine_form(v) for v in value]
    if isinstance(value, dict):
        return {k: engine_form(v) for k, v in value.items()}
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


@pytest.mark.parametrize("given, path", [
    ({"name": "vm1", "address": "192.0.2.10", "ssh_user": "root"}, "args.ssh_port"),
    ({"name": "vm1", "address": "192.0.2.10", "ssh_port": 22, "ssh_user": "root", "user": "x"},
     "args.user"),
    ("vm1", "args"),
], ids=["missing field", "unknown field", "not an object"])
def test_unreadable_args_name_the_field(given, path):
    with pytest.raises(ArgsError) as error:
        read(Host, given)
    assert error.value.path == path, "the error names the input a caller must fix"


def test_a_clock_without_a_utc_offset_is_refused_before_any_resource():
    monitor = mock_engine.start(mock_engine.Mocks(), stack="dev", preview=False)
    args = {"office_hours": {"start_minutes": 540, "end_minutes": 1080}, "timezone": "UTC",
            "host_names": ["vm1"], "notify": "@ops", "monitor_tag": "t",
            "now": "2027-01-04T15:00:00"}
    with pytest.raises(ArgsError, match="args.now: .* not an ISO-8601 time with a UTC offset"):
        mock_engine.run(lambda: OffHoursDowntimes("off-hours", args))
    assert [r.type for r in monitor.requests.values()] == [STACK_TYPE], "bad input stops the component before it declares anything"


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
