"""The one mock harness (tools/mock_engine.py) against the installed Pulumi SDK.

These fail first when a `pulumi` upgrade moves what the harness relies on: the SDK's
private wire markers (pulumi.runtime.rpc) and how a program runs under mocks. The offline
plan and every component test read secrets and unknowns through them.
"""
from __future__ import annotations

import pulumi
import pytest

from tools import mock_engine

pytestmark = pytest.mark.unit


def test_a_secret_output_serializes_to_what_the_harness_reads_as_secret():
    mock_engine.start(mock_engine.Mocks(), stack="dev", preview=False)
    wire = mock_engine.run(lambda: {"key": pulumi.Output.secret("s3cret")})
    assert mock_engine.is_secret(wire["key"]), f"the SDK's secret wrapper changed: {wire}"
    assert mock_engine.plain(wire["key"]) == "s3cret"


def test_a_plain_value_is_not_read_as_secret():
    mock_engine.start(mock_engine.Mocks(), stack="dev", preview=False)
    wire = mock_engine.run(lambda: {"key": pulumi.Output.from_input("open")})
    assert wire["key"] == "open" and not mock_engine.is_secret(wire["key"])


def test_an_id_not_known_in_a_preview_serializes_to_the_unknown_marker():
    mock_engine.start(mock_engine.Mocks(ids={"test:index:Thing": ""}), stack="dev", preview=True)
    wire = mock_engine.run(lambda: {"id": pulumi.CustomResource("test:index:Thing", "t").id})
    assert wire["id"] == mock_engine.UNKNOWN, f"the SDK's unknown marker changed: {wire}"


def test_run_returns_after_every_registration_with_its_inputs_on_the_wire():
    monitor = mock_engine.start(mock_engine.Mocks(), stack="dev", preview=False)

    def program():
        parent = pulumi.CustomResource("test:index:Thing", "parent", {"size": 1})
        # declared only once the parent's id resolves: run must wait for it too
        parent.id.apply(lambda _: pulumi.CustomResource(
            "test:index:Thing", "child", {"password": pulumi.Output.secret("pw")}))

    mock_engine.run(program)
    assert {"parent", "child"} <= set(monitor.requests)
    assert monitor.raw("parent")["size"] == 1
    assert mock_engine.is_secret(monitor.raw("child")["password"])
