"""The unit tier runs the program at one fixed moment, so plans are reproducible."""
import pytest

from program import CLOCK_VARIABLE

# A Monday morning in office hours, New York (the dev stack's timezone).
FIXED_NOW = "2027-01-04T15:00:00+00:00"


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch):
    monkeypatch.setenv(CLOCK_VARIABLE, FIXED_NOW)
