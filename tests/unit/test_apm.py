"""Issue 4: the Flask app's unit and its host-side deploy (the dashboard: test_apm_dashboard.py).

The unit and the shell commands are pure functions, tested as text (and the install
command is run for real against a stand-in deploy script). The components are built
under Pulumi mocks with a recording monitor (tools/mock_engine.py), so parent, dependencies and
replace options are checked as the engine would receive them.
"""
from __future__ import annotations

import base64
import io
import os
import re
import subprocess
import tarfile
from pathlib import Path

import pulumi
import pulumi_datadog  # noqa: F401  (slow import, once per module)
import pytest

import program
from agent_files import app_service, tarball, wheels
from components import apm_service, ssh
from components.apm_service import ApmService, ApmServiceArgs
from domain import AgentSettings, Apm, Database, Host, OfficeHours, Secrets, Settings, Thresholds
from tools import mock_engine
from tools.mock_engine import is_secret, plain

pytestmark = pytest.mark.unit

SSH_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\ntest-key\n-----END OPENSSH PRIVATE KEY-----\n"
APP_DIR = Path(__file__).resolve().parents[2] / "app"
ROOT_HOST = Host(name="vm1", address="192.0.2.10", ssh_port=22, ssh_user="root")


VM1 = Host(name="vm1", address="192.0.2.10", ssh_port=2222, ssh_user="vagrant")


def make_settings(hosts=None, service="flask-app", version="1.0.0", port=5050, env="dev",
                  site="datadoghq.com", bind="127.0.0.1") -> Settings:
    hosts = hosts or (Host(name="vm1", address="192.0.2.10", ssh_port=2222, ssh_user="vagrant"),)
    return Settings(
        agent=AgentSettings(
            stack="dev", env=env, site=site, host_tags=("role:database",),
            database=Database(kind="postgres", host="localhost", port=5432, name="postgres"),
            check_interval=45, logs_enabled=False, install_agent=False),
        hosts=tuple(hosts), thresholds=Thresholds(500, 800, 200, 650), no_data_minutes=10,
        notify="@ops@example.com", timezone="UTC",
        office_hours=OfficeHours(start_minutes=9 * 60, end_minutes=19 * 60),
        apm=Apm(service=service, version=version, port=port, bind_address=bind),
        secrets=Secrets(api_key=pulumi.Output.secret("api-key"),
                        database_password=pulumi.Output.secret("db-pass"),
                        ssh_private_key=pulumi.Output.secret(SSH_KEY)),
    )


def make_args(host=VM1, service="flask-app", version="1.0.0", port=5050, env="dev",
              bind="127.0.0.1") -> ApmServiceArgs:
    return ApmServiceArgs(host=ssh.Host.of(host), stack="dev", env=env,
                          apm=Apm(service=service, version=version, port=port, bind_address=bind),
                          ssh_private_key=pulumi.Output.secret(SSH_KEY))


def unit_env(unit: str) -> dict[str, str]:
    pairs = re.findall(r'^Environment="([^=]+)=(.*)"$', unit, re.M)
    return dict(pairs)


def unit_directive(unit: str, key: str) -> str:
    match = re.search(rf"^{key}=(.*)$", unit, re.M)
    assert match, f"{key}= missing from the unit:\n{unit}"
    return match.group(1)


def unpack(stdin: str) -> dict[str, str]:
    with tarfile.open(fileobj=io.BytesIO(base64.b64decode(stdin)), mode="r:") as tar:
        return {m.name: tar.extractfile(m).read().decode() for m in tar.getmembers()}


# --- the systemd unit ------------------------------------------------------------------

def test_unit_runs_gunicorn_under_ddtrace_run_from_the_current_release():
    unit = app_service.render_unit(make_args(port=6060))
    assert unit_directive(unit, "ExecStart") == (
        "/opt/flask-app/current/venv/bin/ddtrace-run /opt/flask-app/current/venv/bin/gunicorn "
        "--bind 127.0.0.1:6060 --workers 2 --no-control-socket app:app")
    assert unit_directive(unit, "WorkingDirectory") == "/opt/flask-app/current", \
        "gunicorn imports app:app from its working directory"


@pytest.mark.parametrize("address, bind", [("0.0.0.0", "0.0.0.0:5050"), ("::", "[::]:5050"),
                                           ("10.1.2.3", "10.1.2.3:5050")])
