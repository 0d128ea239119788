"""install.sh, executed for real in a throwaway root (DD_STACK_ROOT) with stand-in
datadog-agent, systemctl, runuser, psql, mysql and curl executables first on PATH."""
from __future__ import annotations

import pwd
from pathlib import Path

import pytest

pytest.importorskip("datadog_checks.base", reason="the Agent tier runs in venv-agent (requirements-agent.txt)")

from agent_files import render
from tests.agent.helpers import API_KEY, HOST, PASSWORD, make_settings, write_bundle

pytestmark = pytest.mark.agent
ETC = "etc/datadog-agent"
PACKAGED = b"# packaged datadog.yaml\napi_key: old\n"


def bundle(env, name="b1", **settings):
    return write_bundle(make_settings(**settings), env.base / name)


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


def test_install_restarts_the_agent_then_verifies_with_configcheck_and_the_check(env):
    result = env.run("install", bundle(env))
    assert result.returncode == 0, result.stderr
    assert env.calls("systemctl") == ["systemctl restart datadog-agent"]
    assert env.calls("datadog-agent") == ["datadog-agent configcheck",
                                          "datadog-agent check my_metric"]
    assert env.calls("runuser dd-agent") == ["runuser dd-agent datadog-agent"], \
        "the check is run as dd-agent, like the Agent itself"
    assert '"metric": "my_metric"' in result.stdout, \
        "stdout is the verified check output (AgentHost's checkResult)"


def test_install_applies_the_sql_as_postgres_in_one_transaction(env):
    assert env.run("install", bundle(env)).returncode == 0
    assert env.calls("runuser postgres") == ["runuser postgres psql"]
    (psql,) = env.calls("psql")
    assert "-v ON_ERROR_STOP=1 --single-transaction -p 5432 -d postgres -f -" in psql
    sql = (env.base / "psql.stdin").read_bytes()
    assert sql == render.database_user_sql(make_settings(), PASSWORD), "the SQL arrives on stdin"


def test_install_applies_the_sql_as_mysql_root_for_mysql(env):
    assert env.run("install", bundle(env, database=make_settings("mysql").database)).returncode == 0
    assert env.calls("mysql") == ["mysql -u root"] and not env.calls("psql")


def test_a_second_identical_install_changes_nothing(env):
    b = bundle(env)
    assert env.run("install", b).returncode == 0
    before = env.snapshot()
    second = env.run("install", b)
    assert second.returncode == 0, second.stderr
    assert env.snapshot() == before, "same bytes, modes, owners, mtimes and inodes: no rewrite"
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
        (broken / f"files/{ETC}/conf.d/my_metric.yaml").write_text("instances: [\n")
    else:
        (broken / f"files/{ETC}/checks.d/my_metric.py").write_text(
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
    assert not env.calls("mysql"), "the SQL runs only after a successful verification"


def test_failed_first_install_leaves_the_packaged_files_alone(env):
    broken = bundle(env)
    (broken / f"files/{ETC}/conf.d/my_metric.yaml").write_text("instances: [\n")
    assert env.run("install", broken).returncode != 0
    etc = env.root / ETC
    assert (etc / "datadog.yaml").read_bytes() == PACKAGED
    assert not (etc / "conf.d/my_metric.yaml").exists() and not (etc / "checks.d/my_metric.py").exists(), \
        "files that did not exist before are removed"


def test_failed_sql_restores_the_previous_files(env):
    result = env.run("install", bundle(env), STANDIN_PSQL_EXIT="3")
    assert result.returncode != 0 and "applying the database SQL" in result.stderr
    assert (env.root / ETC / "datadog.yaml").read_bytes() == PACKAGED


def test_error_output_never_shows_the_secrets(env):
    broken = bundle(env)
    (broken / f"files/{ETC}/conf.d/my_metric.yaml").write_text(f"password: {PASSWORD}\n[\n")
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
