"""Specification of the files the Datadog Agent reads on each VM (agent_files/render.py)."""
from __future__ import annotations

import ast
import io
import re
import tarfile
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from agent_files import db_auth, render
from domain import AgentSettings, Database, Host

pytestmark = pytest.mark.unit

API_KEY = "canary-api-key-0123456789abcdef"
PASSWORD = "canary-pw-O'Brien\\\"#: x"  # quote, backslash, double quote, YAML specials
HOST = Host(name="vm1", address="192.0.2.10", ssh_port=22, ssh_user="vagrant")
TAG = re.compile(r"^[A-Za-z][A-Za-z0-9_./-]*:[A-Za-z0-9_./:-]+$")


def make_settings(kind: str = "postgres", **overrides) -> AgentSettings:
    base = AgentSettings(
        stack="dev", env="dev", site="datadoghq.com",
        host_tags=("greeting:hello_datadog_team", "region:eastus", "role:database"),
        database=Database(kind=kind, host="localhost",
                          port=5432 if kind == "postgres" else 3306,
                          name="postgres" if kind == "postgres" else "mysql"),
        check_interval=45, logs_enabled=False, install_agent=False,
    )
    return replace(base, **overrides)


def files(settings: AgentSettings | None = None) -> dict[str, bytes]:
    return render.render_host_files(settings or make_settings(), HOST, API_KEY, PASSWORD)


def load(settings: AgentSettings | None, path: str) -> dict:
    return yaml.safe_load(files(settings)[path])


def bundle_members(settings: AgentSettings) -> dict[str, bytes]:
    data = render.build_bundle(settings, HOST, API_KEY, PASSWORD)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:  # "r:": uncompressed only
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}


# --- datadog.yaml -------------------------------------------------------------------------

def test_datadog_yaml_carries_the_api_key_site_and_hostname():
    conf = load(None, render.DATADOG_YAML)
    assert conf["api_key"] == API_KEY, "the Agent authenticates its intake with api_key"
    assert conf["site"] == "datadoghq.com", "site selects the Datadog region the Agent reports to"
    assert conf["hostname"] == "vm1", "hostname is the host's name in the Host Map"


def test_host_tags_are_a_yaml_list_of_key_value_strings_including_env():
    tags = load(None, render.DATADOG_YAML)["tags"]
    assert isinstance(tags, list), "datadog.yaml `tags` must be a YAML list, not one string"
    assert all(isinstance(t, str) and TAG.match(t) for t in tags), \
        f"each host tag must be key:value without spaces, got {tags}"
    assert tags == ["greeting:hello_datadog_team", "region:eastus", "role:database", "env:dev"], \
        "host tags are the configured ones plus env:<env>"


def test_env_tag_is_not_duplicated_when_configured_as_a_host_tag():
    settings = make_settings(host_tags=("env:dev", "role:database"))
    assert load(settings, render.DATADOG_YAML)["tags"] == ["env:dev", "role:database"]


def test_apm_is_enabled_and_env_set_for_unified_service_tagging():
    conf = load(None, render.DATADOG_YAML)
    assert conf["apm_config"] == {"enabled": True}, "the trace Agent must accept the app's traces"
    assert conf["env"] == "dev", "env is the Agent-wide env tag (unified service tagging)"


@pytest.mark.parametrize("enabled", [True, False])
def test_logs_enabled_follows_the_setting(enabled):
    conf = load(make_settings(logs_enabled=enabled), render.DATADOG_YAML)
    assert conf["logs_enabled"] is enabled, "logs_enabled must be a YAML boolean from logsEnabled"


# --- the my_metric check ------------------------------------------------------------------

