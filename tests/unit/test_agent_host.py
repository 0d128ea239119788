"""Specification of AgentHost (components/agent_host.py) under Pulumi mocks.

tools/mock_engine's monitor records each RegisterResource request as the engine would
receive it: the raw protobuf properties (so secret-ness is visible as the SDK's secret
signature), the parent and the dependencies.
"""
from __future__ import annotations

import base64
import hashlib
import io
import os
import shlex
import subprocess
import shutil
import tarfile
from dataclasses import replace
from pathlib import Path

import pulumi
import pytest

import program
from agent_files import render
from components import ssh
from components.agent_host import (REMOVE_BUNDLE_SH, AgentHost, AgentHostArgs, copy_command,
                                   remove_command)
from domain import AgentSettings, Database, Host
from tools import mock_engine
from tools.mock_engine import RecordingMonitor, is_secret, plain

pytestmark = pytest.mark.unit

API_KEY = "canary-api-key-0123456789abcdef"
PASSWORD = "canary-pw-O'Brien"
SSH_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\ncanary-ssh\n-----END OPENSSH PRIVATE KEY-----\n"
COMMAND = "command:remote:Command"


@pytest.fixture
def monitor() -> RecordingMonitor:
    mocks = mock_engine.Mocks(outputs={COMMAND: {"stdout": "my_metric check ok", "stderr": ""}})
    return mock_engine.start(mocks, stack="dev", preview=False)


AGENT = AgentSettings(
    stack="dev", env="dev", site="datadoghq.com", host_tags=("role:database",),
    database=Database(kind="postgres", host="localhost", port=5432, name="postgres"),
    check_interval=45, logs_enabled=False, install_agent=False)


def make_args(host: Host, **overrides) -> AgentHostArgs:
    """AgentHostArgs for `host`; `overrides` replace the Agent's settings (check_interval=30)."""
    return AgentHostArgs(
        host=ssh.Host.of(host), agent=replace(AGENT, **overrides),
        api_key=pulumi.Output.secret(API_KEY), database_password=pulumi.Output.secret(PASSWORD),
        ssh_private_key=pulumi.Output.secret(SSH_KEY),
    )


def deploy(monitor: RecordingMonitor, user: str = "vagrant", **overrides) -> RecordingMonitor:
    host = Host(name="vm1", address="192.0.2.10", ssh_port=2222, ssh_user=user)
    mock_engine.run(lambda: AgentHost("vm1", make_args(host, **overrides)).check_result)
    return monitor


def test_one_component_with_its_remote_commands_parented_to_it(monitor):
    registered = deploy(monitor)
    assert registered.requests["vm1"].type == "datadog-stack:index:AgentHost"
    commands = {n: r for n, r in registered.requests.items() if r.type == COMMAND}
    assert set(commands) == {"vm1-teardown", "vm1-bundle", "vm1-install"}
    for request in commands.values():
        assert request.parent == registered.urns["vm1"], "commands are children of AgentHost"


def test_commands_connect_to_the_host_with_the_ssh_key_as_a_secret(monitor):
    registered = deploy(monitor)
    for name in ("vm1-teardown", "vm1-bundle", "vm1-install"):
        raw = registered.raw(name)["connection"]
        connection = plain(raw)
        assert (connection["host"], connection["port"], connection["user"]) == \
            ("192.0.2.10", 2222, "vagrant")
        key = connection["privateKey"]
        assert is_secret(key) or is_secret(raw), "the SSH private key must reach state encrypted"
        assert plain(key) == SSH_KEY


def test_a_booting_vm_is_dialled_again_for_a_bounded_time(monitor):
    registered = deploy(monitor)
    connection = plain(registered.raw("vm1-install")["connection"])
    assert (connection["dialErrorLimit"], connection["perDialTimeout"]) == (10, 15), \
        "a VM still booting refuses SSH for a while: 10 dials of up to 15 s, then the step fails"