def test_unit_binds_gunicorn_to_the_configured_address(address, bind):
    exec_start = unit_directive(app_service.render_unit(make_args(bind=address)), "ExecStart")
    assert f"--bind {bind} " in exec_start


def test_unit_sets_unified_service_tags_log_injection_and_agent_url():
    env = unit_env(app_service.render_unit(make_args(version="2.3.4", port=6060, env="qa")))
    assert env == {
        "DD_SERVICE": "flask-app", "DD_ENV": "qa", "DD_VERSION": "2.3.4",
        "DD_LOGS_INJECTION": "true", "DD_TRACE_AGENT_URL": "http://localhost:8126",
        "PYTHONUNBUFFERED": "1",
    }


@pytest.mark.parametrize("address, local", [("127.0.0.1", "127.0.0.1"), ("0.0.0.0", "127.0.0.1"),
                                            ("::", "::1"), ("10.1.2.3", "10.1.2.3")])
def test_smoke_test_calls_the_app_where_it_listens_on_its_host(address, local):
    assert f"APP_HOST={local} " in apm_service.smoke_command(make_args(bind=address), ROOT_HOST)


@pytest.mark.parametrize("address, host_address, url", [
    ("127.0.0.1", "192.0.2.10", "http://127.0.0.1:5050/"),
    ("0.0.0.0", "192.0.2.10", "http://192.0.2.10:5050/"),
    ("::", "192.0.2.10", "http://192.0.2.10:5050/"),
    ("fd00::5", "192.0.2.10", "http://[fd00::5]:5050/"),
    ("::", "fd00::10", "http://[fd00::10]:5050/"),
    ("0.0.0.0", "vm1.example.com", "http://vm1.example.com:5050/"),
])
def test_app_url_is_where_the_app_listens(address, host_address, url):
    assert app_service.app_url(make_args(bind=address), host_address) == url, \
        "the URL must open in a browser: an IPv6 host in brackets"


def test_unit_restarts_the_app_when_it_fails():
    unit = app_service.render_unit(make_args())
    assert unit_directive(unit, "Restart") == "on-failure"
    assert int(unit_directive(unit, "RestartSec")) > 0


def test_unit_is_enabled_at_boot_and_starts_after_the_agent_and_its_trace_agent():
    unit = app_service.render_unit(make_args())
    assert unit_directive(unit, "WantedBy") == "multi-user.target"
    assert {"datadog-agent.service", "datadog-agent-trace.service"} <= \
        set(unit_directive(unit, "After").split())


def test_unit_escapes_quotes_backslashes_and_percent_for_systemd():
    unit = app_service.render_unit(make_args(version='1.0 "rc" 50%\\x'))
    assert 'Environment="DD_VERSION=1.0 \\"rc\\" 50%%\\\\x"' in unit.splitlines()


def test_unit_rejects_a_version_with_a_newline():
    with pytest.raises(ValueError, match="DD_VERSION"):
        app_service.render_unit(make_args(version="1.0\nExecStartPre=/bin/evil"))


def test_args_built_from_the_stack_settings_render_the_same_unit():
    settings = make_settings(version="2.0.0", port=6060, env="qa")
    args = program.apm_service_args(settings, VM1)
    assert (args.host, args.apm) == (ssh.Host.of(VM1), settings.apm)
    assert app_service.render_unit(args) == app_service.render_unit(settings)


# --- the bundle and the shell commands ----------------------------------------------------

def test_bundle_holds_the_app_files_and_the_rendered_unit():
    settings = make_args()
    files = app_service.bundle_files(settings)
    assert files == {
        "app.py": (APP_DIR / "app.py").read_text(),
        "requirements.txt": (APP_DIR / "requirements.txt").read_text(),
        "wheels.sha256": (APP_DIR / "wheels.sha256").read_text(),
        "deploy.sh": (APP_DIR / "deploy.sh").read_text(),
        "app.service": app_service.render_unit(settings),
    }


def test_bundle_ships_deploy_sh_as_the_only_executable_all_root_only():
    members = app_service.bundle_members(make_args())
    modes = {name: mode for name, (_, mode) in members.items()}
    assert modes == {"app.py": 0o600, "app.service": 0o600, "deploy.sh": 0o700,
                     "requirements.txt": 0o600, "wheels.sha256": 0o600}


