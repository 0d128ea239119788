"""install.sh, executed for real in a throwaway root (DD_STACK_ROOT) with stand-in
datadog-agent, systemctl, runuser, psql, mysql and curl executables first on PATH."""
from __future__ import annotations

import os
import pwd
import shutil
import signal
import time
from dataclasses import replace
from pathlib import Path

import pytest

pytest.importorskip("datadog_checks.base", reason="the Agent tier runs in venv-agent (tests/requirements/agent.txt)")

from agent_files import render
from tests.agent.conftest import RESTORE_SQL
from tests.agent.helpers import API_KEY, HOST, PASSWORD, make_settings, write_bundle

pytestmark = pytest.mark.agent
ETC = "etc/datadog-agent"
PACKAGED = b"# packaged datadog.yaml\napi_key: old\n"


def bundle(env, name="b1", **settings):
    return write_bundle(make_settings(**settings), env.base / name)


def tamper(bundle_dir: Path, rel: str, text: str) -> None:
    """Replace a bundle file and its manifest hash, as a bundle rendered that way would be."""
    (bundle_dir / "files" / ETC / rel).write_text(text)
    manifest = bundle_dir / "manifest"
    lines = [line.split(" ") for line in manifest.read_text().splitlines()]
    manifest.write_text("".join(
        f"{mode} {owner} {render.sha256(text.encode()) if path == f'{ETC}/{rel}' else sha} {path}\n"
        for mode, owner, sha, path in lines))


def rendered(**settings) -> dict[str, bytes]:
    return render.render_host_files(make_settings(**settings), HOST, API_KEY, PASSWORD)


def test_install_puts_every_rendered_file_in_place_with_owner_and_mode(env):
    result = env.run("install", bundle(env))
    assert result.returncode == 0, result.stderr
    for path, content in rendered().items():
        target = env.root / path.lstrip("/")
        st = target.stat()
        assert target.read_bytes() == content, f"{path} must hold the rendered bytes"
        assert pwd.getpwuid(st.st_uid).pw_name == "dd-agent", "the Agent runs as dd-agent"
        expected = 0o644 if path == render.CHECK_PY else 0o640
        assert st.st_mode & 0o777 == expected, f"{path} mode {oct(st.st_mode & 0o777)}"


def test_install_restarts_the_agent_then_verifies_with_configcheck_and_the_checks(env):
    result = env.run("install", bundle(env))
    assert result.returncode == 0, result.stderr
    assert env.calls("systemctl") == ["systemctl restart datadog-agent"]
    assert env.calls("datadog-agent") == ["datadog-agent configcheck",
                                          "datadog-agent check my_metric",
                                          "datadog-agent check postgres"]
    assert env.calls("runuser dd-agent") == ["runuser dd-agent datadog-agent"] * 2, \
        "the checks are run as dd-agent, like the Agent itself"
    assert '"metric": "my_metric"' in result.stdout, \
        "stdout is the verified check output (AgentHost's checkResult)"
    assert '"metric": "postgresql.custom.connections"' in result.stdout


def test_the_database_check_runs_after_the_sql_that_creates_its_user(env):
    assert env.run("install", bundle(env)).returncode == 0
    order = [line.split(" -")[0] for line in env.log.read_text().splitlines()
             if line.startswith(("psql", "datadog-login"))]
    assert order[:2] == ["psql", "psql"] and order[2:] and set(order[2:]) == {"datadog-login psql"}, \
        "the datadog role exists (the credentials' backup, then the SQL) before the check logs in"


