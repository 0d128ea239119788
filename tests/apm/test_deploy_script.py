"""app/deploy.sh for real, with stand-ins for systemctl and journalctl.

The stand-in systemctl starts the unit's ExecStart with its Environment= lines as a
background process on a free port, so install, idempotence, the smoke test and the
rollback run end to end here. Each release's virtualenv is installed from the app's wheel
set (agent_files/wheels.py: build/app-wheels/, fetched from PyPI once per set, then cached),
staged as the stack's copy stages it; pip's index is a dead address, so a pip that tried an
index would fail the install.
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import textwrap
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from agent_files import app_service, tarball, wheels

pytestmark = pytest.mark.apm

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "app"
APP_PY = (APP / "app.py").read_text()
STACK = "apm-test"  # the stack that owns what deploy.sh installs here
DEAD_INDEX = "http://127.0.0.1:9/simple/"  # the discard port: nothing answers

FAKE_SYSTEMCTL = textwrap.dedent('''\
    #!{python}
    """systemctl stand-in: runs a unit's ExecStart in its WorkingDirectory in the background,
    one pid file per unit."""
    import os, re, shlex, signal, subprocess, sys, time
    state = os.environ["FAKE_STATE"]
    units = os.environ["UNIT_DIR"]
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    cmd, unit = args[0], (args[1] if len(args) > 1 else "")
    with open(os.path.join(state, "calls"), "a") as log:
        log.write(" ".join(sys.argv[1:]) + "\\n")
    pidfile = os.path.join(state, unit + ".pid")

    def running():
        try:
            pid = int(open(pidfile).read())
            os.kill(pid, 0)
            return pid
        except (OSError, ValueError):
            return None

    def stop():
        pid = running()
        if pid:
            os.killpg(pid, signal.SIGTERM)
            for _ in range(50):
                if running() is None:
                    break
                time.sleep(0.1)

    if cmd == "restart":
        if os.path.exists(os.path.join(state, "kill-before-restart")):
            # One-shot: deploy.sh dies here, after the unit swap and the symlink switch.
            os.remove(os.path.join(state, "kill-before-restart"))
            os.kill(os.getppid(), signal.SIGKILL)
            sys.exit(137)
        stop()
        text = open(os.path.join(units, unit)).read()
        env = dict(os.environ)
        for key, value in re.findall(r'^Environment="([^=]+)=(.*)"$', text, re.M):
            env[key] = value.replace('%%', '%')
        exec_start = re.search(r"^ExecStart=(.*)$", text, re.M).group(1)
        cwd = re.search(r"^WorkingDirectory=(.*)$", text, re.M)
        out = open(os.path.join(state, unit + ".log"), "a")
        proc = subprocess.Popen(shlex.split(exec_start), env=env, stdout=out, stderr=out,
                                cwd=cwd and cwd.group(1), start_new_session=True)
        open(pidfile, "w").write(str(proc.pid))
    elif cmd == "is-active":
        sys.exit(0 if running() else 3)
    elif cmd in ("disable", "stop"):
        stop()
    # daemon-reload, enable, reset-failed: nothing to do
''')

FAKE_JOURNALCTL = textwrap.dedent('''\
    #!/bin/sh
    # journalctl -u UNIT -n N --no-pager
    tail -n "$4" "$FAKE_STATE/$2.log"
''')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def wheel_tar() -> Path:
    """The app's wheel set as the stack ships it (once per set on this machine)."""
    return wheels.ensure(wheels.load())


def stage(tar: Path, to: Path) -> None:
    """The set where the stack's copy puts it (a link: deploy.sh deletes it once unpacked)."""
    try:
        os.link(tar, to)
    except OSError:
        to.write_bytes(tar.read_bytes())


@pytest.fixture(scope="session")
def worker(tmp_path_factory) -> dict[str, Path]:
    """One app root for every test of this pytest process (its tests run one at a time) and
    the releases built there: a release's virtualenv names its own path, so a release is
    reusable only at the path it was built in."""
    base = tmp_path_factory.mktemp("apm-host")
    (base / "built").mkdir()
    return {"root": base / "opt" / "flask-app", "built": base / "built"}