def test_the_units_first_line_names_the_stack_that_owns_it():
    """deploy.sh overwrites or removes a unit only when its first line is this one."""
    first = app_service.render_unit(make_args()).splitlines()[0]
    assert first == app_service.owner_line("dev") and "(stack dev)" in first, \
        "the unit must start with the line naming its stack, or deploy.sh refuses it"


def test_install_stdin_is_the_bundle_from_the_one_tar_builder():
    settings = make_args()
    files = unpack(tarball.stdin(tarball.build(app_service.bundle_members(settings))))
    assert files == app_service.bundle_files(settings)


def test_content_hashes_change_only_with_the_content():
    files = {"app.py": "a", "requirements.txt": "b"}
    same = app_service.content_hashes(dict(files))
    changed = app_service.content_hashes({**files, "app.py": "a2"})
    assert app_service.content_hashes(files) == same
    assert changed["app.py"] != same["app.py"] and changed["requirements.txt"] == same["requirements.txt"]


def test_install_command_unpacks_stdin_and_runs_deploy_install(tmp_path):
    # A stand-in deploy.sh reports what it was given; the real command runs under bash.
    probe = ('echo "$1|$APP_NAME|$APP_ROOT|$APP_STACK|$APP_PORT|$APP_HOST|$(cd "$2" && ls | tr "\\n" " ")"\n'
             f'cp -r "$2" {tmp_path}/seen\n')
    stdin = tarball.stdin(tarball.build({
        "deploy.sh": (probe.encode(), 0o700), "app.py": (b"x", 0o600),
        "app.service": (b"u", 0o600), "requirements.txt": (b"r", 0o600)}))
    command = apm_service.install_command(make_args(port=6060), ROOT_HOST)
    done = subprocess.run(["bash", "-c", command], input=stdin, capture_output=True, text=True,
                          env={**os.environ, "PATH": os.environ["PATH"]}, timeout=30)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ("install|flask-app|/opt/flask-app|dev|6060|127.0.0.1|"
                                   "app.py app.service deploy.sh requirements.txt")
    assert (tmp_path / "seen" / "app.service").read_text() == "u"


@pytest.mark.parametrize("build", [apm_service.install_command, apm_service.smoke_command,
                                   apm_service.remove_command])
def test_app_commands_run_as_root_through_sudo_for_a_non_root_user(build):
    settings = make_args()
    assert build(settings, settings.host).startswith("sudo -n "), \
        "vagrant needs sudo to manage a systemd unit"
    assert "sudo" not in build(settings, ROOT_HOST), "root needs no sudo"


def test_preflight_reports_a_user_without_passwordless_sudo_in_words(tmp_path):
    # sudo(8) -n: "If a password is required for the command to run, sudo will display an
    # error message and exit" (status 1): a stand-in sudo that does exactly that.
    (tmp_path / "sudo").write_text('#!/bin/sh\necho "sudo: a password is required" >&2; exit 1\n')
    (tmp_path / "sudo").chmod(0o755)
    settings = make_args()
    command = apm_service.preflight_command(settings, settings.host)
    done = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=30,
                          env={**os.environ, "PATH": f"{tmp_path}:{os.environ['PATH']}"})
    assert (done.returncode, done.stderr.splitlines()[-1]) == (
        1, "the SSH user needs root or passwordless sudo"), \
        "the preflight names what the host lacks in words, before anything is installed"


def test_deploy_script_checks_every_route_of_the_app():
    script = (APP_DIR / "deploy.sh").read_text()
    routes = re.search(r"^readonly ROUTES=\((.*)\)$", script, re.M).group(1).split()
    assert routes == list(app_service.ROUTES) == ["/", "/api/apm", "/api/trace"]


# --- the components under mocks -----------------------------------------------------------

@pytest.fixture
def engine():
    mocks = mock_engine.Mocks(
        outputs={"command:remote:Command": {"stdout": "GET / -> 200", "stderr": ""}})
    return mocks, mock_engine.start(mocks, stack="dev", preview=False)


def build(make):
    """Run `make()` in a Pulumi program and wait for the registrations; return its result."""
    built = {}

    def program():
        built["component"] = make()

    mock_engine.run(program)
    return built["component"]


