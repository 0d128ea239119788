"""Fixtures of the Agent tier: stand-in executables and a throwaway root for install.sh."""
from __future__ import annotations

import shutil
import signal
import subprocess
from pathlib import Path

import pytest

from tests import needs
from tests.agent.helpers import PYTHON, STANDINS

def _default_signals() -> None:
    for number in (signal.SIGHUP, signal.SIGINT, signal.SIGTERM):
        signal.signal(number, signal.SIG_DFL)


# The server's side of the datadog user, as the rendered SQL sees it: the file $STANDIN_DIR/<role>
# exists while the user does (STANDIN_USER_EXISTS: it existed before the stack). The SQL's
# guarded SELECT prints the "created" line only when the user is absent; the drop SQL (its
# header says it "removes the Agent's monitoring" user) removes it. The backup SQL, which only
# reads, answers nothing here: there is no stored credential to print.
SERVER_USER_TABLE = (
    'if grep -q "created the datadog user" <<<"$sql"; then '
    '[ -n "${{STANDIN_USER_EXISTS:-}}" ] || [ -e "$STANDIN_DIR/{role}" ] || '
    '{{ echo "datadog-stack: created the datadog user"; : >"$STANDIN_DIR/{role}"; }}; fi; '
    'if grep -q "): removes the Agent" <<<"$sql"; then rm -f "$STANDIN_DIR/{role}"; fi; ')