@pytest.mark.parametrize("kind", ["postgres", "mysql"])
def test_a_database_login_failure_fails_the_install_and_restores_the_files(env, kind):
    assert env.run("install", bundle(env, database=make_settings(kind).database)).returncode == 0
    before = {p: v[:4] for p, v in env.snapshot().items()}
    result = env.run("install", bundle(env, "b2", check_interval=30,
                                       database=make_settings(kind).database),
                     STANDIN_DB_LOGIN_FAIL="1")
    assert result.returncode != 0, "an integration that cannot log in fails the deployment"
    assert {p: v[:4] for p, v in env.snapshot().items()} == before, "the previous files are back"
    first, *rest = result.stderr.splitlines()
    assert first == (f"install.sh: vm1 (127.0.0.1): datadog-agent check {kind} failed; "
                     "the previous configuration is restored"), first
    denied = "password authentication failed" if kind == "postgres" else "Access denied"
    assert any("[ERROR]" in line for line in rest) and any(denied in line for line in rest), \
        "the Agent's own output follows the first line"


def test_a_failed_verification_names_the_host_and_the_step_first(env):
    broken = bundle(env)
    tamper(broken, "conf.d/my_metric.yaml", "instances: [\n")
    result = env.run("install", broken)
    lines = result.stderr.splitlines()
    assert lines[0] == ("install.sh: vm1 (127.0.0.1): datadog-agent configcheck failed; "
                        "the previous configuration is restored"), lines[0]
    assert lines[1] == "=== Configuration errors ===", "then the Agent's own message"


@pytest.mark.parametrize("port", [5432, 6543])  # the default, and a databasePort of its own
def test_install_applies_the_sql_as_postgres_in_one_transaction_on_its_port(env, port):
    settings = make_settings(database=replace(make_settings().database, port=port))
    assert env.run("install", write_bundle(settings, env.base / "b1")).returncode == 0
    assert env.calls("runuser postgres") == ["runuser postgres psql"] * 2, \
        "the credentials' backup, then the SQL, each as postgres"
    for psql in env.calls("psql"):
        assert f"-v ON_ERROR_STOP=1 --single-transaction -p {port} -d postgres -f -" in psql, \
            "psql reaches the server on the configured port, not only on PostgreSQL's default"
    sql = (env.base / "psql.stdin").read_bytes()
    assert sql == render.database_backup_sql(settings) + \
        render.database_user_sql(settings, PASSWORD), "the SQL arrives on stdin"


def test_psql_runs_from_the_root_directory_which_user_postgres_can_enter(env):
    """From root's home, psql as postgres prints `could not change directory to "/root"`."""
    assert env.run("install", bundle(env)).returncode == 0
    assert (env.base / "psql.cwd").read_text() == "/\n/\n", "the backup's psql and the SQL's"


def test_install_applies_the_sql_as_mysql_root_for_mysql(env):
    assert env.run("install", bundle(env, database=make_settings("mysql").database)).returncode == 0
    assert set(env.calls("mysql")) == {"mysql -u root -N"} and not env.calls("psql")
    sql = render.database_user_sql(make_settings("mysql"), PASSWORD).decode()
    assert sql in (env.base / "mysql.stdin").read_text(), "the SQL arrives on stdin"


def test_a_second_identical_install_changes_nothing(env):
    b = bundle(env)
    assert env.run("install", b).returncode == 0
    before = env.snapshot()
    second = env.run("install", b)
    assert second.returncode == 0, second.stderr
    assert env.snapshot() == before, \
        "same bytes, modes, owners, mtimes and inodes: no rewrite (the first install consumed " \
        "the bundle's files; the manifest's hashes show nothing changed)"
    assert env.calls("systemctl") == ["systemctl restart datadog-agent"], \
        "an unchanged configuration does not restart the Agent"


def test_a_changed_interval_rewrites_only_my_metric_yaml(env):
    assert env.run("install", bundle(env)).returncode == 0
    before = env.snapshot()
    assert env.run("install", bundle(env, "b2", check_interval=30)).returncode == 0
    after = env.snapshot()
    changed = {p for p in after if after[p] != before.get(p)}
    assert changed == {f"{ETC}/conf.d/my_metric.yaml"}, "the check's .py file is not touched"