def resolve(output):
    return mock_engine.run(lambda: output)


def test_connection_uses_the_host_address_port_user_and_the_secret_key(engine):
    mocks, _ = engine
    settings = make_args()
    build(lambda: ApmService("apm-vm1", settings))
    conn = plain(mocks.inputs["apm-vm1-install"]["connection"])
    assert (conn["host"], conn["port"], conn["user"]) == ("192.0.2.10", 2222, "vagrant")
    assert conn["privateKey"] == SSH_KEY


def test_ssh_private_key_is_secret_and_only_in_the_connection(engine):
    mocks, _ = engine
    settings = make_args()
    build(lambda: ApmService("apm-vm1", settings))
    for name in ("apm-vm1-teardown", "apm-vm1-install", "apm-vm1-smoke"):
        inputs = mocks.inputs[name]
        assert is_secret(inputs["connection"]), f"{name}: the connection must stay secret"
        others = {k: v for k, v in inputs.items() if k != "connection"}
        assert "test-key" not in repr(others), f"{name}: the key leaked outside the connection"


def test_install_triggers_are_the_sha256_of_every_bundled_file(engine):
    mocks, _ = engine
    settings = make_args()
    build(lambda: ApmService("apm-vm1", settings))
    hashes = app_service.content_hashes(app_service.bundle_files(settings))
    expected = [f"{name}:sha256:{digest}" for name, digest in hashes.items()]
    assert mocks.inputs["apm-vm1-install"]["triggers"] == expected
    assert sorted(hashes) == ["app.py", "app.service", "deploy.sh", "requirements.txt",
                              "wheels.sha256"]


def test_install_sends_the_bundle_on_stdin_and_runs_the_install_command(engine):
    mocks, _ = engine
    settings = make_args()
    build(lambda: ApmService("apm-vm1", settings))
    install = mocks.inputs["apm-vm1-install"]
    assert unpack(install["stdin"]) == app_service.bundle_files(settings)
    assert install["create"] == apm_service.install_command(settings, settings.host)


def test_a_port_change_reaches_the_unit_and_so_the_triggers(engine):
    mocks, _ = engine
    first, second = make_args(port=5050), make_args(port=5051)
    build(lambda: ApmService("a", first))
    build(lambda: ApmService("b", second))
    assert mocks.inputs["a-install"]["triggers"] != mocks.inputs["b-install"]["triggers"]


def test_smoke_test_runs_after_the_install_with_the_same_triggers(engine):
    mocks, monitor = engine
    settings = make_args()
    build(lambda: ApmService("apm-vm1", settings))
    install_urn = monitor.urns["apm-vm1-install"]
    smoke = monitor.requests["apm-vm1-smoke"]
    assert install_urn in smoke.dependencies, "the smoke test must wait for the install"
    assert mocks.inputs["apm-vm1-smoke"]["triggers"] == mocks.inputs["apm-vm1-install"]["triggers"]
    assert "deploy.sh smoke" in mocks.inputs["apm-vm1-smoke"]["create"]


def test_teardown_has_the_delete_step_that_removes_the_app(engine):
    mocks, _ = engine
    settings = make_args()
    build(lambda: ApmService("apm-vm1", settings))
    assert mocks.inputs["apm-vm1-teardown"]["delete"] == apm_service.remove_command(settings, settings.host)


def test_install_has_no_delete_step_since_a_trigger_change_replaces_it(engine):
    mocks, monitor = engine
    settings = make_args()
    build(lambda: ApmService("apm-vm1", settings))
    # pulumi-command replaces a Command when its triggers change: a delete step here
    # would remove the app right after every new release was installed.
    assert "triggers[*]" in monitor.requests["apm-vm1-install"].replaceOnChanges
    assert "delete" not in mocks.inputs["apm-vm1-install"]


def test_install_waits_for_the_teardown_so_destroy_removes_the_app_last(engine):
    _, monitor = engine
    settings = make_args()
    build(lambda: ApmService("apm-vm1", settings))
    assert monitor.urns["apm-vm1-teardown"] in monitor.requests["apm-vm1-install"].dependencies


