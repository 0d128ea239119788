"""AgentHost: the Datadog Agent's configuration on one VM, over SSH.

Three `pulumi_command.remote.Command`s per host, nothing else touches the VM:

1. `<name>-teardown` prepares the state directory once; its delete step runs
   `install.sh remove` (put back exactly what was installed) and removes the bundle.
2. `<name>-bundle` pipes the rendered bundle (a deterministic tar.gz, base64) through the
   SSH session's stdin and unpacks it into BUNDLE_DIR (root-only). The bundle exists only
   in memory here and, as the secret `stdin` input, encrypted in the state: nothing with a
   secret is written to the checkout or to plaintext state.
3. `<name>-install` runs `install.sh install BUNDLE_DIR` (verify + rollback, see
   agent_files/install.sh).

The bundle and install commands carry `triggers` made of sha256 content hashes, so an
unchanged `pulumi up` shows no diff and opens no SSH session. pulumi-command replaces a
command whose triggers change (create the new one, then delete the old), so those two
have no delete step: the removal lives on the teardown command, whose inputs never follow
the content. A change therefore costs exactly two SSH sessions: copy, install.
"""
from __future__ import annotations

import base64
import shlex
from typing import Optional

import pulumi
from pulumi_command import remote

from agent_files import render
from components import ssh
from settings import Host, Settings

TYPE = "datadog-stack:host:AgentHost"
BUNDLE_SHA = "bundle"  # key of the whole bundle's hash in file_hashes


def _sudo(host: Host) -> str:
    return "" if host.ssh_user == "root" else "sudo -n "


def copy_command(host: Host) -> str:
    """Unpack the base64 tar.gz on stdin into BUNDLE_DIR, replacing it atomically."""
    target = shlex.quote(render.BUNDLE_DIR)
    staging = shlex.quote(render.BUNDLE_DIR + ".new")
    script = (f"set -e; umask 077; rm -rf {staging}; mkdir -p {staging}; "
              f"base64 -d | tar -xzf - --no-same-owner -C {staging}; "
              f"rm -rf {target}; mv {staging} {target}")
    return f"{_sudo(host)}sh -c {shlex.quote(script)}"


def install_command(host: Host) -> str:
    bundle = shlex.quote(render.BUNDLE_DIR)
    return f"{_sudo(host)}bash {bundle}/install.sh install {bundle}"


def prepare_command(host: Host) -> str:
    state_dir = shlex.quote(render.BUNDLE_DIR.rsplit("/", 1)[0])
    return f"{_sudo(host)}mkdir -p -m 0700 {state_dir}"


def teardown_command(host: Host) -> str:
    """Remove what install.sh installed (per the last bundle's manifest), then the bundle."""
    bundle = shlex.quote(render.BUNDLE_DIR)
    script = f"if [ -d {bundle} ]; then bash {bundle}/install.sh remove {bundle}; fi; rm -rf {bundle}"
    return f"{_sudo(host)}sh -c {shlex.quote(script)}"


def _render(settings: Settings, host: Host, api_key: str, db_password: str) -> dict:
    """Runs inside Output.apply: the only place the secrets are plain strings."""
    bundle = render.build_bundle(settings, host, api_key, db_password)
    files = render.agent_files(settings, host, api_key, db_password)
    return {
        "bundle": base64.b64encode(bundle).decode(),
        "hashes": {
            **{f.path: render.sha256(f.content) for f in files},
            "database.sql": render.sha256(render.database_user_sql(settings, db_password)),
            BUNDLE_SHA: render.sha256(bundle),
        },
    }


class AgentHost(pulumi.ComponentResource):
    """Datadog Agent configuration (datadog.yaml, my_metric check, database integration and
    the database's datadog user) installed and verified on one host."""

    files: list[str]
    file_hashes: dict
    check_result: pulumi.Output

    def __init__(self, name: str, settings: Settings, host: Host,
                 opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__(TYPE, name, None, opts)
        secrets = settings.secrets
        rendered = pulumi.Output.all(secrets.api_key, secrets.database_password).apply(
            lambda values: _render(settings, host, values[0], values[1]))

        # Non-secret files do not depend on the secrets, so rendering them with placeholders
        # gives their real content: their hashes stay readable. Secret-bearing ones are secret.
        placeholder = render.agent_files(settings, host, "[secret]", "[secret]")
        hashes: dict = {}
        for f in placeholder:
            hashes[f.path] = (pulumi.Output.secret(rendered.apply(lambda r, p=f.path: r["hashes"][p]))
                              if f.secret else render.sha256(f.content))
        for key in ("database.sql", BUNDLE_SHA):
            hashes[key] = pulumi.Output.secret(rendered.apply(lambda r, k=key: r["hashes"][k]))
        hashes["install.sh"] = render.sha256(render.install_script())
        self.files = [f.path for f in placeholder]
        self.file_hashes = hashes

        connection = ssh.connection(settings, host)
        bundle = pulumi.Output.secret(rendered.apply(lambda r: r["bundle"]))
        teardown = remote.Command(
            f"{name}-teardown",
            connection=connection,
            create=prepare_command(host),
            delete=teardown_command(host),
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