@pytest.mark.parametrize("breakage", ["invalid yaml", "crashing check"])
def test_failed_verification_restores_the_previous_files_byte_for_byte(env, breakage):
    assert env.run("install", bundle(env)).returncode == 0
    before = {p: v[:4] for p, v in env.snapshot().items()}  # bytes, mode, uid, gid
    broken = bundle(env, "b2", check_interval=30, database=make_settings("mysql").database)
    if breakage == "invalid yaml":
        tamper(broken, "conf.d/my_metric.yaml", "instances: [\n")
    else:
        tamper(broken, "checks.d/my_metric.py",
               "from datadog_checks.base import AgentCheck\n"
               "class C(AgentCheck):\n    def check(self, instance):\n        raise RuntimeError('boom')\n")
    result = env.run("install", broken)
    assert result.returncode != 0, "a failed verification must fail the deployment"
    after = {p: v[:4] for p, v in env.snapshot().items()}
    assert after == before, "the previous files are back, and mysql.d/conf.yaml (new) is gone"
    assert env.calls("systemctl")[-1] == "systemctl restart datadog-agent", \
        "the Agent is restarted on the restored configuration"
    expected = "Configuration errors" if breakage == "invalid yaml" else "boom"
    assert expected in result.stderr, "the Agent's own error output is shown"
    assert "CREATE USER" not in (env.base / "mysql.stdin").read_text(), \
        "the SQL runs only after a successful verification"


# --- the database user's credentials ---------------------------------------------------

@pytest.mark.parametrize("files", ["changed", "unchanged"])
def test_a_failed_database_check_puts_back_the_users_previous_credentials(env, files):
    first = bundle(env)
    assert env.run("install", first).returncode == 0
    second = bundle(env, "b2", check_interval=30) if files == "changed" else bundle(env, "b1-again")
    result = env.run("install", second, STANDIN_DB_LOGIN_FAIL="1")
    assert result.returncode != 0
    assert (env.base / "psql.stdin").read_text().endswith(RESTORE_SQL + "\n"), \
        "the backup's answer is applied after the SQL that changed the user"
    assert "install.sh: restored the database user's previous credentials" in result.stderr


def test_a_successful_install_applies_no_restore_and_keeps_none(env):
    assert env.run("install", bundle(env)).returncode == 0
    assert RESTORE_SQL not in (env.base / "psql.stdin").read_text()
    assert not list((env.root / STATE).rglob("database-restore*")), \
        "the saved credentials go with the committed transaction"


def test_credentials_left_by_an_interrupted_run_are_restored_first(env):
    """An install outside a transaction (files unchanged) killed after its SQL leaves
    state/database-restore.sql: the next run applies it before anything else."""
    b = bundle(env)
    assert env.run("install", b).returncode == 0
    (env.root / STATE / "database-restore.sql").write_text(RESTORE_SQL + "\n")
    (env.root / STATE / "database-restore.env").write_text("DB_KIND=postgres\nDB_PORT=5432\n")
    before = (env.base / "psql.stdin").read_text()
    result = env.run("install", b)
    assert result.returncode == 0, result.stderr
    assert (env.base / "psql.stdin").read_text()[len(before):].startswith(RESTORE_SQL), \
        "the interrupted run's starting credentials come back before this run's SQL"
    assert not (env.root / STATE / "database-restore.sql").exists()


def test_an_account_the_backup_cannot_write_back_stops_the_install_before_the_sql(env):
    before = {p: v[:4] for p, v in env.snapshot().items()}
    result = env.run("install", bundle(env), STANDIN_BACKUP_ANSWER=(
        f"{render.DB_UNRESTORABLE} datadog@localhost: its authentication string is not plain text"))
    assert result.returncode != 0
    assert result.stderr.splitlines()[0] == (
        "install.sh: vm1 (127.0.0.1): backing up the database user's credentials failed; "
        "the previous configuration is restored")
    assert "ALTER ROLE datadog WITH LOGIN" not in (env.base / "psql.stdin").read_text(), \
        "the user is not changed"
    assert {p: v[:4] for p, v in env.snapshot().items()} == before


