"""Fixtures both e2e modules share (each builds its own SSH test hosts)."""
import pytest


@pytest.fixture(scope="module")
def standin(tmp_path_factory):
    """A Datadog API stand-in of the module's own, on its real clock."""
    from tests.standins.datadog_api import start_server  # the stand-in's client models load late

    handle = start_server(0, tmp_path_factory.mktemp("datadog-standin"), clock_offset=0)
    yield handle
    handle.stop()
