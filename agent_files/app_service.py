"""Pure rendering of what the app's host receives: the systemd unit, the bundle's files,
where the app lives and where it answers. No pulumi (the plan, the tests and the component
share it); components/apm_service.py wires it into commands.
"""
from __future__ import annotations

import hashlib
import ipaddress
from pathlib import Path
from typing import Protocol

from domain import Apm

APP_DIR = Path(__file__).resolve().parent.parent / "app"
# Files shipped to the host, from app/ (the unit is rendered, not read); wheels.sha256 names
# the wheel set the release is installed from (agent_files/wheels.py).
APP_FILES = ("app.py", "requirements.txt", "wheels.sha256", "deploy.sh")
UNIT_FILE = "app.service"
# Modes inside the bundle, which is unpacked into a root-only temp dir: deploy.sh installs
# each file with its own mode (app files 0644, deploy.sh 0755).
SCRIPT_MODE, FILE_MODE = 0o700, 0o600
TRACE_AGENT_URL = "http://localhost:8126"  # the Datadog Agent's trace intake on the host
ROUTES = ("/", "/api/apm", "/api/trace")
# gunicorn's sync workers: one request each at a time, so two keep a slow request from
# holding up the next. ddtrace-run patches Flask in the master before the fork
# (ddtrace's own usage line: `ddtrace-run gunicorn myproject.wsgi`); tests/apm shows
# each worker's traces arrive.
WORKERS = 2


class AppSettings(Protocol):
    """What the app's files are rendered from: domain.Settings and
    components.apm_service.ApmServiceArgs both carry it."""

    stack: str
    env: str
    apm: Apm


def app_root(settings: AppSettings) -> str:
    """Where the app lives on the host: /opt/<service> (releases/, current -> release)."""
    return f"/opt/{settings.apm.service}"


def unit_name(settings: AppSettings) -> str:
    return f"{settings.apm.service}.service"


def staged_wheels(settings: AppSettings, set_id: str) -> str:
    """Where the stack copies the app's wheel set (one tar) for deploy.sh to unpack: a path
    any SSH user may write (root or a sudo user), kept across reboots (/var/tmp, FHS 5.15),
    named after the app and the set. deploy.sh deletes it once unpacked."""
    return f"/var/tmp/{settings.apm.service}-wheels-{set_id[:16]}.tar"


# The marker of what the stack created on a host (app/deploy.sh checks both before it
# overwrites or removes anything): the unit's first line, and APP_ROOT/OWNER_FILE.
OWNER_FILE = ".datadog-stack-owner"


def owner_line(stack: str) -> str:
    """The first line of the app's unit: names the stack that created it (deploy.sh's
    `owner_line` prints the same line from APP_STACK)."""
    return f"# Managed by Pulumi (stack {stack}): edits are overwritten on the next update."


def _systemd_value(key: str, value: str) -> str:
    """One `Environment=` assignment, quoted for systemd (quotes, backslashes, %)."""
    if any(ord(ch) < 32 for ch in value):
        raise ValueError(f"{key}={value!r}: control characters cannot go into a systemd unit")
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("%", "%%")
    return f'Environment="{key}={escaped}"'


def unit_environment(settings: AppSettings) -> dict[str, str]:
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
    """An address as a URL's host: an IPv6 literal in brackets, IPv4 and DNS names as they are."""
    try:
        version = ipaddress.ip_address(address).version
    except ValueError:
        return address  # a DNS name (settings.py lets only valid ones through)
    return f"[{address}]" if version == 6 else address


def bind(settings: AppSettings) -> str:
    """gunicorn's --bind: the configured address and the app's port (IPv6 in brackets)."""
    return f"{_url_host(settings.apm.bind_address)}:{settings.apm.port}"


def local_address(settings: AppSettings) -> str:
    """Where the app answers on its own host: loopback when it listens on every interface."""
    address = ipaddress.ip_address(settings.apm.bind_address)
    if address.is_unspecified:
        return "::1" if address.version == 6 else "127.0.0.1"
    return str(address)


def app_url(settings: AppSettings, host_address: str) -> str:
    """The app's URL: the host's address when it listens on every interface, else its own."""
    address = ipaddress.ip_address(settings.apm.bind_address)
    where = _url_host(host_address if address.is_unspecified else str(address))
    return f"http://{where}:{settings.apm.port}/"


def render_unit(settings: AppSettings) -> str:
    """The systemd unit running the app under `ddtrace-run gunicorn` from the current release.

    gunicorn's control socket is off: nothing here uses it, and gunicorn would create it
    under the service's home (~/.gunicorn)."""
    root = app_root(settings)
    current = f"{root}/current"
    env = "\n".join(_systemd_value(k, v) for k, v in unit_environment(settings).items())
    return f"""\
{owner_line(settings.stack)}
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
ExecStart={current}/venv/bin/ddtrace-run {current}/venv/bin/gunicorn --bind {bind(settings)} --workers {WORKERS} --no-control-socket app:app
Restart=on-failure
RestartSec=5

[Install]
WantedBy=multi-user.target
"""


def bundle_files(settings: AppSettings) -> dict[str, str]:
    """What the host receives: the app's files from app/ plus the rendered unit."""
    files = {name: (APP_DIR / name).read_text() for name in APP_FILES}
    files[UNIT_FILE] = render_unit(settings)
    return files


def content_hashes(files: dict[str, str]) -> dict[str, str]:
    """sha256 of each file: the install/smoke triggers (a change re-runs them)."""
    return {name: hashlib.sha256(text.encode()).hexdigest() for name, text in sorted(files.items())}


def bundle_members(settings: AppSettings) -> dict[str, tuple[bytes, int]]:
    """The bundle for agent_files.tarball: each file's bytes and mode."""
    return {name: (text.encode(), SCRIPT_MODE if name.endswith(".sh") else FILE_MODE)
            for name, text in bundle_files(settings).items()}