def test_failed_first_install_leaves_the_packaged_files_alone(env):
    broken = bundle(env)
    tamper(broken, "conf.d/my_metric.yaml", "instances: [\n")
    assert env.run("install", broken).returncode != 0
    etc = env.root / ETC
    assert (etc / "datadog.yaml").read_bytes() == PACKAGED
    assert not (etc / "conf.d/my_metric.yaml").exists() and not (etc / "checks.d/my_metric.py").exists(), \
        "files that did not exist before are removed"


def test_failed_sql_restores_the_previous_files(env):
    result = env.run("install", bundle(env), STANDIN_PSQL_EXIT="3")
    assert result.returncode != 0 and "applying the database SQL failed" in result.stderr
    assert (env.root / ETC / "datadog.yaml").read_bytes() == PACKAGED


def test_error_output_never_shows_the_secrets(env):
    broken = bundle(env)
    tamper(broken, "conf.d/my_metric.yaml", f"password: {PASSWORD}\n[\n")
    result = env.run("install", broken)
    assert result.returncode != 0
    assert "canary-pw" not in result.stderr + result.stdout


def test_remove_restores_the_packaged_files_and_deletes_the_rest(env):
    b = bundle(env)
    assert env.run("install", b).returncode == 0
    result = env.run("remove", b)
    assert result.returncode == 0, result.stderr
    etc = env.root / ETC
    assert (etc / "datadog.yaml").read_bytes() == PACKAGED, "the Agent keeps its packaged config"
    for path in (render.CHECK_PY, render.CHECK_YAML, render.DB_CONF["postgres"]):
        assert not (env.root / path.lstrip("/")).exists(), f"{path} was installed by us: deleted"
    assert (etc / "conf.d/postgres.d/conf.yaml.example").exists(), "files we did not install stay"
    assert env.calls("systemctl") == ["systemctl restart datadog-agent"] * 2


def test_remove_leaves_no_state_behind(env):
    b = bundle(env)
    assert env.run("install", b).returncode == 0
    assert env.run("remove", b).returncode == 0
    assert not (env.root / "var/lib/datadog-stack/state").exists(), \
        "state/, its lock and its records go with the last installed file"


@pytest.mark.parametrize("kind,client,user", [("postgres", "psql", "pg-role"),
                                              ("mysql", "mysql", "mysql-user")])
def test_remove_drops_the_database_user_the_install_created(env, kind, client, user):
    b = bundle(env, database=make_settings(kind).database)
    assert env.run("install", b).returncode == 0 and (env.base / user).exists()
    result = env.run("remove", b)
    assert result.returncode == 0, result.stderr
    assert not (env.base / user).exists(), "the drop SQL reached the server"
    assert render.database_drop_sql(make_settings(kind)).decode() in (env.base / f"{client}.stdin").read_text()


def test_remove_keeps_a_database_user_that_existed_before_the_stack(env):
    b = bundle(env)
    assert env.run("install", b, STANDIN_USER_EXISTS="1").returncode == 0
    assert env.run("remove", b).returncode == 0
    assert render.database_drop_sql(make_settings()).decode() not in (env.base / "psql.stdin").read_text(), \
        "a user the stack did not create is not the stack's to drop"


def test_remove_twice_is_harmless(env):
    b = bundle(env)
    assert env.run("install", b).returncode == 0
    assert env.run("remove", b).returncode == 0
    before = env.snapshot()
    assert env.run("remove", b).returncode == 0 and env.snapshot() == before


def test_switching_database_kind_releases_the_old_integration(env):
    assert env.run("install", bundle(env)).returncode == 0
    result = env.run("install", bundle(env, "b2", database=make_settings("mysql").database))
    assert result.returncode == 0, result.stderr
    assert not (env.root / render.DB_CONF["postgres"].lstrip("/")).exists()
    assert (env.root / render.DB_CONF["mysql"].lstrip("/")).exists()


