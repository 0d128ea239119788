"""How every remote command reaches its host: the SSH connection, and root."""
from __future__ import annotations

import shlex
from collections.abc import Mapping
from pathlib import Path

import pulumi
from pulumi_command import remote

from domain import Host


def connection(host: Host, private_key: pulumi.Input[str] | None = None,
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
def as_root(host: Host, command: str) -> str:
    """`command` (one simple command) run as root: as is for root, else via `sudo -n`."""
    return command if host.ssh_user == "root" else f"sudo -n {command}"


def script_command(script: Path, *args: str, env: Mapping[str, str] | None = None) -> str:
    """The shell script file `script` run by `sh -c` as one simple command: the file's text
    is the script (so every line of it is one ShellCheck reads), `args` its $1, $2...,
    `env` set by env(1). Every word is quoted for the remote shell that parses the string;
    the string is the same for the same file and arguments. Never pass a secret here: a
    command line is visible to every user of the host (ps) and kept in the state."""
    words = [*(["env", *(f"{key}={value}" for key, value in env.items())] if env else []),
             "sh", "-c", script.read_text(), script.name, *args]
    return shlex.join(words)


def root_script(host: Host, script: Path, *args: str, env: Mapping[str, str] | None = None) -> str:
    """`script_command` run as root (one sudo for the whole script)."""
    return as_root(host, script_command(script, *args, env=env))
