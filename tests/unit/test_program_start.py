"""How `__main__` imports: the cyclic garbage collector off during the imports, what they
built frozen, the collector on again for the program's run (docs/testing.md, "The real
preview"). What that saves is a figure (`make bench-e2e`), not asserted here."""
from __future__ import annotations

import gc
import runpy

import pulumi
import pytest

from tests.unit.test_settings import DEV, set_config
from tools import mock_engine


def run_main_until_settings() -> None:
    """__main__ as the engine runs it, stopped by a bad key right after its imports."""
    mock_engine.start(mock_engine.Mocks(), stack="dev", preview=True)
    set_config(hosts="vm1")
    with pytest.raises(pulumi.RunError):
        runpy.run_path(str(DEV.parent / "__main__.py"), run_name="__main__")


@pytest.mark.parametrize("collecting", [True, False], ids=["on", "off"])
def test_the_program_leaves_the_garbage_collector_as_it_found_it(collecting):
    # On: a big stack's own garbage (Outputs, futures, serialized inputs) is still collected.
    # Off: whoever embeds the program and turned the collector off keeps it off.
    before = gc.isenabled()
    (gc.enable if collecting else gc.disable)()
    try:
        run_main_until_settings()
        assert gc.isenabled() == collecting, "the collector is as it was before the imports"
    finally:
        (gc.enable if before else gc.disable)()


def test_the_imports_are_frozen_out_of_every_collection():
    import pulumi_datadog

    run_main_until_settings()
    examined = {id(o) for generation in range(3) for o in gc.get_objects(generation)}
    assert id(pulumi_datadog.Monitor) not in examined and id(pulumi_datadog) not in examined, \
        "pulumi_datadog's classes and module sit in the frozen generation, which no " \
        "collection walks (not even the one at exit)"
