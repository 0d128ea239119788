"""The Pulumi SDK's mock runtime, set up one way for the offline plan and the unit tests.

`start(mocks, stack=..., preview=...)` installs the mocks (`Mocks` for the tests) and a `RecordingMonitor` that
keeps every RegisterResource request as the engine would receive it (raw protobuf: secrets
still wrapped in the SDK's secret signature, unknowns still the SDK's unknown marker);
`run(program)` runs a program under them until every registration is done and returns what
the program returned, serialized as the engine would store it (`wire`); `is_secret`,
`plain` and `UNKNOWN` read those serialized values.

Only public SDK entry points run the program (`pulumi.runtime.test`,
`pulumi.runtime.set_mocks`, `rpc.serialize_property`). The wire markers below are the one
private use (see there); tests/unit/test_mock_engine.py fails first if an SDK upgrade
changes them.
"""
from __future__ import annotations

import asyncio
from typing import Any, Callable

import pulumi
from google.protobuf import json_format
from pulumi.runtime import mocks, rpc

# The SDK's wire markers for a secret and an unknown value. The SDK keeps them private to
# pulumi.runtime.rpc (no public name carries them), yet every serialized property uses
# them: imported here, never copied, so a new marker cannot silently unmask a secret.
SIG_KEY = rpc._special_sig_key  # the key of a signed value: {SIG_KEY: <kind>, "value": ...}
SECRET_SIG = rpc._special_secret_sig  # the kind of a secret
UNKNOWN = rpc.UNKNOWN  # a value only known after creation (a preview's ids)


def is_secret(value: Any) -> bool:
    """Whether a wire value is the SDK's secret wrapper."""
    return isinstance(value, dict) and value.get(SIG_KEY) == SECRET_SIG


def plain(value: Any) -> Any:
    """A wire value without its secret wrapper (one level)."""
    return value["value"] if is_secret(value) else value


class Mocks(pulumi.runtime.Mocks):
    """Every resource is created with its inputs as its state, id `<name>-id`, unless
    `ids`/`outputs` (by resource type) say otherwise; the inputs are kept by name."""

    def __init__(self, ids: dict[str, str] | None = None,
                 outputs: dict[str, dict] | None = None):
        self.ids, self.extra = ids or {}, outputs or {}
        self.inputs: dict[str, dict] = {}

    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        self.inputs[args.name] = args.inputs
        return (self.ids.get(args.typ, f"{args.name}-id"),
                {**args.inputs, **self.extra.get(args.typ, {})})

    def call(self, args: pulumi.runtime.MockCallArgs):
        return {}


class RecordingMonitor(mocks.MockMonitor):
    """The mock engine, keeping each registration by resource name."""

    def __init__(self, mocks_: pulumi.runtime.Mocks):
        super().__init__(mocks_)
        self.requests: dict[str, Any] = {}  # name -> RegisterResourceRequest
        self.urns: dict[str, str] = {}  # name -> URN
        self.outputs: dict[str, dict] = {}  # URN -> registered component outputs (wire)

    def RegisterResource(self, request):
        response = super().RegisterResource(request)
        self.requests[request.name] = request
        self.urns[request.name] = response.urn
        return response

    def RegisterResourceOutputs(self, request):
        self.outputs[request.urn] = json_format.MessageToDict(request.outputs)
        return super().RegisterResourceOutputs(request)

    def raw(self, name: str) -> dict:
        """A resource's inputs as sent to the engine (wire values)."""
        return json_format.MessageToDict(self.requests[name].object)


def start(mocks_: pulumi.runtime.Mocks, *, stack: str, preview: bool,
          monitor: RecordingMonitor | None = None,
          project: str = "datadog-stack") -> RecordingMonitor:
    """Install the mock runtime with a fresh root (a previous run's stack is forgotten)."""
    monitor = monitor or RecordingMonitor(mocks_)
    pulumi.runtime.settings.set_root_resource(None)
    pulumi.runtime.set_mocks(mocks_, project=project, stack=stack, preview=preview,
                             monitor=monitor)
    return monitor


def run(program: Callable[[], Any]) -> Any:
    """Run `program` under the installed mocks, wait for every registration, and return
    its result serialized as the engine stores it (secret leaves stay secret)."""
    box: dict[str, Any] = {}

    async def settle(result: Any) -> None:
        box["result"] = await rpc.serialize_property(result, [], None)

    pulumi.runtime.test(lambda: asyncio.ensure_future(settle(program())))()
    return box["result"]
