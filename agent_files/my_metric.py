"""my_metric: a custom Agent check reporting a random integer between 0 and 1000.

Installed as /etc/datadog-agent/checks.d/my_metric.py; its instance settings (tags and
`min_collection_interval`, how often the Agent's collector schedules it) live in
/etc/datadog-agent/conf.d/my_metric.yaml, so the interval changes without touching this file.
"""
import random

from datadog_checks.base import AgentCheck

__version__ = "1.0.0"

MIN_VALUE = 0
MAX_VALUE = 1000
CHECK_TAG = "check:my_metric"


class MyMetricCheck(AgentCheck):
    def __init__(self, name, init_config, instances):
        super().__init__(name, init_config, instances)
        # The instance is parsed once, as integrations-core's checks do: each run reuses it.
        self._tags = list(self.instance.get("tags") or []) + [CHECK_TAG]

    def check(self, _):
        # randint is inclusive at both ends: 0..1000.
        self.gauge("my_metric", random.randint(MIN_VALUE, MAX_VALUE), tags=self._tags)
