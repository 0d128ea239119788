"""Each test host's local database server: a real PostgreSQL or MariaDB (Debian packages),
started from a template data directory made once per process and kind (initdb or
mariadb-install-db take seconds of CPU; a copy and a start take well under one), so the
remote tier's modules, each with its own host set, share one (docs/testing.md).

No TCP: the server listens only on its Unix socket, in a directory that the host's mount
namespace shows where the Debian clients look for the local server -- /run/postgresql
(`psql -p 5432` opens /run/postgresql/.s.PGSQL.5432) and /run/mysqld/mysqld.sock (the
`socket` of Debian's /etc/mysql/my.cnf) -- so `runuser -u postgres psql` and
`mysql -u root` in install.sh reach this host's server, as on a VM.
"""
from __future__ import annotations

import atexit
import glob
import shutil
import subprocess
import tempfile
import threading
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

PG_PORT = 5432  # names the socket file; the stack's default databasePort
MYSQL_PORT = 3306  # the stack's default databasePort for mysql


def _run(*args, user: str | None = None, **kwargs) -> subprocess.CompletedProcess:
    cmd = (["runuser", "-u", user, "--"] if user else []) + [str(a) for a in args]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, **kwargs)
    if done.returncode:
        raise RuntimeError(f"{' '.join(cmd)} failed: {done.stderr.strip() or done.stdout.strip()}")
    return done


def _owned_dir(path: Path, owner: str) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    shutil.chown(path, owner, owner)
    path.chmod(0o755)
    return path


def _pg_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
    if not found:
        raise FileNotFoundError("PostgreSQL binaries absent: apt-get install postgresql")
    return Path(found[-1])


def _mariadbd() -> str:
    found = shutil.which("mariadbd", path="/usr/sbin:/usr/bin")
    if not found or not shutil.which("mariadb-install-db"):
        raise FileNotFoundError("MariaDB binaries absent: apt-get install mariadb-server")
    return found


# kind -> its initialised data directory, made by the first host set that needs it and only
# ever copied (start() runs each server on a copy); removed when the process exits.
_MADE: dict[str, Path] = {}
_MADE_LOCK = threading.Lock()


def _template_base() -> Path:
    if "base" not in _MADE:
        # Traversable by the database servers' users (as TestHosts' own base directory).
        base = _MADE["base"] = Path(tempfile.mkdtemp(prefix="ssh-test-hosts-templates-"))
        base.chmod(0o755)
        atexit.register(shutil.rmtree, base, ignore_errors=True)
    return _MADE["base"]


class Templates:
    """Initialised data directories, one per database kind the hosts use, made once per
    process (_MADE) outside the host set's `base`, which outlives no module."""

    def __init__(self, base: Path, kinds: set[str], progress):
        def make(kind: str) -> None:
            started = time.monotonic()
            _MADE[kind] = (_pg_template if kind == "postgres" else _mysql_template)(_template_base())
            progress(f"ssh test hosts: {kind} template data directory "
                     f"[{time.monotonic() - started:.1f} s]")

        with _MADE_LOCK:
            missing = sorted(kinds - set(_MADE))
            _template_base()
            # Both kinds side by side: each mostly waits on the disk and its bootstrap server.
            with ThreadPoolExecutor(max_workers=2) as pool:
                list(pool.map(make, missing))
            self.dirs: dict[str, Path] = {kind: _MADE[kind] for kind in kinds}


def _pg_template(base: Path) -> Path:
    data = _owned_dir(base / "templates" / "postgres", "postgres")
    # --no-sync: a throwaway directory, only ever copied (the servers run with fsync=off).
    _run(_pg_bin() / "initdb", "--no-sync", "-D", data, "-U", "postgres", "--auth-local=peer",
         "--auth-host=scram-sha-256", user="postgres")
    # The datadog user logs in with its password (checked by the tests); postgres by peer.
    (data / "pg_hba.conf").write_text("local all postgres peer\nlocal all all scram-sha-256\n")
    return data


