"""Datadog Agent configuration for each VM: rendering (render.py), the my_metric check
(my_metric.py) and the installer run on the VM (install.sh). Imports nothing from pulumi."""