def _clear(root: Path, built: Path) -> None:
    """Empty the app root's parent, keeping each complete release in `built`."""
    for release in (root / "releases").glob("*/") if (root / "releases").is_dir() else []:
        if (release / ".complete").exists() and not (built / release.name).exists():
            release.rename(built / release.name)
    if root.parent.exists():
        shutil.rmtree(root.parent)


def with_built_release(host, src: Path) -> None:
    """The host as a run that built `src`'s release and stopped there leaves it: the app dir
    with the stack's marker and deploy.sh, and the complete release (built at this path by an
    earlier test of this process, linked in; built by the install itself the first time).
    For tests whose subject is what comes after the first install, not the build."""
    same = ("app.py", "requirements.txt", "wheels.sha256")
    release = next((r for r in host["built"].iterdir()
                    if all((r / f).read_bytes() == (src / f).read_bytes() for f in same)), None)
    if release is None:
        return
    root = host["root"]
    (root / "releases").mkdir(parents=True)
    (root / ".datadog-stack-owner").write_text(f"{STACK}\n")
    shutil.copy(APP / "deploy.sh", root / "deploy.sh")
    shutil.copytree(release, root / "releases" / release.name, symlinks=True, copy_function=os.link)


@pytest.fixture
def host(tmp_path, wheel_tar, worker):
    """A scratch 'host': bin/ with the stand-ins first on PATH, a unit dir and an app root."""
    bin_dir, state, units = tmp_path / "bin", tmp_path / "state", tmp_path / "units"
    vendor = tmp_path / "lib-systemd-system"  # where a package's units would be
    for d in (bin_dir, state, units, vendor):
        d.mkdir()
    (bin_dir / "systemctl").write_text(FAKE_SYSTEMCTL.format(python=sys.executable))
    (bin_dir / "journalctl").write_text(FAKE_JOURNALCTL)
    for tool in bin_dir.iterdir():
        tool.chmod(0o755)
    port = free_port()
    root = worker["root"]
    _clear(root, worker["built"])
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "FAKE_STATE": str(state),
           "UNIT_DIR": str(units), "APP_NAME": "flask-app", "APP_ROOT": str(root),
           "APP_STACK": STACK, "VENDOR_UNIT_DIRS": str(vendor),
           "APP_PORT": str(port), "APP_HOST": "127.0.0.1", "SMOKE_TIMEOUT": "30",
           "APP_WHEELS": str(tmp_path / "staged-wheels.tar"),
           "PIP_INDEX_URL": DEAD_INDEX, "PIP_RETRIES": "0", "PIP_TIMEOUT": "3"}
    stage(wheel_tar, tmp_path / "staged-wheels.tar")
    yield {"env": env, "root": root, "state": state, "port": port, "tmp": tmp_path,
           "units": units, "vendor": vendor, "built": worker["built"]}
    pid_file = state / "flask-app.service.pid"
    if pid_file.exists():
        try:
            os.killpg(int(pid_file.read_text()), signal.SIGTERM)
        except ProcessLookupError:
            pass
    _clear(root, worker["built"])


def bundle(host, name: str, app_py: str, port: object = None) -> Path:
    """A bundle dir like the one ApmService ships; the unit runs the app as it does
    (ddtrace-run gunicorn from the current release), with tracing off."""
    current = host["root"] / "current"
    src = host["tmp"] / name
    src.mkdir()
    (src / "app.py").write_text(app_py)
    (src / "requirements.txt").write_text((APP / "requirements.txt").read_text())
    (src / "wheels.sha256").write_text((APP / "wheels.sha256").read_text())
    (src / "deploy.sh").write_text((APP / "deploy.sh").read_text())
    (src / "app.service").write_text(app_service.owner_line(STACK) + "\n" + textwrap.dedent(f"""\
        [Service]
        Environment="DD_SERVICE=flask-app"
        Environment="DD_TRACE_ENABLED=false"
        Environment="DD_INSTRUMENTATION_TELEMETRY_ENABLED=false"
        WorkingDirectory={current}
        ExecStart={current}/venv/bin/ddtrace-run {current}/venv/bin/gunicorn --bind 127.0.0.1:{host['port'] if port is None else port} --workers 2 --no-control-socket app:app
        Restart=on-failure
        """))
    return src