def mariadb_install_db(data: Path) -> None:
    """MariaDB's system tables in `data` (owned by mysql; root logs in by unix socket).

    Once the CI run of 2026-12-05 saw this exit 1 in the agent tier while the remote
    tier's identical call, minutes later, passed; pytest showed no output (a
    CalledProcessError carries none in its message). So the failure says what the script
    printed (its own errors go to stdout, the bootstrap server's to stderr), and a second
    try on a clean directory tells a passing hiccup from a broken install: the warning
    keeps the first failure visible in the test report either way."""
    argv = ["mariadb-install-db", "--no-defaults", f"--datadir={data}", "--user=mysql",
            "--auth-root-authentication-method=socket", "--skip-test-db"]
    for attempt in (1, 2):
        done = subprocess.run(argv, capture_output=True, text=True, timeout=120, cwd="/")
        if done.returncode == 0:
            return
        said = f"{done.stdout.strip()[-1500:]}\n{done.stderr.strip()[-1500:]}".strip()
        if attempt == 2:
            raise RuntimeError(f"{' '.join(argv)} failed twice, exit {done.returncode}: {said}")
        warnings.warn(f"{' '.join(argv)} failed (exit {done.returncode}); retrying on a "
                      f"clean directory: {said}")
        shutil.rmtree(data, ignore_errors=True)


def _mysql_template(base: Path) -> Path:
    _mariadbd()
    data = base / "templates" / "mysql"
    mariadb_install_db(data)
    return data


class Database:
    """A running server: `socket_dir` (here) is bound at `mountpoint` (in the host).

    The Agent's integration connects over TCP to localhost:<port> (its conf.yaml);
    `tcp_forward` is the command that, run inside the host's network namespace, serves that
    port by relaying to the socket, as a server listening on localhost would."""

    def __init__(self, kind: str, socket_dir: Path, mountpoint: str, socket_name: str,
                 port: int, stop, pid: int):
        self.kind, self.socket_dir, self.mountpoint, self._stop = kind, socket_dir, mountpoint, stop
        self.pid = pid  # the server's main process (postmaster, mariadbd)
        self.tcp_forward = (f"socat TCP-LISTEN:{port},bind=127.0.0.1,reuseaddr,fork "
                            f"UNIX-CONNECT:{mountpoint}/{socket_name}")

    def stop(self) -> None:
        self._stop()


def start(kind: str, base: Path, templates: Templates) -> Database:
    return (_start_postgres if kind == "postgres" else _start_mysql)(base, templates.dirs[kind])


def _start_postgres(base: Path, template: Path) -> Database:
    sock = _owned_dir(base / "pgsock", "postgres")
    data = base / "pgdata"
    _run("cp", "-a", template, data)
    options = (f"-p {PG_PORT} -k {sock} -c listen_addresses='' -c shared_buffers=16MB "
               "-c max_connections=20 -c fsync=off")
    _run(_pg_bin() / "pg_ctl", "-D", data, "-l", data / "server.log", "-w", "start",
         "-o", options, user="postgres")

    def stop():
        subprocess.run(["runuser", "-u", "postgres", "--", str(_pg_bin() / "pg_ctl"), "-D",
                        str(data), "-m", "immediate", "-w", "stop"], capture_output=True, timeout=60)
    # postmaster.pid's first line is the server's pid (PostgreSQL docs: "Database File Layout").
    pid = int((data / "postmaster.pid").read_text().split()[0])
    return Database("postgres", sock, "/run/postgresql", f".s.PGSQL.{PG_PORT}", PG_PORT, stop, pid)


def _start_mysql(base: Path, template: Path) -> Database:
    sock = _owned_dir(base / "mysqlsock", "mysql")
    data = base / "mysqldata"
    _run("cp", "-a", template, data)
    server = subprocess.Popen(
        [_mariadbd(), "--no-defaults", "--user=mysql", f"--datadir={data}",
         f"--socket={sock}/mysqld.sock", "--skip-networking", f"--pid-file={sock}/mysqld.pid",
         f"--log-error={base}/mariadb.log",
         "--innodb-buffer-pool-size=16M", "--innodb-log-file-size=8M"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(300):
        ping = subprocess.run(["mariadb", "--no-defaults", "-S", f"{sock}/mysqld.sock", "-u", "root",
                               "-e", "SELECT 1"], capture_output=True)
        if ping.returncode == 0:
            break
        if server.poll() is not None:
            raise RuntimeError(f"mariadbd exited: {(base / 'mariadb.log').read_text()[-2000:]}")
        time.sleep(0.1)
    else:
        raise RuntimeError("mariadbd did not answer on its socket within 30 s")

    def stop():
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
    return Database("mysql", sock, "/run/mysqld", "mysqld.sock", MYSQL_PORT, stop, server.pid)
