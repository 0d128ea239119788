"""Components built alone under the SDK's mock runtime, with a monitor that records each
registration as the engine would receive it (type, parent, aliases, dependencies...).

The `engine` fixture (conftest.py) starts it; `build` runs a component in a program.
"""
from __future__ import annotations

import pulumi
from pulumi.runtime import mocks as pulumi_mocks

PROJECT = "datadog-stack"
STACK = "dev"


class RecordingMonitor(pulumi_mocks.MockMonitor):
    """The mock engine, keeping each registration's options (parent, dependencies...)."""

    def __init__(self, mocks):
        super().__init__(mocks)
        self.requests = {}

    def RegisterResource(self, request):
        response = super().RegisterResource(request)
        self.requests[request.name] = request
        return response


class Mocks(pulumi.runtime.Mocks):
    def __init__(self):
        self.inputs: dict[str, dict] = {}
        self.types: dict[str, str] = {}

    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        self.inputs[args.name] = args.inputs
        self.types[args.name] = args.typ
        outputs = dict(args.inputs)
        if args.typ == "datadog:index/dashboard:Dashboard":
            return "abc-def-ghi", {**outputs, "url": "/dashboard/abc-def-ghi/flask-app"}
        if args.typ == "command:remote:Command":
            outputs.update(stdout="GET / -> 200", stderr="")
        return f"{args.name}-id", outputs

    def call(self, args: pulumi.runtime.MockCallArgs):
        return {}


def start() -> tuple[Mocks, RecordingMonitor]:
    mocks = Mocks()
    monitor = RecordingMonitor(mocks)
    pulumi.runtime.set_mocks(mocks, project=PROJECT, stack=STACK, preview=False,
                             monitor=monitor)
    return mocks, monitor


def build(make):
    """Run `make()` in a Pulumi program and wait for the registrations; return its result."""
    built = {}

    @pulumi.runtime.test
    def program():
        built["component"] = component = make()
        return getattr(component, "url", None)

    program()
    return built["component"]


def resolve(output):
    box = {}

    @pulumi.runtime.test
    def program():
        return output.apply(lambda v: box.setdefault("v", v))

    program()
    return box["v"]
