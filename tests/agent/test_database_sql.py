"""The datadog-user SQL against a real PostgreSQL and a real MariaDB (Debian packages
`postgresql` and `mariadb-server`), each a throwaway instance in a temp dir on a free
loopback port, run as the packages' own postgres/mysql users. Applied twice, exactly the way
install.sh applies it; then the Agent's view is checked by logging in as datadog.

The SQL carries a SCRAM-SHA-256 verifier (PostgreSQL) or a mysql_native_password hash
(MariaDB/MySQL), never the password: logging in with the plaintext proves the verifier
render.py computed is the one the server would have computed."""
from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

pytest.importorskip("datadog_checks.base", reason="the Agent tier runs in venv-agent (tests/requirements/agent.txt)")
from datadog_checks.base.stubs import aggregator

from agent_files import db_auth, render
from tests import needs
from tests.agent.helpers import API_KEY, HOST, PASSWORD, free_port, make_settings
from tests.agent.standins.datadog_agent import connect, run_custom_queries
from tests.standins.ssh_hosts.databases import mariadb_install_db

# xdist_group: one pytest-xdist worker runs the module (`make test-agent`: --dist
# loadgroup), so each throwaway server below is started once, as without xdist.
pytestmark = [pytest.mark.agent, pytest.mark.xdist_group("database-servers")]
PG_BIN = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
# Non-ASCII, exercising SASLprep: NBSP maps to a space, the soft hyphen to nothing, the "fi"
# ligature NFKC-normalizes to "fi"; PostgreSQL's client and server both apply it.
UNICODE_PASSWORD = "canary-pw-\u00e4\u00f6\u00a0\ufb01\u00ad-\u00df"
# What the Agent's mysql integration can send: PyMySQL encodes a str password as latin-1
# (db_auth.mysql_password_bytes); settings refuse anything else for databaseKind mysql.
LATIN1_PASSWORD = "canary-pw-caf\u00e9-Stra\u00dfe-\u00a7\u00b1\u00ff"
PASSWORDS = {"postgres": UNICODE_PASSWORD, "mysql": LATIN1_PASSWORD}


def driver_login(kind: str, port: int, password: str) -> str:
    """Log in as datadog exactly as the Agent's integration would with the rendered
    conf.yaml (its driver, its arguments: the stand-in Agent's `connect`) and run SELECT 1;
    '' on success, else the driver's error."""
    settings = make_settings(kind)
    settings = replace(settings, database=replace(settings.database, port=port))
    conf = render.render_host_files(settings, HOST, API_KEY, password)[render.DB_CONF[kind]]
    instance = yaml.safe_load(conf)["instances"][0]
    try:
        connection = connect(kind, instance)
    except Exception as exc:  # the driver's own error is the answer
        return f"{type(exc).__name__}: {exc}"
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return "" if cursor.fetchone()[0] == 1 else "SELECT 1 answered otherwise"
    finally:
        connection.close()


@pytest.mark.parametrize("kind", ["postgres", "mysql"])
def test_the_sql_never_contains_the_password(kind):
    """psql and mysql quote a failing statement in their errors, which pulumi-command logs."""
    for password in (PASSWORD, PASSWORDS[kind]):
        sql = render.database_user_sql(make_settings(kind), password).decode()
        assert password not in sql and "canary-pw" not in sql


def _throwaway_dir(owner: str) -> Path:
    base = Path(tempfile.mkdtemp(prefix=f"dd-{owner}-"))
    base.chmod(0o755)
    shutil.chown(base, owner, owner)
    return base


def _run(*args, user=None, check=True, **kwargs):
    """As another user, from "/" (as install.sh does): the caller's directory may be one
    that user cannot enter (a checkout under root's 0700 home), and psql then fails with
    "could not change directory"."""
    cmd = (["runuser", "-u", user, "--"] if user else []) + [str(a) for a in args]
    if user:
        kwargs.setdefault("cwd", "/")
    return subprocess.run(cmd, capture_output=True, text=True, check=check, timeout=120, **kwargs)