@pytest.mark.parametrize("given", [{}, {"private_key": SSH_KEY, "agent_socket": "/run/agent.sock"}],
                         ids=["neither", "both"])
def test_a_connection_takes_exactly_one_way_to_log_in(given):
    host = ssh.Host.of(Host(name="vm1", address="192.0.2.10", ssh_port=22, ssh_user="root"))
    with pytest.raises(ValueError) as error:
        ssh.connection(host, **given)
    assert str(error.value) == "an SSH connection needs exactly one of a private key and an agent socket"


def test_install_runs_after_the_bundle_copy(monitor):
    registered = deploy(monitor)
    assert registered.urns["vm1-bundle"] in registered.requests["vm1-install"].dependencies, \
        "install.sh reads the bundle the copy command unpacked"


def test_bundle_travels_as_secret_stdin_and_unpacks_to_the_rendered_files(monitor):
    registered = deploy(monitor)
    stdin = registered.raw("vm1-bundle")["stdin"]
    assert is_secret(stdin), "the bundle holds the API key and DB password: stdin must be secret"
    assert "stdin" in registered.requests["vm1-bundle"].additionalSecretOutputs
    archive = base64.b64decode(plain(stdin))
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:") as tar:  # an uncompressed tar
        datadog_yaml = tar.extractfile("files" + render.DATADOG_YAML).read()
    assert f"api_key: {API_KEY}".encode() in datadog_yaml


def test_copy_runs_with_sudo_for_a_non_root_user(monitor):
    raw = deploy(monitor).raw("vm1-bundle")
    assert raw["create"].startswith("sudo -n sh -c "), "vagrant needs sudo to write as root"


def test_root_user_runs_the_commands_without_sudo(monitor):
    raw = deploy(monitor, user="root").raw("vm1-install")
    assert raw["create"] == f"bash {render.BUNDLE_DIR}/install.sh install {render.BUNDLE_DIR}"


def test_content_driven_commands_have_no_delete_step(monitor):
    registered = deploy(monitor)
    for name in ("vm1-bundle", "vm1-install"):
        assert "delete" not in registered.raw(name), (
            "pulumi-command replaces a command whose triggers change, creating the new one "
            "before deleting the old: a delete step here would undo the fresh install")


def test_teardown_removes_the_installed_files_and_the_bundle_on_destroy(monitor):
    raw = deploy(monitor).raw("vm1-teardown")
    assert shlex.split(raw["delete"]) == [
        "sudo", "-n", "sh", "-c", REMOVE_BUNDLE_SH.read_text(), "remove_bundle.sh",
        render.BUNDLE_DIR, render.BUNDLES_DIR, render.STACK_DIR], \
        "destroy runs remove_bundle.sh (install.sh remove, then the bundle) on the stack's paths"
    assert "triggers" not in raw, "teardown's inputs never follow the content, so it is never replaced"


def test_bundle_copy_waits_for_the_remove_command(monitor):
    registered = deploy(monitor)
    assert registered.urns["vm1-teardown"] in registered.requests["vm1-bundle"].dependencies, \
        "destroy deletes in reverse order: teardown must run after the others are gone"


def test_install_triggers_are_content_hashes_with_secret_files_hashed_secretly(monitor):
    raw = deploy(monitor).raw("vm1-install")["triggers"]
    triggers = plain(raw)
    hashes = triggers[0]
    check_hash = hashlib.sha256(render.check_source()).hexdigest()
    assert hashes[render.CHECK_PY] == check_hash, "the check file's hash is its sha256"
    assert hashes["install.sh"] == hashlib.sha256(render.install_script()).hexdigest()
    for path in (render.DATADOG_YAML, render.DB_CONF["postgres"], "database.sql", "bundle"):
        assert is_secret(hashes[path]) or is_secret(raw), \
            f"the hash of {path} derives from a secret and must be secret"
    assert len(plain(hashes[render.DATADOG_YAML])) == 64