def test_missing_agent_without_install_agent_fails_before_touching_anything(env_without_agent):
    env = env_without_agent
    before = env.snapshot()
    result = env.run("install", bundle(env))
    assert result.returncode != 0 and "installAgent is false" in result.stderr
    assert env.snapshot() == before and not env.calls("curl")


def test_missing_agent_with_install_agent_runs_datadogs_script_with_the_key_in_env(env_without_agent):
    env = env_without_agent
    result = env.run("install", bundle(env, install_agent=True))
    assert result.returncode == 0, result.stderr
    (curl,) = env.calls("curl")
    assert curl.endswith("https://install.datadoghq.com/scripts/install_script_agent7.sh")
    assert API_KEY not in curl, "the API key is never on a command line"
    assert env.calls("installer") == [f"installer DD_API_KEY={API_KEY} DD_SITE=datadoghq.com"], \
        "Datadog's install script reads DD_API_KEY and DD_SITE from its environment"


def test_present_agent_is_not_reinstalled(env):
    assert env.run("install", bundle(env, install_agent=True)).returncode == 0
    assert not env.calls("curl")


# --- interrupted runs ---------------------------------------------------------------------

STATE = "var/lib/datadog-stack/state"


def attributes(env) -> dict[str, tuple]:
    """Every file under the root's /etc: bytes, mode, uid, gid (what a restore must give back)."""
    return {p: v[:4] for p, v in env.snapshot().items()}


def wait_for(path: Path, process, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert process.poll() is None, f"install.sh ended early: {process.communicate()}"
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.05)


@pytest.mark.parametrize("signal_name", ["SIGHUP", "SIGINT", "SIGTERM"])
def test_an_install_interrupted_by_a_signal_restores_the_previous_files(env, signal_name):
    """The SSH session dropping (HUP), Ctrl-C (INT), a timeout's kill (TERM): all reach the
    whole process group while the Agent restarts."""
    assert env.run("install", bundle(env)).returncode == 0
    before = attributes(env)
    new = bundle(env, "b2", check_interval=30, database=make_settings("mysql").database)
    process = env.start("install", new, STANDIN_SYSTEMCTL_BLOCK="1")
    wait_for(env.base / "systemctl.blocked", process)
    os.killpg(process.pid, getattr(signal, signal_name))
    _, stderr = process.communicate(timeout=60)
    assert process.returncode != 0, "an interrupted install fails the deployment"
    assert attributes(env) == before, "the previous files are back, the new mysql.d/conf.yaml gone"
    assert f"interrupted by {signal_name}" in stderr
    assert not (env.root / STATE / "txn").exists(), "the rollback completed"
    assert env.calls("systemctl")[-1] == "systemctl restart datadog-agent", \
        "the Agent is restarted on the restored files"


def test_a_killed_install_is_rolled_back_by_the_next_run(env):
    """SIGKILL (or a power cut) cannot be trapped: the next run finds the transaction."""
    pristine = attributes(env)
    assert env.run("install", bundle(env)).returncode == 0
    new = bundle(env, "b2", check_interval=30, database=make_settings("mysql").database)
    killed = env.run("install", new, STANDIN_SYSTEMCTL_SIGNAL="KILL")
    assert killed.returncode == -9
    result = env.run("remove", new)
    assert result.returncode == 0, result.stderr
    assert "an earlier run was interrupted" in result.stderr
    assert attributes(env) == pristine, \
        "remove restores the packaged files and leaves none of the killed run's files behind"


def test_a_rerun_completes_a_first_install_that_was_killed(env):
    new = bundle(env)
    assert env.run("install", new, STANDIN_SYSTEMCTL_SIGNAL="KILL").returncode == -9
    result = env.run("install", new)
    assert result.returncode == 0, result.stderr
    assert env.calls("systemctl")[-1] == "systemctl restart datadog-agent", \
        "the Agent is restarted on the installed files (the killed run never finished its restart)"
    assert '"metric": "my_metric"' in result.stdout
    assert env.run("remove", new).returncode == 0
    etc = env.root / ETC
    assert (etc / "datadog.yaml").read_bytes() == PACKAGED, \
        "remove takes away what the completed install put in place (API key included)"
    assert not (etc / "conf.d/my_metric.yaml").exists() and not (etc / "checks.d/my_metric.py").exists()


