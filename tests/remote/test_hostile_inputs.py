"""Hostile values through the real path: the offline plan's Agent commands (the bundle copy
and install.sh, as AgentHost declares them) over real SSH into the SSH test hosts, the SQL
on their real PostgreSQL and MariaDB, then a login through the integration's own driver
(psycopg 3 / PyMySQL, the stand-in Agent's `connect`: Host.database_logins).

A case is one line of a table: (id, password). Every password is deployed in turn on one
host per database kind, each replacing the one before; then a deploy whose database check
fails must leave the previous password working. The app's commands are left out: nothing
in them reads the database password.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.remote.conftest import start_hosts
from tests.remote.runner import Engine, plan
from tests.standins.ssh_hosts import SUDO_USER, HostSpec

pytestmark = pytest.mark.remote

# Both kinds: shell, SQL, YAML and format-string metacharacters, and YAML 1.1 scalars that a
# careless dump would turn into a boolean, a null or a number.
ANY_KIND = [
    ("sql-quote-and-comment", "pw'; DROP ROLE datadog; --"),
    ("shell-substitution", "$(touch /tmp/pwned)`id`;|&>"),
    ("quotes-and-backslashes", 'pw"\\"\\\\n\'\''),
    ("yaml-flow-and-comment", "- [a, b]: {c: d} # not a comment"),
    ("yaml-anchor-and-tag", "&a *a !!python/object:os.system"),
    ("yaml-boolean", "yes"),
    ("yaml-null", "~"),
    ("yaml-octal", "0777"),
    ("format-strings", "%s%n{0}${HOME}"),
    ("surrounding-spaces", "  leading and trailing  "),
]
# PostgreSQL: any Unicode (libpq and the server both apply SASLprep, or both fall back to
# the raw UTF-8 bytes where SASLprep refuses the string, as for the mixed-direction one).
POSTGRES_ONLY = [
    ("emoji", "pw-\U0001f600-\U0001f418"),
    ("full-width-digits", "\uff11\uff12\uff13-pw"),
    ("saslprep-mapped", "pw\u00a0\ufb01\u00ad-x"),
    ("mixed-direction", "\u05e1\u05d9\u05e1\u05de\u05d4-pw"),
]
# MySQL/MariaDB: latin-1, what PyMySQL can send (anything else is refused by settings).
MYSQL_ONLY = [
    ("latin-1", "caf\u00e9-Stra\u00dfe-pw"),
    ("latin-1-symbols", "\u00bfQu\u00e9? \u00b1\u00a7 \u00ff"),
]
CASES = {"postgres": ANY_KIND + POSTGRES_ONLY, "mysql": ANY_KIND + MYSQL_ONLY}
TABLE = [(kind, case_id, password) for kind, cases in CASES.items() for case_id, password in cases]
# The deploy that fails (its database check), after the last case.
FAILING_PASSWORD = "never-works-'\"$(id)"
CHECK_MESSAGE = "Error: canary failure of the database check (stand-in Agent)"


@pytest.fixture(scope="module")
def hosts():
    with start_hosts([HostSpec(database="postgres"),
                      HostSpec(user=SUDO_USER, database="mysql")]) as started:
        yield started


def host_of(hosts, kind):
    return next(h for h in hosts if h.spec.database == kind)


def agent_commands(hosts, kind, password):
    """The plan's Agent commands (teardown, bundle, install) for the host of `kind`."""
    commands, _ = plan([host_of(hosts, kind)], hosts.private_key, databaseKind=kind,
                       databasePassword=password)
    return [c for c in commands if "-agent-" in c.name]