# --- PostgreSQL ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def postgres():
    if not PG_BIN:
        pytest.skip(f"PostgreSQL's server is missing: {needs.DEPS}")
    needs.tool("psql")
    needs.root("starting a throwaway cluster as user postgres (runuser)")
    bindir = Path(PG_BIN[-1])
    base = _throwaway_dir("postgres")
    data, port = base / "data", free_port()
    _run(bindir / "initdb", "-D", data, "-U", "postgres", "--auth-local=trust",
         "--auth-host=scram-sha-256", user="postgres")
    _run(bindir / "pg_ctl", "-D", data, "-l", base / "log", "-w", "start", "-o",
         f"-p {port} -k {base} -c listen_addresses=127.0.0.1", user="postgres")
    yield {"socket_dir": base, "port": port}
    _run(bindir / "pg_ctl", "-D", data, "-m", "fast", "-w", "stop", user="postgres", check=False)
    shutil.rmtree(base, ignore_errors=True)


def pg_apply(pg, password: str):
    """As install.sh: psql as postgres, one transaction, SQL on stdin."""
    sql = render.database_user_sql(make_settings(), password).decode()
    return _run("psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "--single-transaction",
                "-h", pg["socket_dir"], "-p", pg["port"], "-d", "postgres", "-f", "-",
                user="postgres", input=sql)


def pg_drop(pg):
    return _run("psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "--single-transaction",
                "-h", pg["socket_dir"], "-p", pg["port"], "-d", "postgres", "-f", "-",
                user="postgres", input=render.database_drop_sql(make_settings()).decode())


def pg_as_datadog(pg, password: str, query: str, check=True):
    env = {**os.environ, "PGPASSWORD": password}
    return _run("psql", "-X", "-At", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", pg["port"],
                "-U", "datadog", "-d", "postgres", "-c", query, env=env, check=check)


def test_postgres_sql_applies_twice_and_datadog_reads_pg_stat_database(postgres):
    pg_apply(postgres, PASSWORD)
    pg_apply(postgres, PASSWORD)  # idempotent: a rerun must not fail
    out = pg_as_datadog(postgres, PASSWORD, "SELECT count(*) > 0 FROM pg_stat_database").stdout
    assert out.strip() == "t", "the datadog role logs in with the quoted password and reads stats"


def test_postgres_sql_rerun_prints_nothing(postgres):
    """A reinstall must not print `NOTICE: role "datadog" is already a member of role
    "pg_monitor"`: users read any output of a deploy as trouble."""
    pg_apply(postgres, PASSWORD)
    rerun = pg_apply(postgres, PASSWORD)
    assert (rerun.stdout, rerun.stderr) == ("", "")


def test_postgres_sql_says_when_it_creates_the_role_and_the_drop_sql_removes_it(postgres):
    pg_apply(postgres, PASSWORD)
    pg_drop(postgres)
    assert pg_as_datadog(postgres, PASSWORD, "SELECT 1", check=False).returncode != 0
    assert pg_apply(postgres, PASSWORD).stdout == render.DB_USER_CREATED + "\n", \
        "install.sh keeps the drop SQL only when this line says the role was created"
    assert pg_drop(postgres).stderr == "" and pg_drop(postgres).returncode == 0, \
        "the drop is quiet, and harmless when the role is already gone"
    roles = _run("psql", "-X", "-At", "-h", postgres["socket_dir"], "-p", postgres["port"],
                 "-d", "postgres", "-c", "SELECT count(*) FROM pg_roles WHERE rolname = 'datadog'",
                 user="postgres").stdout.strip()
    assert roles == "0", "the role and its grants (pg_monitor, CONNECT, SELECT) are gone"
    pg_apply(postgres, PASSWORD)


def test_postgres_datadog_role_is_a_pg_monitor_member(postgres):
    pg_apply(postgres, PASSWORD)
    out = pg_as_datadog(postgres, PASSWORD,
                        "SELECT pg_has_role('datadog', 'pg_monitor', 'member')").stdout
    assert out.strip() == "t", "pg_monitor lets the integration read every pg_stat_* view"


def custom_query_series(kind: str, port: int):
    """The rendered instance's custom_queries, run as datadog (password login over TCP) by
    QueryManager, the integrations' own runner: the series the check would submit."""
    settings = make_settings(kind)
    settings = replace(settings, database=replace(settings.database, port=port))
    files = render.render_host_files(settings, HOST, API_KEY, PASSWORD)
    instance = yaml.safe_load(files[render.DB_CONF[kind]])["instances"][0]
    aggregator.reset()
    run_custom_queries(kind, instance)
    return aggregator.metrics(render.CUSTOM_METRIC[kind])