def test_a_killed_install_never_becomes_the_packaged_original(env):
    """The half-installed datadog.yaml of a killed run must not be backed up as 'original'."""
    first = write_bundle(make_settings(), env.base / "b1", api_key="KEY-OF-THE-KILLED-RUN")
    assert env.run("install", first, STANDIN_SYSTEMCTL_SIGNAL="KILL").returncode == -9
    second = write_bundle(make_settings(), env.base / "b2", api_key="KEY-OF-THE-NEXT-RUN")
    assert env.run("install", second).returncode == 0
    assert env.run("remove", second).returncode == 0
    assert (env.root / ETC / "datadog.yaml").read_bytes() == PACKAGED


def test_an_unchanged_rerun_records_the_files_so_remove_takes_them_away(env):
    b = bundle(env)
    assert env.run("install", b).returncode == 0
    (env.root / STATE / "installed").unlink()  # as a run of an earlier install.sh could leave it
    assert env.run("install", b).returncode == 0
    assert env.run("remove", b).returncode == 0
    for path in (render.CHECK_PY, render.CHECK_YAML, render.DB_CONF["postgres"]):
        assert not (env.root / path.lstrip("/")).exists(), f"{path} (maybe with secrets) is left behind"
    assert (env.root / ETC / "datadog.yaml").read_bytes() == PACKAGED, "API key taken away too"


def test_a_restart_that_failed_during_a_rollback_is_done_by_the_next_run(env):
    b = bundle(env)
    assert env.run("install", b).returncode == 0
    broken = bundle(env, "b2", check_interval=30)
    tamper(broken, "conf.d/my_metric.yaml", "instances: [\n")
    assert env.run("install", broken, STANDIN_SYSTEMCTL_FAIL="1").returncode != 0
    restarts = len(env.calls("systemctl"))
    result = env.run("install", b)
    assert result.returncode == 0, result.stderr
    assert len(env.calls("systemctl")) == restarts + 1, \
        "the files are unchanged, but the Agent never restarted on them: restart it now"


# --- directories --------------------------------------------------------------------------

def test_a_rolled_back_install_removes_the_directories_it_created(env):
    (env.root / ETC / "conf.d/mysql.d").rmdir()  # an Agent package without the mysql example
    broken = bundle(env, database=make_settings("mysql").database)
    tamper(broken, "conf.d/my_metric.yaml", "instances: [\n")
    assert env.run("install", broken).returncode != 0
    assert not (env.root / ETC / "conf.d/mysql.d").exists()


def test_remove_deletes_the_directories_install_created(env):
    (env.root / ETC / "conf.d/mysql.d").rmdir()
    b = bundle(env, database=make_settings("mysql").database)
    assert env.run("install", b).returncode == 0
    assert env.run("remove", b).returncode == 0
    assert not (env.root / ETC / "conf.d/mysql.d").exists()
    assert (env.root / ETC / "conf.d/postgres.d").is_dir(), "the package's own directories stay"


def test_remove_keeps_a_directory_it_created_when_it_holds_other_files(env):
    (env.root / ETC / "conf.d/mysql.d").rmdir()
    b = bundle(env, database=make_settings("mysql").database)
    assert env.run("install", b).returncode == 0
    (env.root / ETC / "conf.d/mysql.d/local.yaml").write_text("# an operator's file\n")
    assert env.run("remove", b).returncode == 0
    assert (env.root / ETC / "conf.d/mysql.d/local.yaml").exists()


def test_switching_database_kind_deletes_the_directory_install_created_for_the_old_one(env):
    shutil.rmtree(env.root / ETC / "conf.d/postgres.d")
    assert env.run("install", bundle(env)).returncode == 0
    assert env.run("install", bundle(env, "b2", database=make_settings("mysql").database)).returncode == 0
    assert not (env.root / ETC / "conf.d/postgres.d").exists()


