"""The traced Flask app on one host: shipped, installed as a systemd unit, smoke-tested.

`ApmService` runs three pulumi-command `remote.Command`s over SSH on one host:

* `<name>-teardown` checks the host once (root, systemd, Python) and owns the delete
  step: on destroy it stops, disables and removes the unit and the app dir. An edit of
  its scripts is an update; only a new service name (its triggers) replaces it, removing
  the old app first. It waits for the resources passed as `after` (the host's Agent
  install: both use apt, and the app reports to the trace agent).
* `<name>-install` sends the bundle (app/app.py, app/requirements.txt, the rendered unit
  and app/deploy.sh) as a plain base64 USTAR tar on stdin (no gzip: its bytes depend on
  the zlib build, and a different stdin re-runs the install) and runs
  `deploy.sh install`, which builds a content-addressed release with its own
  virtualenv, switches the `current` symlink, installs the unit, restarts the app unless
  that release and unit are what runs (state/running, written after a passed smoke
  test), and rolls back if a route stops answering 200. Its `triggers` are the sha256 of every
  bundled file, so it runs again exactly when one of them changes (pulumi-command
  replaces a Command whose triggers change; with no delete step here, that only re-runs
  create, and deploy.sh keeps the old release running until the new one is proven).
* `<name>-smoke` (after install, same triggers) calls `/`, `/api/apm` and `/api/trace`
  on the host and fails the update with the app's journal tail if one does not answer 200.

The unit text is a pure function of the settings (`render_unit`), so tests read it.
"""
from __future__ import annotations

import base64
import hashlib
import io
import ipaddress
import shlex
import tarfile
from collections.abc import Sequence
from pathlib import Path

import pulumi
from pulumi_command import remote

from components import ssh
from settings import Host, Settings

APP_DIR = Path(__file__).resolve().parent.parent / "app"
# Files shipped to the host, from app/ (the unit is rendered, not read).
APP_FILES = ("app.py", "requirements.txt", "deploy.sh")
UNIT_FILE = "app.service"
TRACE_AGENT_URL = "http://localhost:8126"  # the Datadog Agent's trace intake on the host
ROUTES = ("/", "/api/apm", "/api/trace")
TYPE = "datadog-stack:apm:ApmService"
# gunicorn's sync workers: one request each at a time, so two keep a slow request from
# holding up the next. ddtrace-run patches Flask in the master before the fork
# (ddtrace's own usage line: `ddtrace-run gunicorn myproject.wsgi`); tests/apm shows
# each worker's traces arrive.
WORKERS = 2

# Runs as the SSH user; becomes root with `sudo -n` unless it already is.
_SUDO = 'SUDO=; [ "$(id -u)" -eq 0 ] || SUDO="sudo -n"'


def app_root(settings: Settings) -> str:
    """Where the app lives on the host: /opt/<service> (releases/, current -> release)."""
    return f"/opt/{settings.apm.service}"


def unit_name(settings: Settings) -> str:
    return f"{settings.apm.service}.service"


def _systemd_value(key: str, value: str) -> str:
    """One `Environment=` assignment, quoted for systemd (quotes, backslashes, %)."""
    if any(ord(ch) < 32 for ch in value):
        raise ValueError(f"{key}={value!r}: control characters cannot go into a systemd unit")
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("%", "%%")
    return f'Environment="{key}={escaped}"'


def unit_environment(settings: Settings) -> dict[str, str]:
    """The app's environment: ddtrace's unified service tags, log injection, agent, port."""
    return {
        "DD_SERVICE": settings.apm.service,
        "DD_ENV": settings.env,
        "DD_VERSION": settings.apm.version,
        "DD_LOGS_INJECTION": "true",
        "DD_TRACE_AGENT_URL": TRACE_AGENT_URL,
        "PYTHONUNBUFFERED": "1",
    }


def _url_host(address: str) -> str:
    return f"[{address}]" if ipaddress.ip_address(address).version == 6 else address


def bind(settings: Settings) -> str:
    """gunicorn's --bind: the configured address and the app's port (IPv6 in brackets)."""
    return f"{_url_host(settings.apm.bind_address)}:{settings.apm.port}"


def local_address(settings: Settings) -> str:
    """Where the app answers on its own host: loopback when it listens on every interface."""
    address = ipaddress.ip_address(settings.apm.bind_address)
    if address.is_unspecified:
        return "::1" if address.version == 6 else "127.0.0.1"
    return str(address)


def app_url(settings: Settings, host: Host) -> str:
    """The app's URL: the host's address when it listens on every interface, else its own."""
    address = ipaddress.ip_address(settings.apm.bind_address)
    where = host.address if address.is_unspecified else _url_host(str(address))
    return f"http://{where}:{settings.apm.port}/"


def render_unit(settings: Settings) -> str:
    """The systemd unit running the app under `ddtrace-run gunicorn` from the current release."""
    root = app_root(settings)
    current = f"{root}/current"
    env = "\n".join(_systemd_value(k, v) for k, v in unit_environment(settings).items())
    return f"""\
# Managed by Pulumi (stack {settings.stack}): edits are overwritten on the next update.
[Unit]
Description={settings.apm.service}: the Flask app on gunicorn, traced by ddtrace-run (Datadog APM)
After=network-online.target datadog-agent.service datadog-agent-trace.service
Wants=network-online.target

[Service]
Type=simple
DynamicUser=yes
NoNewPrivileges=yes
WorkingDirectory={current}
{env}
ExecStart={current}/venv/bin/ddtrace-run {current}/venv/bin/gunicorn --bind {bind(settings)} --workers {WORKERS} app:app
Restart=on-failure
RestartSec=5

[Install]
WantedBy=multi-user.target
"""