SCRIPTS = {
    # systemctl: record; fail when asked to. Once per test, when asked to: send a signal to
    # its caller (install.sh) or block until killed (the test signals the process group).
    "systemctl": 'echo "systemctl $*" >>"$STANDIN_LOG"\n'
                 'if [ -n "${STANDIN_SYSTEMCTL_SIGNAL:-}" ] && [ ! -e "$STANDIN_DIR/systemctl.signalled" ]; then\n'
                 '  : >"$STANDIN_DIR/systemctl.signalled"; kill -s "$STANDIN_SYSTEMCTL_SIGNAL" "$PPID"\nfi\n'
                 'if [ -n "${STANDIN_SYSTEMCTL_BLOCK:-}" ] && [ ! -e "$STANDIN_DIR/systemctl.blocked" ]; then\n'
                 '  : >"$STANDIN_DIR/systemctl.blocked"; sleep 60\nfi\n'
                 '[ -z "${STANDIN_SYSTEMCTL_FAIL:-}" ]',
    # runuser -u USER -- CMD...: record the user, run CMD (as root: the tmp root is root-only).
    "runuser": 'user=$2; shift 3; echo "runuser $user $1" >>"$STANDIN_LOG"; exec "$@"',
    # psql / mysql as the DB superuser (install.sh's SQL): record argv, the working directory
    # and the SQL received on stdin. psql can print a given error and, like psql on a syntax
    # error, quote the SQL it received on stderr.
    # As datadog (the stand-in Agent's database check, -U/-u datadog): answer the custom query
    # with one row, or fail the login with the client's message when STANDIN_DB_LOGIN_FAIL is
    # set. Message texts: libpq's "connection to server at \"%s\" (%s), port %s failed: "
    # (src/interfaces/libpq/fe-connect.c, PostgreSQL 14+) + the server's "password
    # authentication failed for user \"%s\"" (src/backend/libpq/auth.c); the mysql client's
    # "ERROR 1045 (28000): Access denied for user ..." (MariaDB/MySQL error ER_ACCESS_DENIED_ERROR).
    "psql": 'case " $* " in *" -U datadog "*)\n'
            '  echo "datadog-login psql" >>"$STANDIN_LOG"\n'
            '  if [ -n "${STANDIN_DB_LOGIN_FAIL:-}" ]; then\n'
            '    echo "psql: error: connection to server at \\"localhost\\" (127.0.0.1), port 5432 failed: '
            'FATAL:  password authentication failed for user \\"datadog\\"" >&2; exit 2\n'
            '  fi\n'
            '  printf "2\\t17\\n"; exit 0;;\n'
            'esac\n'
            'echo "psql $*" >>"$STANDIN_LOG"; echo "$PWD" >>"$STANDIN_DIR/psql.cwd"; '
            'sql=$(cat); printf "%s\\n" "$sql" >>"$STANDIN_DIR/psql.stdin"; '
            # The credentials' backup only reads: the faults below are the SQL's that writes.
            # Its answer (the SQL putting the credentials back) is STANDIN_BACKUP_ANSWER.
            'case "$sql" in *"prints what restores"*) '
            'printf "%s\\n" "${STANDIN_BACKUP_ANSWER-$STANDIN_RESTORE_SQL}"; exit 0;; esac; '
            + SERVER_USER_TABLE.format(role="pg-role") +
            '[ -z "${STANDIN_PSQL_STDERR:-}" ] || printf "%s\\n" "$STANDIN_PSQL_STDERR" >&2; '
            '[ -z "${STANDIN_PSQL_QUOTE_SQL:-}" ] || sed "s/^/psql:<stdin>: ERROR: /" "$STANDIN_DIR/psql.stdin" >&2; '
            'exit "${STANDIN_PSQL_EXIT:-0}"',
    "mysql": 'case " $* " in *" -u datadog "*)\n'
             '  echo "datadog-login mysql" >>"$STANDIN_LOG"\n'
             '  if [ -n "${STANDIN_DB_LOGIN_FAIL:-}" ]; then\n'
             '    echo "ERROR 1045 (28000): Access denied for user \'datadog\'@\'localhost\' (using password: YES)" >&2; exit 1\n'
             '  fi\n'
             '  printf "Query\\t1\\n"; exit 0;;\n'
             'esac\n'
             'echo "mysql $*" >>"$STANDIN_LOG"; sql=$(cat); printf "%s\\n" "$sql" >>"$STANDIN_DIR/mysql.stdin"; '
             # SELECT VERSION(): Debian 12's MariaDB unless a test names another server.
             'if grep -q "VERSION()" <<<"$sql"; then echo "${STANDIN_MYSQL_VERSION:-10.11.6-MariaDB-0+deb12u1}"; exit 0; fi; '
             + SERVER_USER_TABLE.format(role="mysql-user") + 'exit 0',
    # dpkg-query / apt-get over a package database of marker files $STANDIN_DIR/pkg/<name>.
    # dpkg-query(1): -W -f='${Status}' prints "install ok installed" for an installed package
    # and exits 1 with "no packages found matching" for an unknown one; -f='${Package}\n'
    # without a name lists every package. apt-get install <pkg> installs it with its
    # dependency (<pkg>-15: Debian's postgresql pulls postgresql-15), or with
    # STANDIN_APT_FAIL only the dependency, then fails with exit 100 (apt-get's failure
    # status); apt-get purge deletes the named markers.
    "dpkg-query": 'echo "dpkg-query $*" >>"$STANDIN_LOG"; mkdir -p "$STANDIN_DIR/pkg"\n'
                  'if [ $# -eq 2 ]; then ls "$STANDIN_DIR/pkg"; echo base-files; exit 0; fi\n'
                  'if [ -e "$STANDIN_DIR/pkg/$3" ]; then printf "install ok installed"; exit 0; fi\n'
                  'echo "dpkg-query: no packages found matching $3" >&2; exit 1',
    "apt-get": 'echo "apt-get $*" >>"$STANDIN_LOG"; mkdir -p "$STANDIN_DIR/pkg"\n'
               'pkg=${!#}\n'
               'case " $* " in\n'
               '  *" install "*) : >"$STANDIN_DIR/pkg/$pkg-15"\n'
               '    if [ -n "${STANDIN_APT_FAIL:-}" ]; then echo "E: Sub-process /usr/bin/dpkg returned an error code (1)" >&2; exit 100; fi\n'
               '    : >"$STANDIN_DIR/pkg/$pkg" ;;\n'
               '  *" purge "*) for p in "$@"; do rm -f "$STANDIN_DIR/pkg/$p"; done ;;\n'
               'esac',
    # curl -fsSL --retry 3 -o FILE URL: "download" an install script that records what it got
    # in its environment and installs the stand-in datadog-agent.
    "curl": 'echo "curl $*" >>"$STANDIN_LOG"; out=$5; cat >"$out" <<\'SCRIPT\'\n'
            'echo "installer DD_API_KEY=$DD_API_KEY DD_SITE=$DD_SITE" >>"$STANDIN_LOG"\n'
            '[ -z "$STANDIN_INSTALLER_FAIL" ] || exit 4\n'
            'cp "$STANDIN_DIR/datadog-agent.packaged" "$STANDIN_BIN/datadog-agent"\n'
            'SCRIPT',
}


# The stand-in server's answer to database-backup.sql: what install.sh applies to put the
# datadog user's credentials back (a real server prints ALTER ROLE ... PASSWORD '<verifier>').
RESTORE_SQL = "SELECT 'standin: the previous credentials are back';"