# --- secrets in output and on disk ----------------------------------------------------------

def test_a_failing_sql_step_quoting_its_sql_does_not_show_the_password(env):
    result = env.run("install", bundle(env), STANDIN_PSQL_EXIT="3", STANDIN_PSQL_QUOTE_SQL="1")
    assert result.returncode != 0 and "ALTER ROLE datadog" in result.stderr, \
        "the database client's error output is shown"
    assert "canary-pw" not in result.stderr + result.stdout


def test_the_sql_clients_error_output_is_scrubbed(env):
    result = env.run("install", bundle(env), STANDIN_PSQL_EXIT="2",
                     STANDIN_PSQL_STDERR=f"psql: error: connection failed: password={PASSWORD}")
    assert result.returncode != 0 and "psql: error: connection failed: password=********" in result.stderr
    assert "canary-pw" not in result.stderr + result.stdout


def test_the_check_output_that_becomes_check_result_is_scrubbed(env):
    b = bundle(env)
    check = b / f"files/{ETC}/checks.d/my_metric.py"
    tamper(b, "checks.d/my_metric.py", f"print({'instance password: ' + PASSWORD!r})\n" + check.read_text())
    result = env.run("install", b)
    assert result.returncode == 0, result.stderr
    assert "instance password: ********" in result.stdout and '"metric": "my_metric"' in result.stdout
    assert "canary-pw" not in result.stdout


def test_the_api_key_file_is_deleted_once_the_agent_is_installed(env_without_agent):
    env = env_without_agent
    b = bundle(env, install_agent=True)
    result = env.run("install", b)
    assert result.returncode == 0, result.stderr
    assert env.calls("installer") == [f"installer DD_API_KEY={API_KEY} DD_SITE=datadoghq.com"]
    assert not (b / "secret.env").exists()


def test_the_api_key_file_is_deleted_when_the_agent_is_already_there(env):
    b = bundle(env, install_agent=True)
    assert env.run("install", b).returncode == 0
    assert not (b / "secret.env").exists()


def test_a_failed_agent_installation_keeps_the_key_for_the_retry(env_without_agent):
    env = env_without_agent
    b = bundle(env, install_agent=True)
    assert env.run("install", b, STANDIN_INSTALLER_FAIL="1").returncode != 0
    result = env.run("install", b)
    assert result.returncode == 0, result.stderr
    assert len(env.calls("installer")) == 2 and not (b / "secret.env").exists()


# --- installDatabase ------------------------------------------------------------------------

def installed(env) -> set[str]:
    pkg = env.base / "pkg"
    return {p.name for p in pkg.iterdir()} if pkg.exists() else set()


@pytest.mark.parametrize("kind,package", [("postgres", "postgresql"), ("mysql", "mariadb-server")])
def test_install_database_installs_the_distributions_server_before_the_sql(env, kind, package):
    db = replace(make_settings(kind).database, install=True)
    result = env.run("install", bundle(env, database=db))
    assert result.returncode == 0, result.stderr
    assert package in installed(env)
    steps = [l.split()[0] + " " + l.split()[1] for l in env.log.read_text().splitlines()
             if l.startswith(("apt-get install", "psql -X", "mysql -u root"))]
    assert steps[0] == "apt-get install", "the server is there before the user's SQL"


def test_install_database_leaves_a_present_server_alone(env):
    (env.base / "pkg").mkdir()
    (env.base / "pkg/postgresql").touch()
    db = replace(make_settings().database, install=True)
    assert env.run("install", bundle(env, database=db)).returncode == 0
    assert not env.calls("apt-get"), "idempotent: an installed package is not reinstalled"


def test_install_database_off_never_calls_apt(env):
    assert env.run("install", bundle(env)).returncode == 0
    assert not env.calls("apt-get") and not env.calls("dpkg-query")


