"""What the package serves: its components, and the schema the SDK's analyzer infers from them.

The components import the project's own modules (rules/, agent_files/, domain.py) and read
the files they ship to a VM (agent_files/install.sh, agent_files/my_metric.py, app/)
relative to their own modules, so the package is this repository: provider/ only holds the
plugin's entry point.
"""
import json
from typing import Any

from pulumi.provider.experimental.analyzer import Analyzer
from pulumi.provider.experimental.schema import generate_schema

from components import package
from components.agent_host import AgentHost
from components.apm_dashboard import ApmDashboard
from components.apm_service import ApmService
from components.catalog import Catalog
from components.downtimes import OffHoursDowntimes
from components.monitor import MetricMonitor
from components.timeboard import Timeboard

COMPONENTS = [Timeboard, MetricMonitor, OffHoursDowntimes, ApmDashboard, AgentHost, ApmService,
              Catalog]


def schema() -> dict[str, Any]:
    """The package schema, as `pulumi package get-schema` prints it (the provider's
    GetSchema: pulumi/provider/experimental/component.py builds it the same way)."""
    result = Analyzer(package.NAME).analyze(COMPONENTS)
    dependencies = sorted(result["dependencies"], key=lambda d: f"{d.name}{d.version}")
    spec = generate_schema(package.NAME, package.VERSION, None, result["component_definitions"],
                           result["type_definitions"], dependencies)
    return json.loads(json.dumps(spec.to_json()))