@pytest.fixture
def dd_agent_user():
    """install.sh chowns to dd-agent, which the Agent package creates on a VM."""
    needs.root("install.sh (chown dd-agent)")
    if subprocess.run(["id", "dd-agent"], capture_output=True).returncode != 0:
        made = subprocess.run(["useradd", "--system", "--user-group", "--no-create-home",
                               "--shell", "/usr/sbin/nologin", "dd-agent"],
                              capture_output=True, text=True)
        # 9: the name is taken, by the other pytest-xdist worker a moment before (useradd(8)).
        if made.returncode not in (0, 9):
            raise RuntimeError(f"useradd dd-agent failed: {made.stderr.strip()}")


class Env:
    """A throwaway root, stand-in executables and a way to run install.sh against them."""

    def __init__(self, base: Path, with_agent: bool = True):
        self.base = base
        self.root = base / "root"
        self.bin = base / "bin"
        self.log = base / "standin.log"
        self.root.mkdir()
        self.bin.mkdir()
        self.log.touch()
        agent = f'#!/bin/sh\nPYTHONDONTWRITEBYTECODE=1 exec "{PYTHON}" "{STANDINS / "datadog_agent.py"}" "$@"\n'
        (base / "datadog-agent.packaged").write_text(agent)
        (base / "datadog-agent.packaged").chmod(0o755)
        if with_agent:
            shutil.copy(base / "datadog-agent.packaged", self.bin / "datadog-agent")
        for name, body in SCRIPTS.items():
            (self.bin / name).write_text(f"#!/bin/bash\n{body}\n")
            (self.bin / name).chmod(0o755)
        # What the Agent package leaves behind before this stack touches anything.
        etc = self.root / "etc/datadog-agent"
        (etc / "checks.d").mkdir(parents=True)
        (etc / "conf.d/postgres.d").mkdir(parents=True)
        (etc / "conf.d/mysql.d").mkdir(parents=True)
        (etc / "datadog.yaml").write_bytes(b"# packaged datadog.yaml\napi_key: old\n")
        shutil.chown(etc / "datadog.yaml", "dd-agent", "dd-agent")
        (etc / "datadog.yaml").chmod(0o640)
        (etc / "conf.d/postgres.d/conf.yaml.example").write_text("init_config:\n")

    def run(self, action: str, bundle: Path, **extra_env) -> subprocess.CompletedProcess:
        return subprocess.run(["bash", str(bundle / "install.sh"), action, str(bundle)],
                              env=self.environ(**extra_env), capture_output=True, text=True,
                              timeout=120)

    def start(self, action: str, bundle: Path, **extra_env) -> subprocess.Popen:
        """install.sh in its own process group (as an SSH session's command), not waited for.

        With the signals' default dispositions, as sshd gives a session's command: a runner
        started under `nohup` ignores SIGHUP, every child inherits that, and bash cannot trap
        a signal ignored on entry (bash(1), SIGNALS), so a HUP test would wait forever."""
        return subprocess.Popen(["bash", str(bundle / "install.sh"), action, str(bundle)],
                                env=self.environ(**extra_env), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, start_new_session=True,
                                preexec_fn=_default_signals)

    def environ(self, **extra_env) -> dict[str, str]:
        return {
            "PATH": f"{self.bin}:/usr/sbin:/usr/bin:/sbin:/bin",
            "DD_STACK_ROOT": str(self.root),
            "DD_STACK_VERIFY_ATTEMPTS": "2",
            "DD_STACK_VERIFY_DELAY": "0",
            "STANDIN_LOG": str(self.log),
            "STANDIN_DIR": str(self.base),
            "STANDIN_BIN": str(self.bin),
            "STANDIN_INSTALLER_FAIL": "",
            # No database server here: the stand-in Agent's database check logs in through
            # the stand-in psql/mysql above instead of the integrations' drivers.
            "DD_STANDIN_DB_LOGIN": "client",
            "STANDIN_RESTORE_SQL": RESTORE_SQL,
            **extra_env,
        }

    def calls(self, prefix: str) -> list[str]:
        return [l for l in self.log.read_text().splitlines() if l.startswith(prefix)]

    def snapshot(self) -> dict[str, tuple]:
        """Every file under the root's /etc: bytes, mode, owner, mtime and inode."""
        out = {}
        for path in sorted((self.root / "etc").rglob("*")):
            if path.is_file():
                st = path.stat()
                out[str(path.relative_to(self.root))] = (
                    path.read_bytes(), oct(st.st_mode & 0o7777), st.st_uid, st.st_gid,
                    st.st_mtime_ns, st.st_ino)
        return out


@pytest.fixture
def env(tmp_path, dd_agent_user):
    return Env(tmp_path)


@pytest.fixture
def env_without_agent(tmp_path, dd_agent_user):
    return Env(tmp_path, with_agent=False)