def test_postgres_custom_query_yields_connections_on_a_fresh_cluster(postgres):
    """The dev stack's databaseName `postgres` holds no user table on a fresh cluster: the
    query must not depend on any (pg_stat_user_tables would return nothing)."""
    pg_apply(postgres, PASSWORD)
    (series,) = custom_query_series("postgres", postgres["port"])
    assert series.value >= 1, "the check's own connection is one of the database's backends"


def test_postgres_stores_the_rendered_scram_verifier_as_is(postgres):
    pg_apply(postgres, PASSWORD)
    stored = _run("psql", "-X", "-At", "-h", postgres["socket_dir"], "-p", postgres["port"],
                  "-d", "postgres", "-c", "SELECT rolpassword FROM pg_authid WHERE rolname = 'datadog'",
                  user="postgres").stdout.strip()
    assert stored == db_auth.postgres_verifier(PASSWORD) and stored.startswith("SCRAM-SHA-256$4096:")


def test_postgres_datadog_logs_in_with_a_non_ascii_password(postgres):
    pg_apply(postgres, UNICODE_PASSWORD)
    assert pg_as_datadog(postgres, UNICODE_PASSWORD, "SELECT 1").stdout.strip() == "1"
    pg_apply(postgres, PASSWORD)


@pytest.mark.parametrize("password", [
    PASSWORD,
    UNICODE_PASSWORD,
    "emoji-\U0001f600-pw",
    "full-width-\uff11\uff12\uff13",
    "caf\u00e9-Stra\u00dfe-pw",
    "  spaces and\ttab  ",
], ids=["quotes", "saslprep", "emoji", "full-width", "latin-1", "whitespace"])
def test_postgres_datadog_logs_in_through_psycopg_with_any_unicode_password(postgres, password):
    pg_apply(postgres, password)
    assert driver_login("postgres", postgres["port"], password) == "", \
        "the verifier render.py computed accepts what psycopg (libpq's SASLprep) sends"
    pg_apply(postgres, PASSWORD)


def pg_backup(pg) -> str:
    """As install.sh: database-backup.sql as postgres; its stdout is the restore SQL."""
    return _run("psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "--single-transaction",
                "-h", pg["socket_dir"], "-p", pg["port"], "-d", "postgres", "-f", "-",
                user="postgres", input=render.database_backup_sql(make_settings()).decode()).stdout


def pg_superuser(pg, sql: str):
    return _run("psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "--single-transaction",
                "-h", pg["socket_dir"], "-p", pg["port"], "-d", "postgres", "-f", "-",
                user="postgres", input=sql)


def test_postgres_backup_then_restore_gives_back_the_previous_password(postgres):
    pg_apply(postgres, PASSWORD)
    restore = pg_backup(postgres)
    pg_apply(postgres, "")  # what CI gets when the secret is unset
    pg_superuser(postgres, restore)
    assert driver_login("postgres", postgres["port"], PASSWORD) == "", \
        "after the restore, the previous password logs in through psycopg again"
    assert driver_login("postgres", postgres["port"], "") != "", "the new one no longer does"


def test_postgres_restore_of_a_role_that_did_not_exist_drops_it(postgres):
    pg_drop(postgres)
    restore = pg_backup(postgres)
    pg_apply(postgres, PASSWORD)
    pg_superuser(postgres, restore)
    roles = pg_superuser(postgres, "SELECT count(*) FROM pg_roles WHERE rolname = 'datadog'").stdout
    assert roles.strip() == "0", "a role the failed install created is gone again"
    pg_apply(postgres, PASSWORD)


def test_postgres_rerun_with_a_new_password_replaces_the_old_one(postgres):
    pg_apply(postgres, PASSWORD)
    pg_apply(postgres, "second-pw'x")
    assert pg_as_datadog(postgres, "second-pw'x", "SELECT 1").returncode == 0
    assert pg_as_datadog(postgres, PASSWORD, "SELECT 1", check=False).returncode != 0, \
        "the old password no longer logs in"
    pg_apply(postgres, PASSWORD)


