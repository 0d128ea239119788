"""The package's provider: `pulumi package add` runs this file (PulumiPlugin.yaml)."""
import sys
from pathlib import Path

# The components live in the repository around this directory (provider/served.py).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pulumi.provider.experimental import component_provider_host  # noqa: E402

from components import package  # noqa: E402
from provider.served import COMPONENTS  # noqa: E402

if __name__ == "__main__":
    component_provider_host(COMPONENTS, name=package.NAME, version=package.VERSION)
