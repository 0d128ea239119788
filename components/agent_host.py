"""AgentHost: the Datadog Agent's configuration on one VM, over SSH.

Three `pulumi_command.remote.Command`s per host, nothing else touches the VM:

1. `<name>-teardown` prepares the state directory once; its delete step
   (agent_files/remove_bundle.sh) runs `install.sh remove` (put back exactly what was
   installed) and, only if that succeeded, removes the bundle (a failed remove fails the
   destroy, which can then be retried).
2. `<name>-bundle` (agent_files/receive_bundle.sh) pipes the rendered bundle (a
   deterministic uncompressed tar, base64) through the SSH session's stdin, unpacks it
   into BUNDLES_DIR/<sha256> (root-only) and switches the BUNDLE_DIR symlink to it
   atomically (`ln -sfn` + `mv -T`): at every instant BUNDLE_DIR is a complete bundle, the
   previous or the new one. The bundle exists only in memory here and, as the secret
   `stdin` input, encrypted in the state: nothing with a secret is written to the
   checkout or to plaintext state.
3. `<name>-install` runs `install.sh install BUNDLE_DIR` (verify + rollback, see
   agent_files/install.sh).

The bundle and install commands carry `triggers` made of sha256 content hashes (over the
uncompressed tar, so every machine computes the same), so an unchanged `pulumi up` shows
no diff and opens no SSH session. pulumi-command replaces a command whose triggers change
(create the new one, then delete the old), so those two have no delete step: the removal
lives on the teardown command, whose inputs never follow the content. A change therefore
costs exactly two SSH sessions: copy, install.

Every line of shell the commands run is in a file ShellCheck reads: a command carries its
script's text as `sh -c`'s argument and the paths as the script's arguments, each word
quoted (components/ssh.py `root_script`); no secret is ever an argument.

The command builders take `root`, a path prefix like install.sh's DD_STACK_ROOT: empty on
a VM; the tests run the rendered commands for real under a throwaway directory.
"""
import dataclasses
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import pulumi
from pulumi_command import remote

from agent_files import render, tarball
from components import package, ssh
from components.args import read
from domain import AgentSettings

TYPE = package.token("AgentHost")
OLD_TYPE = "datadog-stack:host:AgentHost"  # deployed stacks' token (the alias)
BUNDLE_SHA = "bundle"  # key of the whole bundle's hash in file_hashes
# The copy and teardown scripts; each command carries its file's text (ssh.root_script).
RECEIVE_BUNDLE_SH = Path(render.__file__).parent / "receive_bundle.sh"
REMOVE_BUNDLE_SH = Path(render.__file__).parent / "remove_bundle.sh"


def copy_command(host: ssh.SshUser, root: str = "") -> str:
    """agent_files/receive_bundle.sh: unpack the base64 tar on stdin into
    BUNDLES_DIR/<its sha256>, point the BUNDLE_DIR symlink at it (atomic rename), then
    delete the other versions."""
    return ssh.root_script(host, RECEIVE_BUNDLE_SH, root + render.BUNDLES_DIR,
                           root + render.BUNDLE_DIR)


def install_command(host: ssh.SshUser, root: str = "") -> str:
    bundle = shlex.quote(root + render.BUNDLE_DIR)
    return ssh.as_root(host, f"bash {bundle}/install.sh install {bundle}")


def prepare_command(host: ssh.SshUser, root: str = "") -> str:
    return ssh.as_root(host, f"mkdir -p -m 0700 {shlex.quote(root + render.STACK_DIR)}")


def remove_command(host: ssh.SshUser, root: str = "") -> str:
    """agent_files/remove_bundle.sh: remove what install.sh installed, then the bundle and the
    stack directory: only after a successful remove, so a failed one fails the destroy (and
    a retry still finds install.sh)."""
    return ssh.root_script(host, REMOVE_BUNDLE_SH, root + render.BUNDLE_DIR,
                           root + render.BUNDLES_DIR, root + render.STACK_DIR)


@dataclass(frozen=True)
class AgentHostArgs:
    """What one host's Agent configuration is made of."""

    host: ssh.Host
    """The VM: its Datadog hostname, SSH address, port and user."""
    agent: AgentSettings
    """What the Agent's files are rendered from (stack, env, site, host tags, database,
    check interval, logs, whether to install the Agent): the same for every host."""
    api_key: pulumi.Input[str]
    """Datadog API key (secret): goes into datadog.yaml."""
    database_password: pulumi.Input[str]
    """Password of the `datadog` database user (secret)."""
    ssh_private_key: Optional[pulumi.Input[str]] = None
    """Private key the commands log in with (secret); None with `ssh_agent_socket`."""
    ssh_agent_socket: Optional[str] = None
    """Path of the ssh-agent socket the commands log in through instead of a key."""
    fleet_tag: Optional[pulumi.Input[str]] = None
    """A fleet's host-group stack: the account stack's fleet tag (its `fleetTag` output,
    read through a StackReference), added to datadog.yaml's tags so the account's monitor,
    downtimes and catalog, scoped by that tag, cover the host."""