# --- MariaDB ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def mariadb():
    mariadbd = shutil.which("mariadbd") or shutil.which("mariadbd", path="/usr/sbin")
    if not (mariadbd and shutil.which("mariadb-install-db") and shutil.which("mariadb")):
        pytest.skip(f"MariaDB's server is missing: {needs.DEPS}")
    needs.root("starting a throwaway server as user mysql (runuser)")
    base = _throwaway_dir("mysql")
    data, sock, port = base / "data", base / "mysqld.sock", free_port()
    mariadb_install_db(data)
    server = subprocess.Popen(
        ["runuser", "-u", "mysql", "--", mariadbd, "--no-defaults", f"--datadir={data}",
         f"--socket={sock}", f"--port={port}", "--bind-address=127.0.0.1",
         "--skip-networking=0", f"--pid-file={base}/mysqld.pid", f"--log-error={base}/error.log"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd="/")
    deadline = time.monotonic() + 60
    while _run("mariadb-admin", f"--socket={sock}", "-u", "root", "ping",
               check=False).returncode != 0:
        if time.monotonic() > deadline or server.poll() is not None:
            server.kill()
            pytest.fail("MariaDB did not start: " + (base / "error.log").read_text()[-2000:])
        time.sleep(0.5)
    yield {"socket": sock, "port": port}
    _run("mariadb-admin", f"--socket={sock}", "-u", "root", "shutdown", check=False)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
    shutil.rmtree(base, ignore_errors=True)


def my_apply(db, password: str):
    """As install.sh: `mysql -u root` (unix_socket auth as OS root), SQL on stdin."""
    sql = render.database_user_sql(make_settings("mysql"), password).decode()
    return _run("mariadb", f"--socket={db['socket']}", "-u", "root", "-N", input=sql)


def my_drop(db):
    return _run("mariadb", f"--socket={db['socket']}", "-u", "root", "-N",
                input=render.database_drop_sql(make_settings("mysql")).decode())


def my_as_datadog(db, password: str, query: str, check=True):
    env = {**os.environ, "MYSQL_PWD": password}
    return _run("mariadb", "--protocol=TCP", "-h", "127.0.0.1", "-P", db["port"], "-u", "datadog",
                "-N", "-B", "-e", query, env=env, check=check)


def test_mysql_sql_applies_twice_and_datadog_reads_performance_schema(mariadb):
    my_apply(mariadb, PASSWORD)
    my_apply(mariadb, PASSWORD)  # idempotent: a rerun must not fail
    out = my_as_datadog(mariadb, PASSWORD,
                        "SELECT COUNT(*) >= 0 FROM performance_schema.table_io_waits_summary_by_table")
    assert out.stdout.strip() == "1", "SELECT on performance_schema.* lets the integration read it"


def test_mysql_datadog_has_the_documented_grants_and_connection_limit(mariadb):
    my_apply(mariadb, PASSWORD)
    grants = my_as_datadog(mariadb, PASSWORD, "SHOW GRANTS").stdout
    assert "REPLICATION CLIENT" in grants or "BINLOG MONITOR" in grants, grants
    assert "PROCESS" in grants and "`performance_schema`.*" in grants, grants
    limits = _run("mariadb", f"--socket={mariadb['socket']}", "-u", "root", "-N", "-B", "-e",
                  "SELECT Host, max_user_connections FROM mysql.user WHERE User='datadog' "
                  "ORDER BY Host").stdout.split()
    assert limits == ["127.0.0.1", "5", "localhost", "5"], \
        "both local accounts exist WITH MAX_USER_CONNECTIONS 5"


def test_mysql_custom_query_yields_threads_without_performance_schema(mariadb):
    """MariaDB starts with performance_schema off: the query reads information_schema."""
    my_apply(mariadb, PASSWORD)
    series = custom_query_series("mysql", mariadb["port"])
    assert any(s.value >= 1 and "command:Query" in s.tags for s in series), \
        "the check's own connection is a thread running a Query"


def test_mysql_sql_says_when_it_creates_the_user_and_the_drop_sql_removes_it(mariadb):
    my_apply(mariadb, PASSWORD)
    my_drop(mariadb)
    assert my_apply(mariadb, PASSWORD).stdout == render.DB_USER_CREATED + "\n"
    assert my_apply(mariadb, PASSWORD).stdout == "", "a rerun creates nothing and says nothing"
    my_drop(mariadb)
    users = _run("mariadb", f"--socket={mariadb['socket']}", "-u", "root", "-N", "-B", "-e",
                 "SELECT COUNT(*) FROM mysql.user WHERE User = 'datadog'").stdout.strip()
    assert users == "0", "both accounts are gone"
    my_apply(mariadb, PASSWORD)


def test_debians_mariadb_says_mariadb_in_its_version(mariadb):
    """install.sh accepts a server whose VERSION() names MariaDB (mysql_native_password is
    always there) and refuses MySQL 8.4+; this is the answer Debian's server gives."""
    version = _run("mariadb", f"--socket={mariadb['socket']}", "-u", "root", "-N",
                   input="SELECT VERSION();\n").stdout.strip()
    assert "MariaDB" in version, version


@pytest.mark.parametrize("password", [
    PASSWORD,
    LATIN1_PASSWORD,
    "caf\u00e9-Stra\u00dfe-pw",
    "\u00bfQu\u00e9?-\u00d1and\u00fa-\u00bd",
    "  spaces and\ttab  ",
], ids=["quotes", "latin-1", "cafe-strasse", "spanish", "whitespace"])
def test_mysql_datadog_logs_in_through_pymysql_with_a_latin1_password(mariadb, password):
    my_apply(mariadb, password)
    assert driver_login("mysql", mariadb["port"], password) == "", \
        "the hash is over the latin-1 bytes PyMySQL sends, as the integration connects"
    my_apply(mariadb, PASSWORD)


@pytest.mark.parametrize("password", ["emoji-\U0001f600-pw", "full-width-\uff11\uff12\uff13",
                                      UNICODE_PASSWORD], ids=["emoji", "full-width", "ligature"])
def test_mysql_password_pymysql_cannot_send_is_refused_naming_the_key(password):
    with pytest.raises(ValueError, match=r"^databasePassword: character .* is not latin-1"):
        render.database_user_sql(make_settings("mysql"), password)


def my_backup(db) -> str:
    """As install.sh: database-backup.sql as root; its stdout is the restore SQL."""
    return _run("mariadb", f"--socket={db['socket']}", "-u", "root", "-N",
                input=render.database_backup_sql(make_settings("mysql")).decode()).stdout


def my_superuser(db, sql: str):
    return _run("mariadb", f"--socket={db['socket']}", "-u", "root", "-N", input=sql)


def test_mysql_backup_then_restore_gives_back_the_previous_password(mariadb):
    my_apply(mariadb, LATIN1_PASSWORD)
    restore = my_backup(mariadb)
    my_apply(mariadb, "")  # what CI gets when the secret is unset
    my_superuser(mariadb, restore)
    assert driver_login("mysql", mariadb["port"], LATIN1_PASSWORD) == "", \
        "after the restore, the previous password logs in through PyMySQL again"
    assert driver_login("mysql", mariadb["port"], "") != "", "the new one no longer does"
    my_apply(mariadb, PASSWORD)


def test_mysql_restore_of_a_user_that_did_not_exist_drops_both_accounts(mariadb):
    my_drop(mariadb)
    restore = my_backup(mariadb)
    my_apply(mariadb, PASSWORD)
    my_superuser(mariadb, restore)
    users = my_superuser(mariadb, "SELECT COUNT(*) FROM mysql.user WHERE User = 'datadog'").stdout
    assert users.strip() == "0", "the accounts the failed install created are gone again"
    my_apply(mariadb, PASSWORD)


def test_mysql_backup_refuses_an_account_it_could_not_write_back(mariadb):
    """An authentication string with a quote or backslash would not survive mysql's batch
    output: the backup names it instead (install.sh then changes nothing)."""
    my_apply(mariadb, PASSWORD)
    # As a plugin with binary authentication strings would store it (mysql.global_priv).
    my_superuser(mariadb, "UPDATE mysql.global_priv SET Priv = JSON_SET(Priv, '$.authentication_string', "
                          "'x\\\\y') WHERE User = 'datadog' AND Host = 'localhost'; FLUSH PRIVILEGES;")
    try:
        assert render.DB_UNRESTORABLE + " datadog@localhost" in my_backup(mariadb)
    finally:
        my_apply(mariadb, PASSWORD)


def test_mysql_rerun_with_a_new_password_replaces_the_old_one(mariadb):
    my_apply(mariadb, PASSWORD)
    my_apply(mariadb, "second-pw'x\\")
    assert my_as_datadog(mariadb, "second-pw'x\\", "SELECT 1").returncode == 0
    assert my_as_datadog(mariadb, PASSWORD, "SELECT 1", check=False).returncode != 0, \
        "ALTER USER on rerun: the old password no longer logs in"
    my_apply(mariadb, PASSWORD)
