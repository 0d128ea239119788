"""The traced Flask app on one host: shipped, installed as a systemd unit, smoke-tested.

`ApmService` runs three pulumi-command `remote.Command`s over SSH on one host:

* `<name>-teardown` checks the host once (root, systemd, Python) and owns the delete
  step: on destroy it stops, disables and removes the unit and the app dir, each only if
  this stack created it (the unit's first line and the dir's marker name the stack:
  app/deploy.sh `remove`; install refuses to take over what they do not mark). An edit of
  its scripts is an update; only a new service name (its triggers) replaces it, removing
  the old app first. It waits for the resources in `opts.depends_on` (the host's Agent
  install: both use apt, and the app reports to the trace agent).
* `<name>-wheels` (a `remote.CopyToRemote`, after the teardown's preflight passed) copies
  the app's wheel set, one tar built on this machine (agent_files/wheels.py; `__main__`
  fetches it into build/app-wheels/ before the program runs), to
  /var/tmp/<service>-wheels-<set>.tar. Its triggers are the set's id: an unchanged set is
  not sent again, a new one is.
* `<name>-install` sends the bundle (app/app.py, app/requirements.txt, app/wheels.sha256,
  the rendered unit and app/deploy.sh) as a plain base64 USTAR tar on stdin (no gzip: its bytes depend on
  the zlib build, and a different stdin re-runs the install) and runs
  `deploy.sh install`, which unpacks the wheel set (checked file by file against
  wheels.sha256) and builds a content-addressed release with its own virtualenv from it,
  no package index contacted, switches the `current` symlink, installs the unit, restarts the app unless
  that release and unit are what runs (state/running, written after a passed smoke
  test), and rolls back if a route stops answering 200. Its `triggers` are the sha256 of every
  bundled file, so it runs again exactly when one of them changes (pulumi-command
  replaces a Command whose triggers change; with no delete step here, that only re-runs
  create, and deploy.sh keeps the old release running until the new one is proven).
* `<name>-smoke` (after install, same triggers) calls `/`, `/api/apm` and `/api/trace`
  on the host and fails the update with the app's journal tail if one does not answer 200.

The unit and the bundle are pure renderings (agent_files/app_service.py), packed by the
one tar builder the Agent's bundle uses (agent_files/tarball.py); every command becomes
root the one way the stack decides it (components/ssh.py `as_root`).
"""
import shlex
from dataclasses import dataclass
from typing import Optional

import pulumi
from pulumi_command import remote

from agent_files import app_service, tarball, wheels
from agent_files.app_service import app_root, unit_name
from components import package, ssh
from components.args import read
from domain import Apm

TYPE = package.token("ApmService")
OLD_TYPE = "datadog-stack:apm:ApmService"  # deployed stacks' token (the alias)


@dataclass(frozen=True)
class ApmServiceArgs:
    """What one host's app is made of; `stack`, `env` and `apm` are what
    agent_files.app_service renders from (app_service.AppSettings)."""

    host: ssh.Host
    """The VM: its SSH address, port and user (and where the app's URL points)."""
    stack: str
    """The Pulumi stack, named in the unit's header."""
    env: str
    """Datadog env of the app's traces (DD_ENV)."""
    apm: Apm
    """The service: its name (unit, app dir, DD_SERVICE), version, port and bind address."""
    ssh_private_key: Optional[pulumi.Input[str]] = None
    """Private key the commands log in with (secret); None with `ssh_agent_socket`."""
    ssh_agent_socket: Optional[str] = None
    """Path of the ssh-agent socket the commands log in through instead of a key."""



# The shell scripts the app's commands run; each command carries its file's text
# (components/ssh.py `script_command`).
RECEIVE_SH = app_service.APP_DIR / "receive.sh"
PREFLIGHT_SH = app_service.APP_DIR / "preflight.sh"
REMOVE_SH = app_service.APP_DIR / "remove.sh"


def _deploy_env(settings: app_service.AppSettings) -> dict[str, str]:
    """deploy.sh's interface: its APP_* variables (none of them a secret)."""
    return {
        "APP_NAME": settings.apm.service,
        "APP_ROOT": app_root(settings),
        "APP_STACK": settings.stack,
        "APP_PORT": str(settings.apm.port),
        "APP_HOST": app_service.local_address(settings),
        "APP_WHEELS": app_service.staged_wheels(settings, wheels.load().id),
    }


def install_command(settings: app_service.AppSettings, host: ssh.SshUser) -> str:
    """As root, app/receive.sh: unpack the bundle from stdin into a temp dir and run
    `deploy.sh install`."""
    return ssh.root_script(host, RECEIVE_SH, env=_deploy_env(settings))


def smoke_command(settings: app_service.AppSettings, host: ssh.SshUser) -> str:
    """Call every route on the host; fail with the app's journal tail if one is not 200."""
    env = [f"{key}={value}" for key, value in _deploy_env(settings).items()]
    return ssh.as_root(host, shlex.join(["env", *env, "bash", app_root(settings) + "/deploy.sh",
                                         "smoke"]))