def test_a_failed_database_install_purges_what_it_added_and_changes_no_file(env):
    db = replace(make_settings().database, install=True)
    before = env.snapshot()
    result = env.run("install", bundle(env, database=db), STANDIN_APT_FAIL="1")
    assert result.returncode != 0
    assert result.stderr.splitlines()[0] == (
        "install.sh: vm1 (127.0.0.1): installing the database server (postgresql) failed; "
        "the packages it added are purged")
    assert "dpkg returned an error code" in result.stderr, "apt-get's own message follows"
    assert installed(env) == set(), "the half-installed dependency is purged"
    assert env.snapshot() == before and not env.calls("systemctl"), "no Agent file was touched"


def test_a_database_server_that_does_not_answer_is_purged(env):
    db = replace(make_settings().database, install=True)
    result = env.run("install", bundle(env, database=db), STANDIN_PSQL_EXIT="2",
                     STANDIN_PSQL_STDERR="psql: error: connection to server on socket failed")
    assert result.returncode != 0 and "connection to server on socket failed" in result.stderr
    assert installed(env) == set()


# --- MySQL 8.4 and 9 ---------------------------------------------------------------------

@pytest.mark.parametrize("version", ["8.4.3", "9.1.0"])
def test_mysql_84_or_later_is_refused_before_any_change_with_the_reason(env, version):
    before = env.snapshot()
    result = env.run("install", bundle(env, database=make_settings("mysql").database),
                     STANDIN_MYSQL_VERSION=version)
    assert result.returncode != 0 and env.snapshot() == before
    first = result.stderr.splitlines()[0]
    assert first.startswith(f"install.sh: vm1 (127.0.0.1): MySQL {version}: ") and \
        "mysql_native_password" in first, first
    assert "CREATE USER" not in (env.base / "mysql.stdin").read_text(), "no SQL was applied"


@pytest.mark.parametrize("version", ["8.0.40", "10.11.6-MariaDB-0+deb12u1", "11.4.2-MariaDB"])
def test_mysql_80_and_mariadb_are_accepted(env, version):
    result = env.run("install", bundle(env, database=make_settings("mysql").database),
                     STANDIN_MYSQL_VERSION=version)
    assert result.returncode == 0, result.stderr


# --- no secret-bearing copy beyond what rollback needs -----------------------------------

def test_a_verified_install_deletes_the_bundles_copies_of_the_secrets(env):
    b = bundle(env)
    assert env.run("install", b).returncode == 0
    leftovers = [p for p in b.rglob("*") if p.is_file()
                 and (API_KEY.encode() in p.read_bytes() or PASSWORD.encode() in p.read_bytes())]
    assert leftovers == [], "the installed files are the only copies of the key and password"


def test_a_consumed_bundle_cannot_restore_edited_files_and_says_how_to_recopy(env):
    b = bundle(env)
    assert env.run("install", b).returncode == 0
    (env.root / ETC / "conf.d/my_metric.yaml").write_text("# edited\n")
    result = env.run("install", b)
    assert result.returncode != 0 and "pulumi up --replace" in result.stderr.splitlines()[0]


def test_a_bundle_file_that_does_not_match_its_manifest_is_not_installed(env):
    b = bundle(env)
    (b / f"files/{ETC}/conf.d/my_metric.yaml").write_text("instances: []\n")
    result = env.run("install", b)
    assert result.returncode != 0 and "against its manifest" in result.stderr.splitlines()[0]
    assert not (env.root / ETC / "conf.d/my_metric.yaml").exists()


def test_a_failed_remove_names_the_host_and_the_step_first(env):
    b = bundle(env)
    assert env.run("install", b).returncode == 0
    result = env.run("remove", b, STANDIN_SYSTEMCTL_FAIL="1")
    assert result.returncode != 0
    assert result.stderr.splitlines()[0] == \
        "install.sh: vm1 (127.0.0.1): systemctl restart datadog-agent failed"