def _render(args: AgentHostArgs, api_key: str, db_password: str, address: str,
            fleet_tag: Optional[str] = None) -> dict:
    """Runs inside Output.apply: the only place the secrets are plain strings (and where the
    address is known: the bundle's settings.env names it)."""
    host = args.host.resolved(address)
    agent = args.agent if not fleet_tag else dataclasses.replace(
        args.agent, host_tags=(*args.agent.host_tags, fleet_tag))
    bundle = render.build_bundle(agent, host, api_key, db_password)
    files = render.agent_files(agent, host, api_key, db_password)
    return {
        "bundle": tarball.stdin(bundle),
        "hashes": {
            **{f.path: render.sha256(f.content) for f in files},
            "database.sql": render.sha256(render.database_user_sql(agent, db_password)),
            BUNDLE_SHA: render.sha256(bundle),
        },
    }


class AgentHost(pulumi.ComponentResource):
    """Datadog Agent configuration (datadog.yaml, my_metric check, database integration and
    the database's datadog user) installed and verified on one host."""

    files: list[str]
    """The installed files' paths on the VM."""
    file_hashes: dict[str, pulumi.Output[str]]
    """Path (and `database.sql`, `bundle`, `install.sh`) -> sha256; secret where the
    content holds a secret."""
    check_result: pulumi.Output[str]
    """install.sh's stdout: the verified `datadog-agent check my_metric`."""
    # Not in the package's schema (no class annotation): `teardown`, `copy` and `install`,
    # the commands, set in __init__. Another program waits for the Agent with
    # `dependsOn: [<the AgentHost>]`, which waits for all three.

    def __init__(self, name: str, args: AgentHostArgs,
                 opts: Optional[pulumi.ResourceOptions] = None):
        args = read(AgentHostArgs, args)
        super().__init__(TYPE, name, None, package.options(opts, OLD_TYPE))
        host = args.host
        rendered = pulumi.Output.all(args.api_key, args.database_password, host.address,
                                     args.fleet_tag).apply(
            lambda values: _render(args, *values))

        # Non-secret files do not depend on the secrets, so rendering them with placeholders
        # gives their real content: their hashes stay readable. Secret-bearing ones are secret.
        # No Agent file holds the address (only the bundle's settings.env, hashed with the
        # bundle), so a placeholder stands for it too: the paths and those hashes are known
        # even while a new VM's address is not.
        placeholder = render.agent_files(args.agent, host.resolved("[address]"), "[secret]",
                                         "[secret]")
        hashes: dict[str, pulumi.Output[str]] = {}
        for f in placeholder:
            hashes[f.path] = (pulumi.Output.secret(rendered.apply(lambda r, p=f.path: r["hashes"][p]))
                              if f.secret else pulumi.Output.from_input(render.sha256(f.content)))
        for key in ("database.sql", BUNDLE_SHA):
            hashes[key] = pulumi.Output.secret(rendered.apply(lambda r, k=key: r["hashes"][k]))
        hashes["install.sh"] = pulumi.Output.from_input(render.sha256(render.install_script()))
        self.files = [f.path for f in placeholder]
        self.file_hashes = hashes

        connection = ssh.connection(host, args.ssh_private_key, args.ssh_agent_socket)
        bundle = pulumi.Output.secret(rendered.apply(lambda r: r["bundle"]))
        teardown = remote.Command(
            f"{name}-teardown",
            connection=connection,
            create=prepare_command(host),
            delete=remove_command(host),
            opts=pulumi.ResourceOptions(parent=self),
        )
        copy = remote.Command(
            f"{name}-bundle",
            connection=connection,
            create=copy_command(host),
            stdin=bundle,
            triggers=[hashes[BUNDLE_SHA]],
            opts=pulumi.ResourceOptions(parent=self, depends_on=[teardown],
                                        additional_secret_outputs=["stdin"]),
        )
        install = remote.Command(
            f"{name}-install",
            connection=connection,
            create=install_command(host),
            triggers=[{key: hashes[key] for key in sorted(hashes)}],
            opts=pulumi.ResourceOptions(parent=self, depends_on=[copy]),
        )
        self.teardown = teardown
        self.copy = copy
        self.install = install
        self.check_result = install.stdout
        self.register_outputs({
            "files": self.files,
            "fileHashes": hashes,
            "checkResult": install.stdout,
        })
