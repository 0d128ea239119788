"""The metric monitor on my_metric: query, thresholds and per-state message."""
from __future__ import annotations

from decimal import Decimal

from domain import Thresholds

METRIC = "my_metric"
WINDOW = "last_5m"
# The monitor alerts on values above its thresholds; settings.py checks the recovery
# thresholds against this direction.
COMPARATOR = ">"


def host_filter(host_names: tuple[str, ...], host_tag: str | None = None) -> str:
    """A metric-query scope matching exactly the configured hosts; with `host_tag` (a
    fleet's account stack, rules/fleet.py), every host carrying that tag."""
    return host_tag or " OR ".join(f"host:{name}" for name in host_names)


def group_by(host_tag: str | None = None) -> str:
    """One alert per host; with `host_tag`, grouped by its key too: a downtime's group scope
    only filters on tags the monitor groups by (Datadog, Monitors > Guides > Scoping
    Downtime: https://docs.datadoghq.com/monitors/guide/scoping_downtimes/)."""
    return f"host,{host_tag.partition(':')[0]}" if host_tag else "host"


def number(value: float) -> str:
    """Thresholds as Datadog writes them: 800, not 800.0; 1234567, not 1.23457e+06."""
    return format(Decimal(repr(value)).normalize(), "f")


def monitor_query(host_names: tuple[str, ...], thresholds: Thresholds,
                  host_tag: str | None = None) -> str:
    # Grouped by host: Datadog fills {{host.ip}} and {{host.name}} only on a monitor
    # grouped by host, and each host then alerts on its own average.
    return (f"avg({WINDOW}):avg:{METRIC}{{{host_filter(host_names, host_tag)}}} "
            f"by {{{group_by(host_tag)}}} "
            f"{COMPARATOR} {number(thresholds.critical)}")


def monitor_thresholds(thresholds: Thresholds) -> dict[str, str]:
    """monitor_thresholds as the provider takes them: numbers written as strings."""
    return {"warning": number(thresholds.warning), "critical": number(thresholds.critical),
            "warning_recovery": number(thresholds.warning_recovery),
            "critical_recovery": number(thresholds.critical_recovery)}


def monitor_name(stack: str) -> str:
    # The name is the subject of every notification, and Datadog prefixes it with the
    # state ("[Triggered]", "[Warn]", "[Recovered]", "[No Data]"): it names what is
    # watched, never a state, so it reads right after each prefix. The host is named here
    # once, so include_tags is off (components/monitor.py).
    return f"[{stack}] my_metric 5-minute average on {{{{host.name}}}}"


def monitor_message(thresholds: Thresholds, no_data_minutes: int, notify: str) -> str:
    warning = number(thresholds.warning)
    critical = number(thresholds.critical)
    warning_recovery = number(thresholds.warning_recovery)
    critical_recovery = number(thresholds.critical_recovery)
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
        f"NO DATA: {{{{host.name}}}} has sent no my_metric for {no_data_minutes} minutes; "
        "check that the Agent and its my_metric check are running.",
        "{{/is_no_data}}",
        "{{#is_recovery}}",
        f"RECOVERED: my_metric on {{{{host.name}}}} averaged {{{{value}}}} over the last "
        f"5 minutes (a warning clears at or below {warning_recovery}, an alert at or "
        f"below {critical_recovery}).",
        "{{/is_recovery}}",
        f"Notify: {notify}",
    ])