def test_check_is_an_agent_check_submitting_my_metric_between_0_and_1000():
    source = files()[render.CHECK_PY].decode()
    tree = ast.parse(source)
    imports = [n for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    assert any(n.module == "datadog_checks.base" and any(a.name == "AgentCheck" for a in n.names)
               for n in imports), "a custom check subclasses datadog_checks.base.AgentCheck"
    classes = [n for n in tree.body if isinstance(n, ast.ClassDef)]
    assert any(any(getattr(b, "id", None) == "AgentCheck" for b in c.bases) for c in classes)
    assert "randint(MIN_VALUE, MAX_VALUE)" in source and "MIN_VALUE = 0" in source \
        and "MAX_VALUE = 1000" in source, "my_metric is a random integer in [0, 1000]"


def test_check_config_sets_the_collection_interval_from_settings():
    conf = load(make_settings(check_interval=30), render.CHECK_YAML)
    assert conf["init_config"] == {}, "init_config must be present (a mapping) for the check"
    assert len(conf["instances"]) == 1, "one instance means one my_metric series per host"
    assert conf["instances"][0]["min_collection_interval"] == 30, \
        "min_collection_interval (seconds) is how often the collector runs the check"


def test_check_instance_tags_are_key_value_strings():
    tags = load(None, render.CHECK_YAML)["instances"][0]["tags"]
    assert tags and all(TAG.match(t) for t in tags), f"instance tags must be key:value, got {tags}"


@pytest.mark.parametrize("path", [render.CHECK_YAML, render.DB_CONF["postgres"]])
def test_check_instances_leave_env_and_other_reserved_tags_to_the_agent(path):
    keys = {t.split(":")[0] for t in load(None, path)["instances"][0]["tags"]}
    assert not keys & {"env", "host", "hostname", "service", "version"}, \
        "integrations must not submit reserved tag keys; env comes from datadog.yaml's env"


def test_check_files_share_the_check_name_my_metric():
    assert render.CHECK_PY.endswith("/checks.d/my_metric.py")
    assert render.CHECK_YAML.endswith("/conf.d/my_metric.yaml"), \
        "the Agent pairs checks.d/<name>.py with conf.d/<name>.yaml by name"


# --- database integration -----------------------------------------------------------------

def _columns_selected(query: str) -> int:
    select = re.search(r"SELECT\s+(.*?)\s+FROM\s", query, re.S | re.I).group(1)
    depth, count = 0, 1
    for ch in select:
        depth += ch == "("
        depth -= ch == ")"
        count += ch == "," and depth == 0
    return count


def _assert_valid_custom_queries(queries):
    assert isinstance(queries, list) and queries, "custom_queries must be a list of mappings"
    for q in queries:
        assert isinstance(q["query"], str), "each custom query has a `query` string"
        assert isinstance(q.get("metric_prefix", "x"), str) and q.get("metric_prefix", "x")
        columns = q["columns"]
        assert isinstance(columns, list) and all(isinstance(c, dict) for c in columns), \
            "columns must be a list of {name, type} mappings (one per selected column)"
        assert all(set(c) == {"name", "type"} for c in columns)
        assert {c["type"] for c in columns} <= {"tag", "gauge", "monotonic_count"}, \
            "each column is a tag or a submission method of AgentCheck (integrations-core)"
        assert _columns_selected(q["query"]) == len(columns), \
            "the number of columns must equal the number of columns the query returns"
        assert all(TAG.match(t) for t in q.get("tags", [])), "query tags are key:value strings"


def test_postgres_integration_connects_as_the_datadog_user():
    instance = load(None, render.DB_CONF["postgres"])["instances"][0]
    assert (instance["host"], instance["port"], instance["dbname"]) == ("localhost", 5432, "postgres")
    assert instance["username"] == "datadog", "the integration logs in as the datadog role"
    assert instance["password"] == PASSWORD, "the password round-trips through YAML unchanged"


def test_postgres_custom_query_reads_the_connected_database_not_its_user_tables():
    """A fresh cluster's `postgres` database has no user tables: pg_stat_user_tables would
    return no row there; pg_stat_database has one per database."""
    queries = load(None, render.DB_CONF["postgres"])["instances"][0]["custom_queries"]
    _assert_valid_custom_queries(queries)
    assert "pg_stat_database" in queries[0]["query"] and "current_database()" in queries[0]["query"]
    assert queries[0]["metric_prefix"] == "postgresql.custom", \
        "metric_prefix keeps the custom metric apart from the integration's own postgresql.seq_scans"


def test_mysql_integration_has_options_and_a_custom_query():
    instance = load(make_settings("mysql"), render.DB_CONF["mysql"])["instances"][0]
    assert (instance["host"], instance["port"], instance["username"]) == ("localhost", 3306, "datadog")
    assert instance["password"] == PASSWORD
    # The option names of integrations-core mysql/datadog_checks/mysql/data/conf.yaml.example
    # (`options:`): the status and InnoDB metrics on; replication and Galera off (one
    # server); schema sizes off (a query over information_schema.tables every run).
    assert instance["options"] == {
        "replication": False, "galera_cluster": False, "extra_status_metrics": True,
        "extra_innodb_metrics": True, "schema_size_metrics": False}, \
        "options is a mapping of booleans (not 0/1 as in the seed) under the check's own names"
    _assert_valid_custom_queries(instance["custom_queries"])
    assert "information_schema.PROCESSLIST" in instance["custom_queries"][0]["query"], \
        "information_schema is always on; performance_schema is off by default on MariaDB"


@pytest.mark.parametrize("kind,other", [("postgres", "mysql"), ("mysql", "postgres")])
def test_only_the_configured_database_integration_is_rendered(kind, other):
    rendered = files(make_settings(kind))
    assert render.DB_CONF[kind] in rendered and render.DB_CONF[other] not in rendered


def test_database_instance_tags_are_key_value_strings():
    tags = load(None, render.DB_CONF["postgres"])["instances"][0]["tags"]
    assert tags and all(TAG.match(t) for t in tags)


# --- the datadog database user ------------------------------------------------------------

def test_postgres_sql_creates_the_role_idempotently_with_pg_monitor():
    sql = render.database_user_sql(make_settings(), PASSWORD).decode()
    assert "IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'datadog')" in sql, \
        "CREATE ROLE only when absent, so a rerun does not fail"
    assert "ALTER ROLE datadog WITH LOGIN PASSWORD" in sql, "a rerun resets the password"
    assert "GRANT pg_monitor TO datadog;" in sql
    assert 'GRANT CONNECT ON DATABASE "postgres" TO datadog;' in sql, \
        "pg_stat_user_tables is per database: the role must connect to dbname"


@pytest.mark.parametrize("kind", ["postgres", "mysql"])
def test_sql_never_contains_the_password(kind):
    """psql and mysql quote a failing statement in their error output, which pulumi-command
    logs: the SQL carries a verifier/hash instead."""
    sql = render.database_user_sql(make_settings(kind), PASSWORD).decode()
    assert PASSWORD not in sql and "canary-pw" not in sql


def test_postgres_sql_sets_the_password_as_a_scram_sha_256_verifier():
    sql = render.database_user_sql(make_settings(), PASSWORD).decode()
    verifier = re.search(r"ALTER ROLE datadog WITH LOGIN PASSWORD '([^']*)';", sql).group(1)
    assert re.fullmatch(r"SCRAM-SHA-256\$4096:[A-Za-z0-9+/=]{24}\$[A-Za-z0-9+/=]{44}:[A-Za-z0-9+/=]{44}",
                        verifier), f"PostgreSQL stores a SCRAM verifier as is: {verifier}"
    assert verifier == db_auth.postgres_verifier(PASSWORD), "the verifier db_auth computes"


def test_mysql_sql_identifies_the_user_by_the_native_password_hash():
    sql = render.database_user_sql(make_settings("mysql"), "password").decode()
    # MySQL's PASSWORD('password'): '*' + upper hex SHA1(SHA1('password'))
    identified = "IDENTIFIED WITH mysql_native_password AS '*2470C0C06DEE42FD1618BB99005ADCA2EC9D1E19'"
    for account in ("'datadog'@'localhost'", "'datadog'@'127.0.0.1'"):
        assert f"CREATE USER IF NOT EXISTS {account} {identified};" in sql
        assert f"ALTER USER {account} {identified} WITH MAX_USER_CONNECTIONS 5;" in sql


def test_mysql_sql_creates_both_local_accounts_with_the_documented_grants():
    sql = render.database_user_sql(make_settings("mysql"), PASSWORD).decode()
    for account in ("'datadog'@'localhost'", "'datadog'@'127.0.0.1'"):
        assert f"CREATE USER IF NOT EXISTS {account}" in sql
        assert re.search(rf"ALTER USER {re.escape(account)} IDENTIFIED WITH .* "
                         r"WITH MAX_USER_CONNECTIONS 5;", sql), "a rerun resets the password"
        assert f"GRANT REPLICATION CLIENT, PROCESS ON *.* TO {account};" in sql
        assert f"GRANT SELECT ON performance_schema.* TO {account};" in sql


# --- secrets, modes, determinism ----------------------------------------------------------

def test_secrets_appear_only_in_the_files_that_need_them():
    for kind in ("postgres", "mysql"):
        rendered = files(make_settings(kind))
        with_key = {p for p, c in rendered.items() if API_KEY.encode() in c}
        with_password = {p for p, c in rendered.items() if b"canary-pw" in c}
        assert with_key == {render.DATADOG_YAML}, "only datadog.yaml needs the API key"
        assert with_password == {render.DB_CONF[kind]}, "only the DB integration needs the password"


def test_bundle_carries_the_api_key_for_the_install_script_only_when_installing_the_agent():
    for install in (False, True):
        members = bundle_members(make_settings(install_agent=install))
        with_key = {n for n, c in members.items() if API_KEY.encode() in c}
        expected = {"files" + render.DATADOG_YAML} | ({"secret.env"} if install else set())
        assert with_key == expected
        with_password = {n for n, c in members.items() if b"canary-pw" in c}
        assert with_password == {"files" + render.DB_CONF["postgres"]}, \
            "database.sql carries a verifier, not the password"


def test_flagged_secret_files_are_exactly_those_with_secrets():
    flagged = {f.path for f in render.agent_files(make_settings(), HOST, API_KEY, PASSWORD) if f.secret}
    assert flagged == {render.DATADOG_YAML, render.DB_CONF["postgres"]}


def test_non_secret_files_do_not_depend_on_the_secrets():
    a = render.agent_files(make_settings(), HOST, "k1", "p1")
    b = render.agent_files(make_settings(), HOST, "k2", "p2")
    assert [f.content for f in a if not f.secret] == [f.content for f in b if not f.secret]


def test_files_are_owned_by_dd_agent_and_not_world_readable_except_the_check():
    attrs = render.file_attributes(make_settings())
    assert attrs[render.CHECK_PY] == (0o644, "dd-agent")
    for path in (render.DATADOG_YAML, render.CHECK_YAML, render.DB_CONF["postgres"]):
        assert attrs[path] == (0o640, "dd-agent"), f"{path} holds config/secrets: 0640 dd-agent"


def test_rendering_is_deterministic():
    assert files() == files()
    assert render.build_bundle(make_settings(), HOST, API_KEY, PASSWORD) == \
        render.build_bundle(make_settings(), HOST, API_KEY, PASSWORD)


def test_bundle_is_an_uncompressed_ustar_tar_with_fixed_metadata():
    """Its sha256 is a trigger: gzip output differs between zlib builds (CI vs a laptop), so
    the bundle is not compressed, and no entry carries a time, a uid or a local user name."""
    data = render.build_bundle(make_settings(), HOST, API_KEY, PASSWORD)
    assert data[257:263] == b"ustar\x00", "a plain POSIX ustar archive, not gzip"
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:
        members = tar.getmembers()
    assert members and all((m.mtime, m.uid, m.gid, m.uname, m.gname) == (0, 0, 0, "root", "root")
                           for m in members)


def test_bundle_manifest_lists_every_installed_file_with_mode_and_owner():
    members = bundle_members(make_settings())
    manifest = [line.split() for line in members["manifest"].decode().splitlines()]
    rendered = files()
    assert {"/" + rel for _, _, _, rel in manifest} == set(rendered)
    for mode, owner, sha, rel in manifest:
        assert members["files/" + rel] == rendered["/" + rel]
        assert sha == render.sha256(rendered["/" + rel]), "a rerun compares the files by hash"
        assert (int(mode, 8), owner) == render.file_attributes(make_settings())["/" + rel]
    assert members["install.sh"] == render.install_script()
    assert b"DB_KIND=postgres\n" in members["settings.env"]


def test_the_bundle_ships_every_part_install_sh_sources():
    """install.sh sources its parts from install.d beside it: a part it names and the bundle
    lacks would stop it on the VM before it changes anything, every time."""
    members = bundle_members(make_settings())
    sourced = re.findall(r'^source "\$PARTS/([\w-]+\.sh)"', render.install_script().decode(), re.M)
    shipped = sorted(path.split("/", 1)[1] for path in members if path.startswith("install.d/"))
    assert sorted(sourced) == shipped and len(set(sourced)) == len(sourced), (sourced, shipped)
    for path in members:
        if path.startswith("install.d/"):
            assert members[path] == (Path(render.__file__).parent / path).read_bytes()


@pytest.mark.parametrize("host, key", [
    (replace(HOST, name="vm1\nINSTALL_AGENT=true"), "HOST_NAME"),
    (replace(HOST, address="192.0.2.10\rDD_SITE=evil.example"), "HOST_ADDRESS"),
])
def test_a_line_break_never_reaches_the_install_scripts_settings(host, key):
    """install.sh reads settings.env a KEY=value line at a time: a value with a line break
    would add a setting of its own (the component can be given values settings.py never saw)."""
    with pytest.raises(ValueError) as refused:
        render.build_bundle(make_settings(), host, API_KEY, PASSWORD)
    assert str(refused.value) == f"{key} must be a single line", \
        "the bundle is refused, naming the value, before any file is written"


@pytest.mark.parametrize("name, quoted", [
    ("my-db", '"my-db"'),  # a hyphen: valid only quoted
    ('we"ird', '"we""ird"'),  # a quote doubled, so the name cannot end the identifier
])
def test_the_database_is_granted_under_its_name_quoted_as_a_postgresql_identifier(name, quoted):
    settings = make_settings(database=replace(make_settings().database, name=name))
    sql = render.database_user_sql(settings, PASSWORD).decode()
    assert f"GRANT CONNECT ON DATABASE {quoted} TO datadog;" in sql, \
        "the name reaches PostgreSQL as one identifier, whatever it holds"


def test_the_bundle_holds_each_directory_once_and_empty():
    """Extracted with the same result either way, but a repeated entry or a directory with a
    size makes the bundle's bytes (and its hash, which the plan compares) differ."""
    data = render.build_bundle(make_settings(), HOST, API_KEY, PASSWORD)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:
        entries = tar.getmembers()
    names = [m.name for m in entries]
    directories = [m for m in entries if m.isdir()]
    assert len(names) == len(set(names)) and len(directories) > 1, "one entry per path"
    assert all(m.size == 0 for m in directories), "a directory entry carries no data"