def test_copy_triggers_on_the_bundle_hash(monitor):
    registered = deploy(monitor)
    copy_trigger = plain(plain(registered.raw("vm1-bundle")["triggers"])[0])
    install_hashes = plain(plain(registered.raw("vm1-install")["triggers"])[0])
    assert len(copy_trigger) == 64 and copy_trigger == plain(install_hashes["bundle"]), \
        "the copy reruns exactly when the bundle's bytes change"


def test_a_changed_interval_changes_the_triggers(monitor):
    first = plain(plain(deploy(monitor).raw("vm1-install")["triggers"])[0])
    second = plain(plain(deploy(monitor, check_interval=30)
                         .raw("vm1-install")["triggers"])[0])
    assert first[render.CHECK_YAML] != second[render.CHECK_YAML], \
        "a new min_collection_interval must rerun install.sh"
    assert first[render.CHECK_PY] == second[render.CHECK_PY], "the Python file is untouched"


def test_unchanged_inputs_give_identical_command_inputs(monitor):
    first = deploy(monitor)
    names = ("vm1-teardown", "vm1-bundle", "vm1-install")
    snapshot = {n: first.raw(n) for n in names}
    second = deploy(monitor)
    assert snapshot == {n: second.raw(n) for n in names}, \
        "identical inputs mean no diff, so an unchanged `pulumi up` opens no SSH session"


def test_component_outputs_files_hashes_and_the_verified_check_result(monitor):
    registered = deploy(monitor)
    outputs = registered.outputs[registered.urns["vm1"]]
    assert outputs["files"] == sorted([render.DATADOG_YAML, render.CHECK_PY, render.CHECK_YAML,
                                       render.DB_CONF["postgres"]])
    assert is_secret(outputs["fileHashes"][render.DATADOG_YAML]), \
        "the hash of a secret-bearing file is a secret output"
    assert outputs["fileHashes"][render.CHECK_PY] == hashlib.sha256(render.check_source()).hexdigest()
    assert plain(outputs["checkResult"]) == "my_metric check ok", \
        "checkResult is the installer's stdout: the verified `datadog-agent check my_metric`"


# --- the rendered shell commands, executed for real under a throwaway root ----------------
# `root` prefixes every path, as DD_STACK_ROOT does for install.sh; a root host needs no sudo.

ROOT_HOST = Host(name="vm1", address="192.0.2.10", ssh_port=22, ssh_user="root")


def bundle_bytes(**overrides) -> bytes:
    return render.build_bundle(make_args(ROOT_HOST, **overrides).agent, ROOT_HOST, API_KEY, PASSWORD)


def run_command(command: str, stdin: bytes = b"", path_prefix: Path | None = None):
    env = dict(os.environ)
    if path_prefix:
        env["PATH"] = f"{path_prefix}:{env['PATH']}"
    return subprocess.run(["bash", "-c", command], input=stdin, capture_output=True, env=env,
                          timeout=60)


def copy(tmp_path: Path, bundle: bytes, path_prefix: Path | None = None):
    return run_command(copy_command(ROOT_HOST, root=str(tmp_path)), base64.b64encode(bundle),
                       path_prefix)


def bundle_link(tmp_path: Path) -> Path:
    return tmp_path / render.BUNDLE_DIR.lstrip("/")


def unpacked(directory: Path) -> dict[str, bytes]:
    return {str(p.relative_to(directory)): p.read_bytes()
            for p in sorted(directory.rglob("*")) if p.is_file()}


def tar_files(bundle: bytes) -> dict[str, bytes]:
    with tarfile.open(fileobj=io.BytesIO(bundle), mode="r:") as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}


def test_copy_unpacks_the_bundle_into_its_version_and_links_it(tmp_path):
    bundle = bundle_bytes()
    result = copy(tmp_path, bundle)
    assert result.returncode == 0, result.stderr
    link = bundle_link(tmp_path)
    assert link.is_symlink() and os.readlink(link) == f"bundles/{hashlib.sha256(bundle).hexdigest()}", \
        "BUNDLE_DIR points at BUNDLES_DIR/<sha256 of the tar>"
    assert unpacked(link) == tar_files(bundle)
    assert (link / "install.sh").stat().st_mode & 0o777 == 0o700


