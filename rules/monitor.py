"""The metric monitor on my_metric: query, thresholds and per-state message."""
from __future__ import annotations

from decimal import Decimal

from settings import Host, Settings

METRIC = "my_metric"
WINDOW = "last_5m"


def host_filter(hosts: tuple[Host, ...]) -> str:
    """A metric-query scope matching exactly the configured hosts."""
    return " OR ".join(f"host:{host.name}" for host in hosts)


def number(value: float) -> str:
    """Thresholds as Datadog writes them: 800, not 800.0; 1234567, not 1.23457e+06."""
    return format(Decimal(repr(value)).normalize(), "f")


def monitor_query(settings: Settings) -> str:
    # Grouped by host: Datadog fills {{host.ip}} and {{host.name}} only on a monitor
    # grouped by host, and each host then alerts on its own average.
    return (f"avg({WINDOW}):avg:{METRIC}{{{host_filter(settings.hosts)}}} by {{host}} "
            f"> {number(settings.thresholds.critical)}")


def monitor_name(settings: Settings) -> str:
    return f"[{settings.stack}] my_metric is high on {{{{host.name}}}}"


def monitor_message(settings: Settings) -> str:
    warning = number(settings.thresholds.warning)
    critical = number(settings.thresholds.critical)
    minutes = settings.no_data_minutes
    return "\n".join([
        "{{#is_alert}}",
        f"ALERT: my_metric on {{{{host.name}}}} (IP {{{{host.ip}}}}) averaged {{{{value}}}} "
        f"over the last 5 minutes, above the critical threshold of {critical}.",
        "{{/is_alert}}",
        "{{#is_warning}}",
        f"WARNING: my_metric on {{{{host.name}}}} averaged {{{{value}}}} over the last "
        f"5 minutes, above the warning threshold of {warning}.",
        "{{/is_warning}}",
        "{{#is_no_data}}",
        f"NO DATA: {{{{host.name}}}} has sent no my_metric for {minutes} minutes; "
        "check that the Agent and its my_metric check are running.",
        "{{/is_no_data}}",
        "{{#is_recovery}}",
        "RECOVERED: my_metric on {{host.name}} is back to {{value}}.",
        "{{/is_recovery}}",
        f"Notify: {settings.notify}",
    ])
