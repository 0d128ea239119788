"""How every remote command reaches its host: the SSH connection, and root.

`Host` is the host as a component takes it. It is `domain.Host` (the configured host
settings.py validates, which the Agent's renderers and tools/drift read) but for its address:
an Input, so a program can hand a component the address of a VM it creates in the same
run (`instance.public_ip`). The address only goes where pulumi-command takes Inputs (the
connection) and into Outputs (the bundle's settings.env, the app's URL). The name names
resources (URNs); the user decides each command's text (`as_root`: the plan shows whether it
uses sudo); the port stays plain too, for the package's provider converts every integer
input with int() (pulumi/provider/experimental/component.py, `map_input_properties`), which
an Output does not pass. No `from __future__ import annotations` here: the package's
schema analyzer reads these annotations as objects.
"""
import dataclasses
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Protocol

import pulumi
from pulumi_command import remote

import domain


@dataclass(frozen=True)
class Host:
    """One VM: how Datadog names it and how SSH reaches it."""

    name: str
    """The Datadog hostname, and the start of the host's resource names."""
    address: pulumi.Input[str]
    """The address SSH connects to (IP or DNS name); may be another resource's output, such
    as a new VM's public IP."""
    ssh_port: int
    """The SSH port."""
    ssh_user: str
    """The SSH user: root, or a user with passwordless sudo."""

    @classmethod
    def of(cls, host: domain.Host) -> "Host":
        """A configured host as a component's input."""
        return cls(**{f.name: getattr(host, f.name) for f in dataclasses.fields(domain.Host)})

    def resolved(self, address: str) -> domain.Host:
        """This host with its address known (inside an apply): what the renderers read."""
        return domain.Host(name=self.name, address=address, ssh_port=self.ssh_port,
                           ssh_user=self.ssh_user)


class SshUser(Protocol):
    """What the command builders read of a host: either Host type has it."""

    @property
    def ssh_user(self) -> str: ...


def connection(host: Host, private_key: Optional[pulumi.Input[str]] = None,
               agent_socket: str = "") -> remote.ConnectionArgs:
    """SSH to the host as its configured user: through the ssh-agent at `agent_socket`
    (pulumi-command's agentSocketPath: the key never enters config, state or the provider's
    log), or with the stack's private key, kept secret. settings.py lets exactly one through."""
    if bool(agent_socket) == (private_key is not None):
        raise ValueError("an SSH connection needs exactly one of a private key and an agent socket")
    login = ({"agent_socket_path": agent_socket} if agent_socket
             else {"private_key": pulumi.Output.secret(private_key)})
    return remote.ConnectionArgs(
        host=host.address,
        port=host.ssh_port,
        user=host.ssh_user,
        **login,
        # A VM that is still booting refuses connections for a while: retry, bounded.
        dial_error_limit=10,
        per_dial_timeout=15,
    )


# The one sudo decision of the stack, made here from the configured `sshUser` rather than
# on the host (`[ "$(id -u)" -eq 0 ] || sudo ...`): the command string is then exactly what
# runs, so the offline plan, a preview and the tests show whether it uses sudo, and no
# command has a branch that only the host decides. `-n`: fail at once instead of waiting
# for a password no one will type.
def as_root(host: SshUser, command: str) -> str:
    """`command` (one simple command) run as root: as is for root, else via `sudo -n`."""
    return command if host.ssh_user == "root" else f"sudo -n {command}"


def script_command(script: Path, *args: str, env: Optional[Mapping[str, str]] = None) -> str:
    """The shell script file `script` run by `sh -c` as one simple command: the file's text
    is the script (so every line of it is one ShellCheck reads), `args` its $1, $2...,
    `env` set by env(1). Every word is quoted for the remote shell that parses the string;
    the string is the same for the same file and arguments. Never pass a secret here: a
    command line is visible to every user of the host (ps) and kept in the state."""
    words = [*(["env", *(f"{key}={value}" for key, value in env.items())] if env else []),
             "sh", "-c", script.read_text(), script.name, *args]
    return shlex.join(words)


def root_script(host: SshUser, script: Path, *args: str,
                env: Optional[Mapping[str, str]] = None) -> str:
    """`script_command` run as root (one sudo for the whole script)."""
    return as_root(host, script_command(script, *args, env=env))
