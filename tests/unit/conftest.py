"""The unit tier runs the program at one fixed moment, so plans are reproducible."""
import pytest

from program import CLOCK_VARIABLE
from tests.unit import mock_engine

# A Monday morning in office hours, New York (the dev stack's timezone).
FIXED_NOW = "2027-01-04T15:00:00+00:00"


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch):
    monkeypatch.setenv(CLOCK_VARIABLE, FIXED_NOW)


@pytest.fixture
def engine():
    """The SDK's mock runtime with a recording monitor: (mocks, monitor), mock_engine.py."""
    return mock_engine.start()