def test_a_new_copy_switches_the_link_and_deletes_the_old_version(tmp_path):
    assert copy(tmp_path, bundle_bytes()).returncode == 0
    new = bundle_bytes(check_interval=30)
    assert copy(tmp_path, new).returncode == 0
    assert unpacked(bundle_link(tmp_path)) == tar_files(new)
    versions = os.listdir(tmp_path / render.BUNDLES_DIR.lstrip("/"))
    assert versions == [hashlib.sha256(new).hexdigest()], "only the current version is kept"


def test_copying_a_consumed_version_again_brings_its_files_back(tmp_path):
    """install.sh deletes a verified bundle's files (they hold secrets); `pulumi up --replace`
    of the copy command must then give install.sh the files again."""
    bundle = bundle_bytes()
    assert copy(tmp_path, bundle).returncode == 0
    link = bundle_link(tmp_path)
    shutil.rmtree(link / "files")
    (link / "consumed").touch()
    assert copy(tmp_path, bundle).returncode == 0
    assert unpacked(link) == tar_files(bundle)


def test_copy_replaces_a_bundle_directory_left_by_the_earlier_layout(tmp_path):
    legacy = bundle_link(tmp_path)
    legacy.mkdir(parents=True)
    (legacy / "install.sh").write_text("old\n")
    bundle = bundle_bytes()
    assert copy(tmp_path, bundle).returncode == 0
    assert legacy.is_symlink() and unpacked(legacy) == tar_files(bundle)


@pytest.mark.parametrize("nth_mv", [1, 2, 3])
def test_a_copy_killed_at_any_rename_leaves_a_complete_bundle(tmp_path, nth_mv):
    """`rm -rf bundle; mv new bundle` had a window with no bundle (teardown then skipped the
    remove): killed at any step, BUNDLE_DIR must hold the old or the new bundle, whole."""
    old, new = bundle_bytes(), bundle_bytes(check_interval=30)
    assert copy(tmp_path, old).returncode == 0
    standins = tmp_path / "standins"
    standins.mkdir()
    (standins / "mv").write_text(
        "#!/bin/bash\n"
        f'n=$(( $(cat "{standins}/count" 2>/dev/null || echo 0) + 1 )); echo $n >"{standins}/count"\n'
        f'if [ $n -eq {nth_mv} ]; then kill -9 $PPID; exit 1; fi\n'
        'exec /bin/mv "$@"\n')
    (standins / "mv").chmod(0o755)
    assert copy(tmp_path, new, path_prefix=standins).returncode != 0, "the copy was killed"
    assert unpacked(bundle_link(tmp_path)) in (tar_files(old), tar_files(new))


def test_the_copy_after_an_interrupted_one_leaves_only_its_version(tmp_path):
    assert copy(tmp_path, bundle_bytes()).returncode == 0
    bundles = tmp_path / render.BUNDLES_DIR.lstrip("/")
    (bundles / ".incoming.abc123").mkdir()  # what a copy killed mid-unpack leaves
    (bundles / ".trash.def456").mkdir()  # ... or mid-prune
    new = bundle_bytes(check_interval=30)
    assert copy(tmp_path, new).returncode == 0
    assert os.listdir(bundles) == [hashlib.sha256(new).hexdigest()]


def fake_bundle(tmp_path: Path, install_sh: str) -> Path:
    version = tmp_path / render.BUNDLES_DIR.lstrip("/") / "0123abcd"
    version.mkdir(parents=True)
    (version / "install.sh").write_text(install_sh)
    bundle_link(tmp_path).symlink_to("bundles/0123abcd")
    return version


