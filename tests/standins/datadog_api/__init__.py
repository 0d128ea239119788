"""Local stand-in for the Datadog API calls the Terraform provider makes for
datadog_dashboard, datadog_monitor and datadog_downtime_schedule (see ../README.md)."""
from .server import App, StandinHandle, make_server, start_server  # noqa: F401
from .validation import ApiError  # noqa: F401