def test_an_edited_teardown_script_is_an_update_not_a_replacement(engine):
    _, monitor = engine
    settings = make_args()
    build(lambda: ApmService("apm-vm1", settings))
    # Replacing the teardown runs its old delete step: the app would be removed while
    # install and smoke (triggers unchanged) do not run again.
    assert list(monitor.requests["apm-vm1-teardown"].replaceOnChanges) == ["triggers[*]"], \
        "only the SDK's triggers may replace the teardown, not its create/delete scripts"


def test_teardown_is_replaced_only_by_changes_that_also_reinstall_the_app(engine):
    mocks, _ = engine
    variants = {"base": make_args(), "port": make_args(port=6060),
                "version": make_args(version="2.0.0"), "env": make_args(env="qa"),
                "service": make_args(service="shop")}
    build(lambda: [ApmService(key, s) for key, s in variants.items()])
    base = mocks.inputs["base-teardown"]["triggers"]
    renamed = [key for key in variants if mocks.inputs[f"{key}-teardown"]["triggers"] != base]
    assert renamed == ["service"], "only another unit/dir name replaces the teardown"
    assert mocks.inputs["service-install"]["triggers"] != mocks.inputs["base-install"]["triggers"], \
        "a replaced teardown removes the app: the install must run again after it"


def test_a_new_service_name_removes_the_old_app_before_installing(engine):
    _, monitor = engine
    settings = make_args()
    build(lambda: ApmService("apm-vm1", settings))
    # create-before-delete would leave the old unit on the port until the end of the update
    assert monitor.requests["apm-vm1-teardown"].deleteBeforeReplace


def test_the_app_waits_for_the_resources_given_in_depends_on(engine):
    _, monitor = engine
    settings = make_args()

    def with_agent():
        agent = pulumi.CustomResource("test:index:AgentInstall", "agent-install")
        return ApmService("apm-vm1", settings, pulumi.ResourceOptions(depends_on=[agent]))

    build(with_agent)
    assert monitor.urns["agent-install"] in monitor.requests["apm-vm1-teardown"].dependencies, \
        "the app's first command must wait for the Agent's install (dpkg lock, trace agent)"


# --- the wheel set: copied once per set, after the preflight, before the install -----------

def test_the_wheel_set_is_copied_after_the_preflight_and_before_the_install(engine):
    _, monitor = engine
    build(lambda: ApmService("apm-vm1", make_args()))
    copy = monitor.requests["apm-vm1-wheels"]
    assert copy.type == "command:remote:CopyToRemote"
    assert monitor.urns["apm-vm1-teardown"] in copy.dependencies, \
        "a host that fails the preflight (platform) must receive nothing"
    assert monitor.urns["apm-vm1-wheels"] in monitor.requests["apm-vm1-install"].dependencies, \
        "the install needs the set on the host"


def test_the_wheel_copy_is_keyed_on_the_set_so_an_unchanged_set_is_not_sent_again(engine):
    mocks, _ = engine
    settings = make_args()
    build(lambda: [ApmService("a", settings), ApmService("b", settings)])
    wheel_set = wheels.load()
    copy, again = ({**mocks.inputs[f"{n}-wheels"], "source": mocks.inputs[f"{n}-wheels"]["source"].path}
                   for n in ("a", "b"))
    assert copy["triggers"] == [f"wheels:sha256:{wheel_set.id}"]
    assert copy == again, "same pins, same inputs: a second up changes nothing"
    assert copy["source"] == str(wheel_set.archive) and not Path(wheel_set.archive).is_absolute(), \
        "the asset's path is the project-relative cache, the same on every checkout"
    assert copy["remotePath"] == app_service.staged_wheels(settings, wheel_set.id)


def test_install_and_teardown_tell_deploy_sh_where_the_set_is_staged(engine):
    mocks, _ = engine
    settings = make_args()
    build(lambda: ApmService("apm-vm1", settings))
    staged = f"APP_WHEELS={app_service.staged_wheels(settings, wheels.load().id)}"
    assert staged in mocks.inputs["apm-vm1-install"]["create"]
    assert staged in mocks.inputs["apm-vm1-teardown"]["delete"], \
        "destroy deletes a staged copy that was never unpacked"