def test_teardown_fails_and_keeps_the_bundle_when_remove_fails(tmp_path):
    version = fake_bundle(tmp_path, 'echo "remove failed" >&2; exit 1\n')
    result = run_command(remove_command(ROOT_HOST, root=str(tmp_path)))
    assert result.returncode != 0, "a failed remove fails the destroy, so it can be retried"
    assert (version / "install.sh").exists() and bundle_link(tmp_path).is_symlink(), \
        "the retry needs install.sh"


def test_teardown_runs_remove_then_deletes_the_bundle(tmp_path):
    calls = tmp_path / "calls"
    fake_bundle(tmp_path, f'echo "$*" >>"{calls}"\n')
    result = run_command(remove_command(ROOT_HOST, root=str(tmp_path)))
    assert result.returncode == 0, result.stderr
    assert calls.read_text() == f"remove {bundle_link(tmp_path)}\n"
    assert not bundle_link(tmp_path).exists() and not bundle_link(tmp_path).is_symlink()
    assert not (tmp_path / render.BUNDLES_DIR.lstrip("/")).exists()


def test_teardown_leaves_no_stack_directory_behind(tmp_path):
    fake_bundle(tmp_path, "exit 0\n")
    result = run_command(remove_command(ROOT_HOST, root=str(tmp_path)))
    assert result.returncode == 0, result.stderr
    assert not (tmp_path / render.STACK_DIR.lstrip("/")).exists(), \
        "the host is as before the stack: /var/lib/datadog-stack goes too"


# Paths reach the scripts as arguments, each word quoted by components/ssh.py: a path the
# shell would split, glob or evaluate must arrive as the one path it is.
HOSTILE_DIRS = ["two words", "it's", "$(touch pwned)", "`touch pwned`", "semi;colon & pipe|",
                "glob*?[x]", "-dash", "new\nline"]


@pytest.mark.parametrize("name", HOSTILE_DIRS)
def test_copy_and_teardown_take_a_path_with_shell_characters_as_one_path(tmp_path, name):
    root = tmp_path / name
    bundle = bundle_bytes()
    copied = run_command(copy_command(ROOT_HOST, root=str(root)), base64.b64encode(bundle))
    assert copied.returncode == 0, copied.stderr
    link = bundle_link(root)
    assert unpacked(link) == tar_files(bundle), "the bundle lands under the literal path"
    calls = tmp_path / "calls"
    (link / "install.sh").write_text(f'echo "$*" >>"{calls}"\n')
    removed = run_command(remove_command(ROOT_HOST, root=str(root)))
    assert removed.returncode == 0, removed.stderr
    assert calls.read_text() == f"remove {link}\n", "install.sh remove gets the literal bundle path"
    assert sorted(os.listdir(tmp_path)) == sorted(["calls", name]), \
        "nothing is created anywhere else (no word was split or evaluated)"
    assert not (root / render.STACK_DIR.lstrip("/")).exists()


def test_args_built_from_the_stack_settings_carry_its_agent_settings_and_secrets():
    """program.py builds each host's args from Settings: the Agent's files are rendered from
    the one AgentSettings that settings.load built, with the stack's secrets."""
    from domain import Apm, OfficeHours, Secrets, Settings, Thresholds

    args = make_args(ROOT_HOST)
    settings = Settings(
        agent=AGENT, hosts=(ROOT_HOST,),
        thresholds=Thresholds(500, 800, 200, 650), no_data_minutes=10, notify="@ops@example.com",
        timezone="UTC", office_hours=OfficeHours(540, 1140),
        apm=Apm(service="flask-app", version="1.0.0", port=5050, bind_address="127.0.0.1"),
        secrets=Secrets(api_key=args.api_key, database_password=args.database_password,
                        ssh_private_key=args.ssh_private_key))
    from_settings = program.agent_host_args(settings, ROOT_HOST)
    assert from_settings == args, "the host's args are the stack's host, Agent settings and secrets"
    assert from_settings.agent is settings.agent, \
        "one AgentSettings for every host, the one Settings holds (not a copy field by field)"