def deploy(host, *args, **env) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(APP / "deploy.sh"), *args], env={**host["env"], **env},
                          capture_output=True, text=True, timeout=300)


def interrupt_next_restart(host) -> None:
    """The next `systemctl restart` kills deploy.sh before it stops the old process."""
    (host["state"] / "kill-before-restart").touch()


def get(port: int, route: str = "/", timeout: float = 30) -> tuple[int, str]:
    """GET a route of the app on this port, waiting for it to listen."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{route}", timeout=5) as answer:
                return answer.status, answer.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def calls(host) -> list[str]:
    path = host["state"] / "calls"
    return path.read_text().splitlines() if path.exists() else []


def test_install_is_idempotent_and_a_broken_release_rolls_back(host):
    good = bundle(host, "good", (APP / "app.py").read_text())
    first = deploy(host, "install", str(good))
    assert first.returncode == 0, first.stderr[-3000:]
    assert "GET /api/apm -> 200" in first.stdout
    release = os.readlink(host["root"] / "current")
    assert (host["root"] / release / ".complete").exists()
    freeze = (host["root"] / release / "freeze.txt").read_text()
    assert freeze.count("ddtrace==4.16.0") == freeze.count("gunicorn==27.0.1") == 1
    wheel_set = host["root"] / "wheels" / wheels.load().id
    assert (wheel_set / ".complete").exists(), "the shipped set is kept under APP_ROOT/wheels/<set id>"
    assert not Path(host["env"]["APP_WHEELS"]).exists(), "the staged copy is deleted once unpacked"

    # Same content again, nothing staged: nothing rebuilt, nothing restarted.
    restarts = calls(host).count("restart flask-app.service")
    again = deploy(host, "install", str(good))
    assert again.returncode == 0, again.stderr[-3000:]
    assert "already built" in again.stderr and "not restarted" in again.stderr
    assert calls(host).count("restart flask-app.service") == restarts

    # A release whose /api/trace fails: the smoke test fails, the good one comes back.
    broken_app = (APP / "app.py").read_text().replace("return 'Posting Traces'",
                                                      "raise RuntimeError('boom')")
    # (10 s: the app answers within it, and the smoke test retries a 500 until its deadline)
    broken = deploy(host, "install", str(bundle(host, "broken", broken_app)), SMOKE_TIMEOUT="10")
    assert broken.returncode == 1
    assert f"GET /api/trace on http://127.0.0.1:{host['port']} answered '500'" in broken.stderr
    assert "RuntimeError: boom" in broken.stderr, "the app's log tail explains the failure"
    assert os.readlink(host["root"] / "current") == release, "the last good release is back"
    smoke = deploy(host, "smoke")
    assert smoke.returncode == 0 and "GET /api/trace -> 200" in smoke.stdout

    removed = deploy(host, "remove")
    assert removed.returncode == 0, removed.stderr
    assert not host["root"].exists()
    assert not (Path(host["env"]["UNIT_DIR"]) / "flask-app.service").exists()


# --- the wheel set: installed only from what the stack shipped, checked file by file ---------

def tampered(tar: Path) -> bytes:
    """The set's tar with one byte of flask's wheel changed."""
    members = {}
    with tarfile.open(tar) as archive:
        for member in archive.getmembers():
            members[member.name] = (archive.extractfile(member).read(), 0o644)
    name = next(n for n in members if n.startswith("flask-"))
    content = bytearray(members[name][0])
    content[-1] ^= 1
    members[name] = (bytes(content), 0o644)
    return tarball.build(members)


def test_install_refuses_a_wheel_set_whose_bytes_differ_from_the_manifest(host):
    staged = Path(host["env"]["APP_WHEELS"])
    staged.unlink()
    staged.write_bytes(tampered(wheels.ROOT / wheels.load().archive))
    done = deploy(host, "install", str(bundle(host, "good", APP_PY)))
    assert done.returncode == 1, "a set that is not the manifest's must not be installed"
    assert "flask-3.1.3-py3-none-any.whl: FAILED" in done.stderr, done.stderr
    assert "does not hold exactly the wheels of set" in done.stderr.splitlines()[-1]
    assert not (host["root"] / "releases").exists() or not any((host["root"] / "releases").iterdir())
    assert [p.name for p in (host["root"] / "wheels").iterdir()] == [], "nothing of the set kept"
    assert calls(host) == [], "nothing started"


def test_install_without_the_wheel_set_on_the_host_fails_in_one_line(host):
    Path(host["env"]["APP_WHEELS"]).unlink()
    done = deploy(host, "install", str(bundle(host, "good", APP_PY)))
    assert done.returncode == 1
    last = done.stderr.strip().splitlines()[-1]
    assert f"wheel set {wheels.load().id[:16]} is not on this host" in last, done.stderr
    assert "run the stack's up again" in last, "the line says what to do"
    assert calls(host) == [], "nothing started"


# A run killed after the unit swap or the symlink switch, before the restart, leaves the
# new files on disk and the old process running: the rerun must not trust the files.

def test_a_rerun_after_a_kill_before_the_restart_serves_the_new_release(host):
    v1 = bundle(host, "v1", APP_PY)
    with_built_release(host, v1)
    assert deploy(host, "install", str(v1)).returncode == 0
    v2 = bundle(host, "v2", APP_PY.replace("'Entrypoint to the Application'", "'Entrypoint v2'"))
    interrupt_next_restart(host)
    assert deploy(host, "install", str(v2)).returncode == -signal.SIGKILL
    assert get(host["port"]) == (200, "Entrypoint to the Application"), "the old process runs"

    rerun = deploy(host, "install", str(v2))
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert get(host["port"]) == (200, "Entrypoint v2")


def test_a_rerun_after_a_kill_before_the_restart_runs_the_new_unit(host):
    v1 = bundle(host, "v1", APP_PY)
    with_built_release(host, v1)
    assert deploy(host, "install", str(v1)).returncode == 0
    new_port = free_port()  # an apmPort change: only the unit differs
    moved = bundle(host, "moved", APP_PY, port=new_port)
    interrupt_next_restart(host)
    assert deploy(host, "install", str(moved), APP_PORT=str(new_port)).returncode == -signal.SIGKILL

    rerun = deploy(host, "install", str(moved), APP_PORT=str(new_port))
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert get(new_port) == (200, "Entrypoint to the Application")


def test_a_rerun_after_a_kill_before_the_restart_still_rolls_back_a_broken_unit(host):
    good = bundle(host, "good", APP_PY)
    with_built_release(host, good)
    assert deploy(host, "install", str(good)).returncode == 0
    broken = bundle(host, "broken", APP_PY, port="not-a-port")  # the app exits at start
    interrupt_next_restart(host)
    assert deploy(host, "install", str(broken)).returncode == -signal.SIGKILL

    rerun = deploy(host, "install", str(broken), SMOKE_TIMEOUT="10")
    assert rerun.returncode == 1, "the broken unit must fail its smoke test, not the old process"
    unit = Path(host["env"]["UNIT_DIR"]) / "flask-app.service"
    assert unit.read_text() == (good / "app.service").read_text(), "the last good unit is back"
    assert get(host["port"]) == (200, "Entrypoint to the Application")


# --- ownership: the stack changes and removes only what it created -----------------------
# An app named like something already on the host (another team's service, a package's
# unit, an /opt dir) must not replace or delete it (issue 18): deploy.sh checks the unit's
# first line and APP_ROOT's marker before it touches either. Each case: what the host has
# before, and the refusal's one line.

FOREIGN_UNIT = b"[Unit]\nDescription=someone else's service\n[Service]\nExecStart=/usr/bin/true\n"


def foreign_unit(host):
    (host["units"] / "flask-app.service").write_bytes(FOREIGN_UNIT)


def foreign_root(host):
    host["root"].mkdir(parents=True)
    (host["root"] / "bin").mkdir()
    (host["root"] / "bin" / "agent").write_bytes(b"#!/bin/sh\n")


def vendor_unit(host):
    (host["vendor"] / "flask-app.service").write_bytes(FOREIGN_UNIT)


def other_stacks_root(host):
    host["root"].mkdir(parents=True)
    (host["root"] / ".datadog-stack-owner").write_text("prod\n")


FOREIGN = [  # (case, what the host has before, the refusal's line names)
    ("a unit not created by the stack", foreign_unit,
     "flask-app.service exists and was not created by stack apm-test: refusing to overwrite it"),
    ("an app dir not created by the stack", foreign_root,
     "flask-app exists and was not created by stack apm-test"),
    ("an app dir of another stack", other_stacks_root,
     "flask-app exists and was not created by stack apm-test"),
    ("a package's unit of the same name", vendor_unit,
     "flask-app.service is already a unit of this host"),
]


def tree(path: Path) -> dict[str, bytes | None]:
    """Every path under `path` and its bytes (None for a directory)."""
    return {str(p.relative_to(path)): (None if p.is_dir() else p.read_bytes())
            for p in sorted(path.rglob("*"))}


@pytest.mark.parametrize("case,setup,line", FOREIGN, ids=[c[0] for c in FOREIGN])
def test_install_refuses_what_the_stack_did_not_create_in_one_line_and_changes_nothing(
        host, case, setup, line):
    setup(host)
    done = deploy(host, "install", str(bundle(host, "good", APP_PY)))
    assert done.returncode == 1, f"{case}: install must refuse"
    assert line in done.stderr and len(done.stderr.strip().splitlines()) == 1, \
        f"{case}: one line naming what is not the stack's: {done.stderr!r}"
    assert calls(host) == [], f"{case}: install ran systemctl before refusing"


@pytest.mark.parametrize("case,setup,line", FOREIGN, ids=[c[0] for c in FOREIGN])
def test_a_refused_install_leaves_the_existing_files_byte_for_byte(host, case, setup, line):
    setup(host)
    watched = [host["units"], host["vendor"], host["root"].parent]
    before = [tree(d) for d in watched]
    deploy(host, "install", str(bundle(host, "good", APP_PY)))
    assert [tree(d) for d in watched] == before, f"{case}: a refused install changed the host"


@pytest.mark.parametrize("case,setup,line", FOREIGN[:3], ids=[c[0] for c in FOREIGN[:3]])
def test_remove_keeps_what_the_stack_did_not_create(host, case, setup, line):
    setup(host)
    watched = [host["units"], host["root"].parent]
    before = [tree(d) for d in watched]
    done = deploy(host, "remove")
    assert done.returncode == 0, f"{case}: {done.stderr}"
    assert [tree(d) for d in watched] == before, f"{case}: remove deleted what the stack did not create"
    assert "kept " in done.stderr and "not created by stack apm-test" in done.stderr, done.stderr
    assert [c for c in calls(host) if c.startswith(("disable", "stop"))] == [], \
        f"{case}: remove stopped a service the stack did not create"


def test_install_creates_the_app_dir_with_the_stacks_marker_and_remove_deletes_it(host):
    installed = deploy(host, "install", str(bundle(host, "good", APP_PY)))
    assert installed.returncode == 0, installed.stderr[-3000:]
    assert (host["root"] / ".datadog-stack-owner").read_text() == "apm-test\n"
    assert (host["root"] / "deploy.sh").read_bytes() == (APP / "deploy.sh").read_bytes()
    removed = deploy(host, "remove")
    assert removed.returncode == 0, removed.stderr
    assert not host["root"].exists() and not (host["units"] / "flask-app.service").exists()
    assert [p.name for p in host["root"].parent.iterdir()] == [], "no temp dir left beside it"


def test_an_app_dir_from_before_the_marker_is_adopted_when_the_stacks_unit_runs_from_it(host):
    """Hosts deployed before issue 18 have the stack's unit and an app dir without a marker."""
    v1 = bundle(host, "v1", APP_PY)
    with_built_release(host, v1)
    assert deploy(host, "install", str(v1)).returncode == 0
    (host["root"] / ".datadog-stack-owner").unlink()  # the unit runs from root/current
    again = deploy(host, "install", str(bundle(host, "v1-again", APP_PY)))
    assert again.returncode == 0, again.stderr[-3000:]
    assert (host["root"] / ".datadog-stack-owner").read_text() == "apm-test\n"