def test_destroy_deletes_a_staged_wheel_set_even_where_no_app_dir_of_the_stack_is(tmp_path):
    """An install refused on a host (another team's app dir) never unpacks, so never deletes,
    the copied set: the teardown's delete step does."""
    staged = tmp_path / "flask-app-wheels.tar"
    staged.write_bytes(b"tar")
    command = apm_service.remove_command(make_args(host=ROOT_HOST), ROOT_HOST)
    command = command.replace(app_service.staged_wheels(make_args(), wheels.load().id), str(staged))
    command = command.replace("APP_ROOT=/opt/flask-app", f"APP_ROOT={tmp_path}/opt/flask-app")
    done = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    assert not staged.exists(), "destroy must remove the copy the stack made"
    assert "nothing removed" in done.stderr, "and still touch no app dir that is not the stack's"


PREFLIGHT_CASES = [  # (case, target that differs from this machine, what the line names)
    ("another Python", lambda t: wheels.Target("3.99", t.glibc, t.arch), "CPython 3.99"),
    ("a newer glibc", lambda t: wheels.Target(t.python, "9.0", t.arch), "glibc >= 9.0"),
    ("another arch", lambda t: wheels.Target(t.python, t.glibc, "riscv64"), "Linux riscv64"),
]


def _this_machine() -> wheels.Target:
    import platform, sys
    return wheels.Target("%d.%d" % sys.version_info[:2], platform.libc_ver()[1], platform.machine())


@pytest.mark.parametrize("case,target,names", PREFLIGHT_CASES, ids=[c[0] for c in PREFLIGHT_CASES])
def test_preflight_stops_a_host_the_wheels_do_not_fit_in_one_line(case, target, names):
    mine = _this_machine()
    command = apm_service.preflight_command(make_args(host=ROOT_HOST), ROOT_HOST, target(mine))
    done = subprocess.run(["sh", "-c", command], capture_output=True, text=True, timeout=30,
                          env={**os.environ, "PATH": f"/usr/bin:/bin:{os.environ['PATH']}"})
    assert done.returncode == 1, f"{case}: the preflight must fail"
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and names in lines[0] and f"this host runs CPython {mine.python}" in lines[0], \
        f"{case}: one line naming the host's platform and the wheels': {done.stderr!r}"


def test_preflight_passes_the_wheel_check_on_a_matching_host():
    mine = _this_machine()
    command = apm_service.preflight_command(make_args(host=ROOT_HOST), ROOT_HOST, mine)
    done = subprocess.run(["sh", "-c", command], capture_output=True, text=True, timeout=30,
                          env={**os.environ, "PATH": f"/usr/bin:/bin:{os.environ['PATH']}"})
    assert "wheels are for" not in done.stderr, done.stderr


def test_commands_are_children_of_the_component(engine):
    _, monitor = engine
    settings = make_args()
    build(lambda: ApmService("apm-vm1", settings))
    assert monitor.requests["apm-vm1"].type == "datadog-stack:index:ApmService"
    for child in ("apm-vm1-teardown", "apm-vm1-wheels", "apm-vm1-install", "apm-vm1-smoke"):
        assert monitor.requests[child].parent == monitor.urns["apm-vm1"], child


def test_each_host_gets_its_own_commands_and_connection(engine):
    mocks, _ = engine
    hosts = (Host("vm1", "192.0.2.10", 22, "root"), Host("vm2", "192.0.2.11", 22, "root"))

    def both():
        for host in hosts:
            ApmService(f"apm-{host.name}", make_args(host=host))

    build(both)
    assert plain(mocks.inputs["apm-vm1-install"]["connection"])["host"] == "192.0.2.10"
    assert plain(mocks.inputs["apm-vm2-install"]["connection"])["host"] == "192.0.2.11"


def test_service_url_names_the_host_and_port_when_listening_everywhere(engine):
    settings = make_args(port=6060, bind="0.0.0.0")
    service = build(lambda: ApmService("apm-vm1", settings))
    assert resolve(service.url) == "http://192.0.2.10:6060/"


def test_the_component_registers_the_apps_url_and_the_smoke_tests_answer(engine):
    _, monitor = engine
    build(lambda: ApmService("apm-vm1", make_args(bind="0.0.0.0")))
    outputs = monitor.outputs[monitor.urns["apm-vm1"]]
    assert outputs == {"url": "http://192.0.2.10:5050/", "smoke": "GET / -> 200"}, \
        "`pulumi stack output` shows where the app answers and what its routes answered"
