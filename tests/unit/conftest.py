"""The unit tier runs the program at one fixed moment, so plans are reproducible.

`program` (and with it pulumi_datadog, seconds of CPU) is imported in the fixture, not here:
under xdist the controller loads this file too but runs no test (docs/testing.md)."""
import pytest

# A Monday morning in office hours, New York (the dev stack's timezone).
FIXED_NOW = "2027-01-04T15:00:00+00:00"


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch):
    from program import CLOCK_VARIABLE

    monkeypatch.setenv(CLOCK_VARIABLE, FIXED_NOW)