def preflight_command(settings: app_service.AppSettings, host: ssh.SshUser,
                      target: wheels.Target = wheels.TARGET) -> str:
    """app/preflight.sh: check once that the host can take the app: root, the platform the
    wheels are built for (`target`), systemd. Runs as the SSH user, so that a missing sudo
    is reported in words."""
    return ssh.script_command(PREFLIGHT_SH, unit_name(settings), app_root(settings),
                              target.python, target.glibc, target.arch,
                              *shlex.split(ssh.as_root(host, "true")))


def remove_command(settings: app_service.AppSettings, host: ssh.SshUser) -> str:
    """app/remove.sh: `deploy.sh remove` from the app dir: it stops, disables and deletes the
    unit and the app dir, each only if this stack created it, and names in one line what it
    keeps. Runs only where the dir's marker names this stack (install puts the marker and
    deploy.sh there before anything else); elsewhere nothing of this stack's exists:
    nothing runs."""
    return ssh.root_script(host, REMOVE_SH, app_service.OWNER_FILE, env=_deploy_env(settings))


def teardown_triggers(settings: app_service.AppSettings) -> list[str]:
    """What the teardown's delete step removes: the unit and the app dir, by name."""
    return [f"unit:{unit_name(settings)}", f"root:{app_root(settings)}"]


class ApmService(pulumi.ComponentResource):
    """The Flask app, traced by ddtrace-run, running as a systemd service on one host.

    Outputs: `url` (http://<address>:<port>/) and `smoke` (the smoke test's report).
    """

    url: pulumi.Output[str]
    """http://<address>:<port>/, where the app answers."""
    smoke: pulumi.Output[str]
    """The smoke test's report: each route and its 200."""
    # Not in the package's schema (no class annotation): `teardown`, `wheels`, `install`
    # and `smoke_test`, the commands, set in __init__.

    def __init__(self, name: str, args: ApmServiceArgs,
                 opts: Optional[pulumi.ResourceOptions] = None):
        """`opts.depends_on`: what the app's first command waits for on this host, e.g. the
        Agent's install (it holds the dpkg lock while deploy.sh may apt-get python3-venv,
        and the app should start once the trace agent is there). The component passes it
        on to its teardown command, which every other command follows."""
        args = read(ApmServiceArgs, args)
        opts = package.options(opts, OLD_TYPE)
        super().__init__(TYPE, name, None, opts)
        host = args.host
        hashes = app_service.content_hashes(app_service.bundle_files(args))
        triggers = [f"{n}:sha256:{h}" for n, h in hashes.items()]
        connection = ssh.connection(host, args.ssh_private_key, args.ssh_agent_socket)

        # The delete step lives on its own Command, whose inputs do not follow the
        # content: pulumi-command replaces a Command whose `triggers` change
        # (replace_on_changes=["triggers[*]"]), and a replaced install carrying the
        # delete script would wipe the app right after installing the new release.
        # An edit of the preflight or remove script is a plain update (it re-runs the
        # harmless preflight). The teardown is replaced only when what it removes is
        # another app: its triggers are the unit and dir names, which only a new
        # `apmService` changes -- and that also changes the unit, so install and smoke
        # run again right after the old app is removed (delete before replace: the old
        # unit would otherwise hold the port the new one listens on).
        self.teardown = remote.Command(
            f"{name}-teardown",
            connection=connection,
            create=preflight_command(args, host),
            delete=remove_command(args, host),
            triggers=teardown_triggers(args),
            add_previous_output_in_env=False,
            opts=pulumi.ResourceOptions(parent=self, depends_on=opts.depends_on,
                                        delete_before_replace=True),
        )
        # The wheels travel as a file asset (its hash, not its 11 MB, is in the state),
        # copied once per set: `triggers` replace the copy when the set changes.
        wheel_set = wheels.load()
        self.wheels = remote.CopyToRemote(
            f"{name}-wheels",
            connection=connection,
            source=pulumi.FileAsset(str(wheel_set.archive)),
            remote_path=app_service.staged_wheels(args, wheel_set.id),
            triggers=[f"wheels:sha256:{wheel_set.id}"],
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.teardown]),
        )
        self.install = remote.Command(
            f"{name}-install",
            connection=connection,
            create=install_command(args, host),
            stdin=tarball.stdin(tarball.build(app_service.bundle_members(args))),
            triggers=triggers,
            add_previous_output_in_env=False,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.teardown, self.wheels]),
        )
        self.smoke_test = remote.Command(
            f"{name}-smoke",
            connection=connection,
            create=smoke_command(args, host),
            triggers=triggers,
            add_previous_output_in_env=False,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.install]),
        )
        self.url = pulumi.Output.from_input(host.address).apply(
            lambda address: app_service.app_url(args, address))
        self.smoke = self.smoke_test.stdout
        self.register_outputs({"url": self.url, "smoke": self.smoke})