def deploy_all(host, plans) -> dict:
    """Each case's password deployed in turn; then a deploy whose database check fails, and
    its rerun; what each step left behind, logged in through the driver. `plans`: the Agent
    commands per case id, and for "failing" (planned beforehand: the mock runtime the plan
    runs in wants the main thread)."""
    kind, engine = host.spec.database, Engine()
    record, previous = {}, None
    for case_id, password in CASES[kind]:
        outcome = engine.up(plans[case_id])
        logins = host.database_logins([password] if previous is None else [password, previous])
        record[case_id] = {
            "errors": [r.error for r in outcome.failed],
            "output": "".join(r.stdout + r.stderr for r in outcome.results),
            "login": logins[0],
            "previous_login": None if previous is None else logins[1],
        }
        previous = password
    conf = host.path(f"/etc/datadog-agent/conf.d/{kind}.d/conf.yaml").read_bytes()
    host.fail_agent_check(CHECK_MESSAGE, check=kind)
    try:
        outcome = engine.up(plans["failing"])
    finally:
        host.fail_agent_check(None, check=kind)
    previous_login, new_login = host.database_logins([previous, FAILING_PASSWORD])
    record["failed deploy"] = {
        "errors": [r.error for r in outcome.failed],
        "previous_login": previous_login,
        "new_login": new_login,
        "conf_kept": host.path(f"/etc/datadog-agent/conf.d/{kind}.d/conf.yaml").read_bytes() == conf,
    }
    rerun = engine.up(plans["failing"])
    record["rerun"] = {"errors": [r.error for r in rerun.failed],
                       "login": host.database_login(FAILING_PASSWORD)}
    return record


@pytest.fixture(scope="module")
def deployed(hosts):
    plans = {kind: {case_id: agent_commands(hosts, kind, password)
                    for case_id, password in [*cases, ("failing", FAILING_PASSWORD)]}
             for kind, cases in CASES.items()}
    with ThreadPoolExecutor(max_workers=2) as pool:  # one host per kind, side by side
        futures = {kind: pool.submit(deploy_all, host_of(hosts, kind), plans[kind])
                   for kind in CASES}
        return {kind: future.result() for kind, future in futures.items()}


def ids(table):
    return [f"{kind}-{case_id}" for kind, case_id, _ in table]


@pytest.mark.parametrize("kind,case_id,password", TABLE, ids=ids(TABLE))
def test_a_hostile_password_deploys(deployed, kind, case_id, password):
    assert deployed[kind][case_id]["errors"] == [], \
        f"{kind}: the password {password!r} must deploy (or be refused by settings)"


@pytest.mark.parametrize("kind,case_id,password", TABLE, ids=ids(TABLE))
def test_the_integrations_driver_logs_in_with_the_deployed_password(deployed, kind, case_id, password):
    assert deployed[kind][case_id]["login"] == "", \
        f"{kind}: the Agent's driver must log in with exactly {password!r}"


@pytest.mark.parametrize("kind,case_id,password", [row for row in TABLE if row[1] != CASES[row[0]][0][0]],
                         ids=ids([row for row in TABLE if row[1] != CASES[row[0]][0][0]]))
def test_a_new_password_replaces_the_one_before(deployed, kind, case_id, password):
    assert deployed[kind][case_id]["previous_login"] != "", \
        f"{kind}: once {password!r} is deployed, the password before it no longer logs in"


@pytest.mark.parametrize("kind,case_id,password", [row for row in TABLE if len(row[2]) >= 8],
                         ids=ids([row for row in TABLE if len(row[2]) >= 8]))
def test_no_command_output_shows_the_password(deployed, kind, case_id, password):
    assert password not in deployed[kind][case_id]["output"], \
        f"{kind}: a secret never appears in what pulumi-command logs"


@pytest.mark.parametrize("kind", sorted(CASES))
def test_a_deploy_whose_database_check_fails_fails(deployed, kind):
    errors = deployed[kind]["failed deploy"]["errors"]
    assert len(errors) == 1 and CHECK_MESSAGE in errors[0], errors


@pytest.mark.parametrize("kind", sorted(CASES))
def test_after_a_failed_deploy_the_previous_password_still_logs_in(deployed, kind):
    assert deployed[kind]["failed deploy"]["previous_login"] == "", \
        f"{kind}: nothing lost: the database user's previous credentials are restored"


@pytest.mark.parametrize("kind", sorted(CASES))
def test_after_a_failed_deploy_the_new_password_does_not_log_in(deployed, kind):
    assert deployed[kind]["failed deploy"]["new_login"] != "", \
        f"{kind}: the failed deploy's password is taken back with its files"


@pytest.mark.parametrize("kind", sorted(CASES))
def test_after_a_failed_deploy_the_integrations_conf_is_the_previous_one(deployed, kind):
    assert deployed[kind]["failed deploy"]["conf_kept"], \
        f"{kind}: the Agent's conf.yaml and the database agree on the previous password"


@pytest.mark.parametrize("kind", sorted(CASES))
def test_a_rerun_after_the_failed_deploy_converges_on_the_new_password(deployed, kind):
    assert deployed[kind]["rerun"] == {"errors": [], "login": ""}, deployed[kind]["rerun"]
