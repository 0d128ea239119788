"""The components as a Pulumi package: the pinned SDK's analyzer accepts every component, and
the schema it infers (what `pulumi package get-schema` prints, what every language's SDK is
generated from) is the committed tests/snapshots/package-schema.json.

The schema is built by the SDK's own analyzer and schema generator
(pulumi/provider/experimental/analyzer.py, schema.py; provider/served.py calls them as
component.py's ComponentProvider does), so what fails here fails `pulumi package add`.
`make package-schema` rewrites the snapshot after a reviewed change.
"""
import importlib
import inspect
import json
import os
from pathlib import Path

import pulumi
import pytest

from components import package
from provider import served

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
SNAPSHOT = ROOT / "tests" / "snapshots" / "package-schema.json"
COMPONENT_MODULES = sorted(p.stem for p in (ROOT / "components").glob("*.py"))


@pytest.fixture(scope="module")
def schema() -> dict:
    return served.schema()


def test_package_schema_matches_the_committed_snapshot(schema):
    text = json.dumps(schema, indent=2, sort_keys=True) + "\n"
    if os.environ.get("UPDATE_SNAPSHOT"):
        SNAPSHOT.write_text(text)
    assert schema == json.loads(SNAPSHOT.read_text()), (
        "the package's schema changed (what other programs see): review the diff, then run "
        "`make package-schema`")


def _components_in(module_name: str) -> list[type]:
    module = importlib.import_module(f"components.{module_name}")
    return [v for v in vars(module).values() if inspect.isclass(v)
            and issubclass(v, pulumi.ComponentResource) and v.__module__ == module.__name__]


def test_every_component_of_the_project_is_served():
    declared = {c for name in COMPONENT_MODULES for c in _components_in(name)}
    assert declared - set(served.COMPONENTS) == set(), \
        "a component not in provider/served.py is missing from the package"


@pytest.mark.parametrize("component", served.COMPONENTS, ids=lambda c: c.__name__)
def test_each_component_registers_the_token_the_schema_gives_it(schema, component):
    module = importlib.import_module(component.__module__)
    assert module.TYPE == package.token(component.__name__) in schema["resources"], \
        "the provider constructs a component by its schema token: the two must be one string"


def _undocumented(schema: dict) -> list[str]:
    missing = []
    for token, resource in schema["resources"].items():
        if not resource.get("description"):
            missing.append(token)
        for kind in ("inputProperties", "properties"):
            missing += [f"{token}.{kind}.{name}" for name, prop in resource.get(kind, {}).items()
                        if not prop.get("description")]
    for token, type_ in schema["types"].items():
        if not type_.get("description"):
            missing.append(token)
        missing += [f"{token}.{name}" for name, prop in type_.get("properties", {}).items()
                    if not prop.get("description")]
    return missing


def test_every_component_type_input_and_output_has_a_description(schema):
    assert _undocumented(schema) == [], \
        "every input and output is documented in every language (a docstring under the field)"


def test_secret_inputs_are_inputs_so_a_secret_stays_one_across_the_package(schema):
    agent = schema["resources"][package.token("AgentHost")]["inputProperties"]
    plain = sorted(name for name in ("apiKey", "databasePassword", "sshPrivateKey")
                   if agent[name].get("plain"))
    assert plain == [], "a plain input would hand the provider the secret's value unwrapped"


def test_the_package_is_named_and_versioned(schema):
    assert (schema["name"], schema["version"]) == (package.NAME, package.VERSION), \
        "`pulumi package add` names the package and its SDK after the schema"


def test_the_plugin_serves_the_same_schema_over_grpc(tmp_path):
    """provider/ started as the language host starts a plugin (its directory, then the
    engine's address), asked over gRPC what `pulumi package get-schema` asks it."""
    import subprocess
    import sys

    import grpc
    from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

    # The engine address is only dialled for logs; GetSchema needs no engine.
    plugin = subprocess.Popen([sys.executable, str(ROOT / "provider"), "127.0.0.1:9"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path)
    try:
        port = plugin.stdout.readline().decode().strip()
        assert port.isdigit(), f"the plugin must print its port first: {plugin.stderr.read1()!r}"
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            reply = provider_pb2_grpc.ResourceProviderStub(channel).GetSchema(
                provider_pb2.GetSchemaRequest(version=0), timeout=30)
    finally:
        plugin.terminate()
        plugin.wait(timeout=10)
    assert json.loads(reply.schema) == served.schema(), \
        "the plugin's schema is the one the snapshot test checks"


def test_the_package_page_reference_is_the_schemas():
    from tools import package_reference

    assert package_reference.PAGE.read_text() == package_reference.current(), \
        "docs/package.md's reference is stale: run `make docs` (python -m tools.package_reference)"