def bundle_files(settings: Settings) -> dict[str, str]:
    """What the host receives: the app's files from app/ plus the rendered unit."""
    files = {name: (APP_DIR / name).read_text() for name in APP_FILES}
    files[UNIT_FILE] = render_unit(settings)
    return files


def content_hashes(files: dict[str, str]) -> dict[str, str]:
    """sha256 of each file: the install/smoke triggers (a change re-runs them)."""
    return {name: hashlib.sha256(text.encode()).hexdigest() for name, text in sorted(files.items())}


def pack_bundle(files: dict[str, str]) -> str:
    """The files as a base64 USTAR tar, the same bytes on every machine.

    Uncompressed on purpose: gzip's output depends on the zlib build, and this is the
    install command's `stdin`, a plain input whose change re-runs the install. Fixed
    order, mtime, mode and owner (uid/gid 0, no names).
    """
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name, text in sorted(files.items()):
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), 0, 0o755 if name.endswith(".sh") else 0o644
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            tar.addfile(info, io.BytesIO(data))
    return base64.b64encode(raw.getvalue()).decode()


def _deploy_env(settings: Settings) -> str:
    return " ".join(f"{k}={shlex.quote(v)}" for k, v in (
        ("APP_NAME", settings.apm.service),
        ("APP_ROOT", app_root(settings)),
        ("APP_PORT", str(settings.apm.port)),
        ("APP_HOST", local_address(settings)),
    ))


def render_install_command(settings: Settings) -> str:
    """Unpack the bundle from stdin into a temp dir and run `deploy.sh install` as root."""
    return "\n".join([
        "set -eu",
        _SUDO,
        'bundle=$(mktemp -d)',
        'trap \'rm -rf "$bundle"\' EXIT',
        'base64 -d | tar -xf - -C "$bundle"',
        f'$SUDO env {_deploy_env(settings)} bash "$bundle/deploy.sh" install "$bundle"',
    ])


def render_smoke_command(settings: Settings) -> str:
    """Call every route on the host; fail with the app's journal tail if one is not 200."""
    return "\n".join([
        "set -eu",
        _SUDO,
        f'$SUDO env {_deploy_env(settings)} bash {shlex.quote(app_root(settings) + "/deploy.sh")} smoke',
    ])


def render_preflight_command(settings: Settings) -> str:
    """Check once that the host can take the app: root via sudo, systemd, Python 3.10-3.14."""
    return "\n".join([
        "set -eu",
        _SUDO,
        '$SUDO true || { echo "the SSH user needs root or passwordless sudo" >&2; exit 1; }',
        '[ -d /run/systemd/system ] || { echo "systemd is not running here" >&2; exit 1; }',
        "python3 -c 'import sys; sys.exit(not (3, 10) <= sys.version_info[:2] < (3, 15))' "
        '|| { echo "python3 3.10-3.14 is required (gunicorn 27, ddtrace 4.16)" >&2; exit 1; }',
        f"echo {shlex.quote(f'host ready for {unit_name(settings)} in {app_root(settings)}')}",
    ])


def render_remove_command(settings: Settings) -> str:
    """Stop, disable and delete the unit and the app dir; needs nothing from the bundle."""
    unit = shlex.quote(unit_name(settings))
    path = shlex.quote(f"/etc/systemd/system/{unit_name(settings)}")
    root = shlex.quote(app_root(settings))
    return "\n".join([
        "set -u",
        _SUDO,
        f"$SUDO systemctl disable --now {unit} || true",
        f"$SUDO rm -f {path}",
        "$SUDO systemctl daemon-reload || true",
        f"$SUDO systemctl reset-failed {unit} 2>/dev/null || true",
        f"$SUDO rm -rf {root}",
    ])


def teardown_triggers(settings: Settings) -> list[str]:
    """What the teardown's delete step removes: the unit and the app dir, by name."""
    return [f"unit:{unit_name(settings)}", f"root:{app_root(settings)}"]


class ApmService(pulumi.ComponentResource):
    """The Flask app, traced by ddtrace-run, running as a systemd service on one host.

    Outputs: `url` (http://<address>:<port>/) and `smoke` (the smoke test's report).
    """

    url: pulumi.Output[str]
    smoke: pulumi.Output[str]

    def __init__(self, name: str, settings: Settings, host: Host,
                 opts: pulumi.ResourceOptions | None = None, *,
                 after: Sequence[pulumi.Resource] = ()):
        """`after`: resources the app's first command waits for on this host, e.g. the
        Agent's install (it holds the dpkg lock while deploy.sh may apt-get python3-venv,
        and the app should start once the trace agent is there)."""
        super().__init__(TYPE, name, None, opts)
        files = bundle_files(settings)
        hashes = content_hashes(files)
        triggers = [f"{n}:sha256:{h}" for n, h in hashes.items()]
        connection = ssh.connection(settings, host)

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
            create=render_preflight_command(settings),
            delete=render_remove_command(settings),
            triggers=teardown_triggers(settings),
            add_previous_output_in_env=False,
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(after),
                                        delete_before_replace=True),
        )
        self.install = remote.Command(
            f"{name}-install",
            connection=connection,
            create=render_install_command(settings),
            stdin=pack_bundle(files),
            triggers=triggers,
            add_previous_output_in_env=False,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.teardown]),
        )
        self.smoke_test = remote.Command(
            f"{name}-smoke",
            connection=connection,
            create=render_smoke_command(settings),
            triggers=triggers,
            add_previous_output_in_env=False,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.install]),
        )
        self.url = pulumi.Output.from_input(app_url(settings, host))
        self.smoke = self.smoke_test.stdout
        self.register_outputs({"url": self.url, "smoke": self.smoke})
