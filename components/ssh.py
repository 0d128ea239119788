"""The SSH connection every remote command of a host uses."""
from __future__ import annotations

import pulumi
from pulumi_command import remote

from settings import Host, Settings


def connection(settings: Settings, host: Host) -> remote.ConnectionArgs:
    """SSH to the host as its configured user with the stack's secret private key."""
    return remote.ConnectionArgs(
        host=host.address,
        port=host.ssh_port,
        user=host.ssh_user,
        private_key=pulumi.Output.secret(settings.secrets.ssh_private_key),
        # A VM that is still booting refuses connections for a while: retry, bounded.
        dial_error_limit=10,
        per_dial_timeout=15,
    )
