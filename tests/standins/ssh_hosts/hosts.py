"""SSH test hosts: N "VMs" on this machine, each reached over real SSH, none able to touch
this machine's files.

Each host is a pair of Linux namespaces (mount + network) held open by a `sleep` process
made with `unshare`:

* the mount namespace lays a throwaway overlay over /etc, /var, /opt, /usr, /root and /home
  (writes land in the host's own upper directory; this machine's files are the read-only
  lower layer) and fresh tmpfs over /run and /tmp;
* the network namespace has only its own loopback, so every host's Flask app can listen
  on the stack's one `apmPort` without colliding with another host's, and no host has a
  route to PyPI or anywhere else (`pip_index_error` shows it): the app installs from the
  wheel set the stack copies, as on a VM with no PyPI.

SSH: a listener on the host's own loopback address and port (127.0.0.x, or 127.0.<n>.x in
pytest-xdist's worker n-1: see _address, in this machine's network namespace) hands each connection to a fresh Debian `sshd -i` (OpenSSH's inetd mode,
sshd(8)) started inside the host's namespaces, so the whole session -- the login shell,
`sudo -n`, everything it runs -- sees only the host's view. Key login only, generated host
and client keys. sshd logs to the host's session log (outside its view), one
"Accepted publickey" line per session, which is how tests count SSH sessions.

CPU (`TestHosts(..., cpu_accounting=True)`, for the benchmarks): each host's own cgroup
(cgroups.py) holds its namespaces' processes, its database server and every SSH session's
sshd with all it runs, so `cpu_seconds()` is what the host itself spent, as a VM's own CPU
would, apart from the process that holds the hosts.

Inside: the stand-ins of `executables/` (systemctl, journalctl, curl, the Agent's install script)
first on PATH (/usr/local/sbin), the Agent tier's stand-in `datadog-agent`, and a real
PostgreSQL or MariaDB server per host (see databases.py) whose socket is where the Debian
clients look for the local server (/run/postgresql, /run/mysqld).
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import yaml

from tests.standins.ssh_hosts import cgroups, databases, view

REPO = Path(__file__).resolve().parents[3]
BIN = Path(__file__).resolve().parent / "executables"
AGENT_STANDINS = REPO / "tests/agent/standins"
AGENT_PYTHON = REPO / "venv-agent/bin/python"
# Where the host sees, read-only, what it needs from this checkout (which may itself be under
# /home, /root or /tmp, the host's own): the Agent tier's stand-in, venv-agent.
SHARED = "/usr/local/share/standin"
OVERLAID = ("etc", "var", "opt", "usr")  # this machine's, read-only, under the host's changes
PRIVATE = ("root", "home")  # the host's own, from /etc/skel: nothing of this machine's users
SUDO_USER = "deployer"
# What the Agent package leaves in /etc/datadog-agent before this stack touches anything.
PACKAGED = {
    "datadog.yaml": b"# packaged datadog.yaml\napi_key:\n",
    "conf.d/postgres.d/conf.yaml.example": b"init_config:\ninstances: []\n",
    "conf.d/mysql.d/conf.yaml.example": b"init_config:\ninstances: []\n",
}


@dataclass(frozen=True)
class HostSpec:
    """One test host: the SSH user (root, or SUDO_USER with passwordless `sudo -n`), the
    local database server, and whether the Agent package is already installed."""
    user: str = "root"
    database: str = "postgres"
    agent_installed: bool = True


def _run(*args, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([str(a) for a in args], check=True, capture_output=True, text=True,
                          timeout=120, **kwargs)


def _free_port(address: str) -> int:
    with socket.socket() as s:
        s.bind((address, 0))
        return s.getsockname()[1]


def _address(index: int) -> str:
    """Host `index`'s loopback address: 127.0.0.(10+index), or 127.0.(n+1).(10+index) in
    pytest-xdist's worker gw<n>, so two workers' host sets never pick their ports (below) on
    the same address."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    subnet = int(worker[2:]) + 1 if worker.startswith("gw") and worker[2:].isdigit() else 0
    return f"127.0.{subnet}.{10 + index}"


def _free_id(taken: set[int], start: int) -> int:
    while start in taken:
        start += 1
    return start


class Host:
    """One SSH test host. `address`, `port`, `user`: how to reach it; `path(p)`: where the
    host's `p` is seen from here; `sessions()`: SSH sessions so far."""

    def __init__(self, name: str, index: int, spec: HostSpec, base: Path, client_pub: str,
                 templates: databases.Templates):
        self.name, self.spec, self.base = name, spec, base
        self.user = spec.user
        self.address = _address(index)
        self.port = _free_port(self.address)
        self.control = base / "control"  # the host's /run/standin: stand-in logs and faults
        self.session_log = base / "sshd.log"
        self._holder: subprocess.Popen | None = None
        self._listener: socket.socket | None = None
        self._sessions: list[subprocess.Popen] = []
        self._lock = threading.Lock()
        self.cgroup: cgroups.CpuGroup | None = None  # set by TestHosts(cpu_accounting=True)
        self._build_image(client_pub)
        self.database = databases.start(spec.database, base, templates)
        self._enter_namespaces()
        self.start_sshd()

    # --- the host's image ---------------------------------------------------------------

    def _upper(self, layer: str) -> Path:
        return self.base / "upper" / layer

    def _build_image(self, client_pub: str) -> None:
        for layer in OVERLAID:
            self._upper(layer).mkdir(parents=True)
            (self.base / "work" / layer).mkdir(parents=True)
        for layer in PRIVATE:
            self._upper(layer).mkdir(parents=True)
        self._upper("root").chmod(0o700)
        for dotfile in (".bashrc", ".profile"):
            shutil.copy(Path("/etc/skel") / dotfile, self._upper("root") / dotfile)
        for d in ("control/journal", "control/pids"):
            (self.base / d).mkdir(parents=True)
        (self.control / "agent.log").touch(mode=0o666)
        (self.control / "agent.log").chmod(0o666)
        self.session_log.touch()
        etc = self._upper("etc")
        users = self._write_accounts(etc)
        self.dd_agent_uid = users["dd-agent"]
        ssh = etc / "ssh"
        (ssh / "authorized_keys").mkdir(parents=True)
        _run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", self.name,
             "-f", ssh / "ssh_host_ed25519_key")
        (ssh / "authorized_keys" / self.user).write_text(client_pub)
        (ssh / "sshd_config").write_text(SSHD_CONFIG)
        if self.user != "root":
            sudoers = etc / "sudoers.d"
            sudoers.mkdir()
            (sudoers / "standin-deployer").write_text(f"{self.user} ALL=(ALL:ALL) NOPASSWD: ALL\n")
            (sudoers / "standin-deployer").chmod(0o440)
            home = self._upper("home") / self.user
            shutil.copytree("/etc/skel", home)
            for path in [home, *home.iterdir()]:
                os.chown(path, users[self.user], users[self.user], follow_symlinks=False)
        if self.spec.agent_installed:
            self._install_packaged_agent(etc, users["dd-agent"])
        sbin = self._upper("usr") / "local/sbin"
        share = self._upper("usr") / "local/share/standin"
        sbin.mkdir(parents=True)
        share.mkdir(parents=True)
        for tool in ("systemctl", "journalctl", "curl"):
            shutil.copy(BIN / tool, sbin / tool)
        installer = (BIN / "install_script_agent7.sh").read_text()
        (share / "install_script_agent7.sh").write_text(
            installer.replace("@DD_AGENT_UID@", str(self.dd_agent_uid)))
        (share / "install_script_agent7.sh").chmod(0o755)
        agent = (BIN / "datadog-agent").read_text() \
            .replace("@PYTHON@", f"{SHARED}/venv-agent/bin/python") \
            .replace("@STANDIN@", f"{SHARED}/agent-standins/datadog_agent.py")
        self._shared = {"agent-standins": AGENT_STANDINS,
                        "venv-agent": Path(os.path.realpath(REPO / "venv-agent"))}
        for name in self._shared:
            (share / name).mkdir()
        (share / "datadog-agent").write_text(agent)
        (share / "datadog-agent").chmod(0o755)
        if self.spec.agent_installed:  # the package's /usr/bin/datadog-agent
            (self._upper("usr") / "bin").mkdir()
            shutil.copy(share / "datadog-agent", self._upper("usr") / "bin/datadog-agent")

    def _write_accounts(self, etc: Path) -> dict[str, int]:
        """passwd/group/shadow: this machine's, plus the SSH user and (with the Agent
        package) dd-agent; without the package, no dd-agent: its installer creates it, with
        the uid chosen here (self.dd_agent_uid)."""
        passwd = [l for l in Path("/etc/passwd").read_text().splitlines()
                  if not l.startswith(("dd-agent:", f"{SUDO_USER}:"))]
        group = [l for l in Path("/etc/group").read_text().splitlines()
                 if not l.startswith(("dd-agent:", f"{SUDO_USER}:"))]
        shadow = [l for l in Path("/etc/shadow").read_text().splitlines()
                  if not l.startswith(("dd-agent:", f"{SUDO_USER}:"))]
        taken = {int(l.split(":")[2]) for l in passwd} | {int(l.split(":")[2]) for l in group}
        ids: dict[str, int] = {}
        for user in ([SUDO_USER] if self.user != "root" else []) + ["dd-agent"]:
            uid = ids[user] = _free_id(taken, 990 if user == "dd-agent" else 2000)
            taken.add(uid)
            if user == "dd-agent" and not self.spec.agent_installed:
                continue
            home, shell = (("/opt/datadog-agent", "/usr/sbin/nologin") if user == "dd-agent"
                           else (f"/home/{user}", "/bin/bash"))
            passwd.append(f"{user}:x:{uid}:{uid}::{home}:{shell}")
            group.append(f"{user}:x:{uid}:")
            shadow.append(f"{user}:*:20000:0:99999:7:::")  # no password, not locked
        (etc / "passwd").write_text("\n".join(passwd) + "\n")
        (etc / "group").write_text("\n".join(group) + "\n")
        (etc / "shadow").write_text("\n".join(shadow) + "\n")
        (etc / "passwd").chmod(0o644)
        (etc / "group").chmod(0o644)
        (etc / "shadow").chmod(0o640)
        shutil.chown(etc / "shadow", "root", "shadow")
        return ids

    def _install_packaged_agent(self, etc: Path, dd_agent: int) -> None:
        agent = etc / "datadog-agent"
        (agent / "checks.d").mkdir(parents=True)
        for rel, content in PACKAGED.items():
            (agent / rel).parent.mkdir(parents=True, exist_ok=True)
            (agent / rel).write_bytes(content)
        for path in [agent, *agent.rglob("*")]:
            os.chown(path, dd_agent, dd_agent)
        (agent / "datadog.yaml").chmod(0o640)

    # --- namespaces and sshd ------------------------------------------------------------

    def _interpreter_binds(self) -> list[str]:
        """The stand-in Agent's interpreter, when it lives in a home directory (pyenv): shown
        read-only at the same path, or venv-agent cannot start inside the host."""
        prefix = Path(os.path.realpath(AGENT_PYTHON)).parents[1]
        if not str(prefix).startswith(tuple(f"/{layer}/" for layer in PRIVATE)):
            return []
        layer, rel = str(prefix).lstrip("/").split("/", 1)
        target = self._upper(layer) / rel  # mounted here, then shown with the whole home
        target.mkdir(parents=True)
        # dd-agent runs it too: it may traverse the home (an ACL entry), nobody else (0700
        # as on Debian, so psql run as postgres still cannot enter /root).
        _allow_traverse(self._upper(layer), self.dd_agent_uid)
        return [f"mount --bind {prefix} {target}", f"mount -o remount,bind,ro {target}"]

    def _enter_namespaces(self) -> None:
        mounts = [f"mount -t overlay overlay -o lowerdir=/{layer},upperdir={self._upper(layer)},"
                  f"workdir={self.base / 'work' / layer} /{layer}" for layer in OVERLAID]
        script = "\n".join([
            "set -e",
            "ip link set lo up",
            *mounts,
            *[command for name, source in self._shared.items()
              for command in (f"mount --bind {source} {SHARED}/{name}",
                              f"mount -o remount,bind,ro {SHARED}/{name}")],
            *self._interpreter_binds(),
            *[f"mount --rbind {self._upper(layer)} /{layer}" for layer in PRIVATE],
            "mount -t tmpfs -o mode=0755 standin-run /run",
            "mkdir -p /run/sshd /run/systemd/system /run/standin /run/postgresql /run/mysqld",
            f"mount --bind {self.control} /run/standin",
            f"mount --bind {self.database.socket_dir} {self.database.mountpoint}",
            f"{self.database.tcp_forward} </dev/null >/dev/null 2>&1 &",
            "mount -t tmpfs -o mode=1777 standin-tmp /tmp",
            "echo ready",
            "exec sleep infinity",
        ])
        self._holder = subprocess.Popen(
            ["unshare", "--mount", "--net", "--propagation", "private", "sh", "-c", script],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
        line = self._holder.stdout.readline()
        if line.strip() != "ready":
            raise RuntimeError(f"{self.name}: namespace setup failed: {self._holder.stderr.read()}")

    @property
    def pid(self) -> int:
        return self._holder.pid

    def path(self, inside: str) -> Path:
        """The host's `inside` path, as seen from this machine."""
        return Path(f"/proc/{self.pid}/root") / inside.lstrip("/")

    def start_sshd(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((self.address, self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._serve, args=(listener,), daemon=True,
                         name=f"sshd-{self.name}").start()

    def _serve(self, listener: socket.socket) -> None:
        log = open(self.session_log, "a")
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:  # closed by stop_sshd
                return
            argv = ["nsenter", f"--target={self.pid}", "--mount", "--net", "--",
                    "/usr/sbin/sshd", "-i", "-e", "-f", "/etc/ssh/sshd_config"]
            with conn:
                proc = subprocess.Popen(
                    self.cgroup.command(argv) if self.cgroup else argv,
                    stdin=conn.fileno(), stdout=conn.fileno(), stderr=log, start_new_session=True)
            with self._lock:
                self._sessions = [p for p in self._sessions if p.poll() is None] + [proc]

    def stop_sshd(self) -> None:
        """The host becomes unreachable: connections are refused, open sessions end."""
        if self._listener:
            try:  # wakes the thread blocked in accept(), so the port is free to bind again
                self._listener.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self._listener.close()
            self._listener = None
        with self._lock:
            for proc in self._sessions:
                if proc.poll() is None:
                    os.killpg(proc.pid, signal.SIGTERM)
            self._sessions = []

    def sessions(self) -> int:
        """SSH sessions opened so far: sshd logs one 'Accepted publickey' per login."""
        return self.session_log.read_text().count("Accepted publickey")

    def cpu_seconds(self) -> float | None:
        """CPU seconds (user + sys) the host has spent since its accounting began: its
        sessions, what they ran and left running, its database server; None without
        accounting (TestHosts' cpu_accounting)."""
        return self.cgroup.seconds() if self.cgroup else None

    def account_cpu(self, group: cgroups.CpuGroup) -> None:
        """Count the host's CPU in `group` from now on: the processes it runs now (the
        namespaces' holder and what it started, the database server's) and each session."""
        group.add(cgroups.process_tree(self.pid) + cgroups.process_tree(self.database.pid))
        self.cgroup = group

    # --- what tests read and inject -----------------------------------------------------

    def snapshot(self) -> dict[str, tuple]:
        return view.snapshot(self)

    def systemctl_calls(self) -> list[str]:
        log = self.control / "systemctl.log"
        return log.read_text().splitlines() if log.exists() else []

    def fail_agent_check(self, message: str | None, check: str | None = None) -> None:
        """Make (or stop making) `datadog-agent check` (only `check <check>` if given) fail on
        this host with `message`."""
        fault = self.control / ("agent-check-fails" + (f"-{check}" if check else ""))
        if message is None:
            fault.unlink(missing_ok=True)
        else:
            fault.write_text(message + "\n")
            fault.chmod(0o644)

    def pip_index_error(self) -> str:
        """What pip says when it asks PyPI for a package from inside this host's network
        (this checkout's pip; one try, a short timeout): '' if it got an answer."""
        with tempfile.TemporaryDirectory(prefix="pip-probe-") as dest:
            done = subprocess.run(
                ["nsenter", f"--target={self.pid}", "--net", "--", sys.executable, "-m", "pip",
                 "download", "--no-deps", "--no-cache-dir", "--disable-pip-version-check",
                 "--isolated", "--retries", "0", "--timeout", "5", "-d", dest, "flask==3.1.3"],
                capture_output=True, text=True, timeout=120)
        return "" if done.returncode == 0 else done.stdout + done.stderr

    def database_login(self, password: str) -> str:
        """Log in to this host's database as the Agent's integration would with the deployed
        conf.yaml but `password`: the same driver and arguments (the stand-in Agent's
        `connect`, under venv-agent), over the host's own loopback (its network namespace),
        then SELECT 1. '' on success, else the driver's error."""
        return self.database_logins([password])[0]

    def database_logins(self, passwords: list[str]) -> list[str]:
        """database_login for each password in turn, one fresh connection each, from one
        helper process (its start and driver import are most of a login's cost)."""
        conf = self.path(f"/etc/datadog-agent/conf.d/{self.spec.database}.d/conf.yaml")
        instance = yaml.safe_load(conf.read_text())["instances"][0]
        done = subprocess.run(
            ["nsenter", f"--target={self.pid}", "--net", "--", str(AGENT_PYTHON), "-c", _LOGIN,
             str(AGENT_STANDINS), self.spec.database],
            input=json.dumps([{**instance, "password": p} for p in passwords]),
            capture_output=True, text=True, timeout=60)
        if done.returncode:
            raise RuntimeError(f"{self.name}: the login helper failed: {done.stderr}")
        return json.loads(done.stdout)

    def close(self) -> None:
        self.stop_sshd()
        if self._holder and self._holder.poll() is None:
            _kill_namespace(self.pid)
            self._holder.wait(timeout=10)
        self.database.stop()


# Host.database_logins' program (argv: the stand-ins' directory, the database kind; the
# instances as a JSON list on stdin): prints a JSON list, '' or the driver's error for each.
_LOGIN = """
import json, sys
sys.path.insert(0, sys.argv[1])
from datadog_agent import connect

def login(instance):
    try:
        connection = connect(sys.argv[2], instance)
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            assert cursor.fetchone()[0] == 1
        connection.close()
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}".strip()
    return ""

print(json.dumps([login(instance) for instance in json.load(sys.stdin)]))
"""


def _allow_traverse(directory: Path, uid: int) -> None:
    """POSIX ACL user:<uid>:--x on a 0700 directory, as `setfacl -m u:<uid>:x` writes it
    (the system.posix_acl_access xattr: version 2, then tag/perm/id entries, acl(5))."""
    import struct

    entries = [(0x01, 7, 0xFFFFFFFF), (0x02, 1, uid), (0x04, 0, 0xFFFFFFFF),
               (0x10, 1, 0xFFFFFFFF), (0x20, 0, 0xFFFFFFFF)]  # user_obj, user, group_obj, mask, other
    os.setxattr(directory, "system.posix_acl_access",
                struct.pack("<I", 2) + b"".join(struct.pack("<HHI", *e) for e in entries))


def _kill_namespace(holder: int) -> None:
    """Every process in the host's mount or network namespace, then the holder: sessions,
    and the apps the systemctl stand-in starts, which a unit's PrivateTmp/DynamicUser puts
    in a mount namespace of their own (inside the host's network one): matching the mount
    namespace alone left every host's gunicorn running after close."""
    own = {os.readlink(f"/proc/{holder}/ns/{kind}") for kind in ("mnt", "net")}
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == holder:
            continue
        try:
            if own & {os.readlink(f"/proc/{entry}/ns/{kind}") for kind in ("mnt", "net")}:
                os.kill(int(entry), signal.SIGKILL)
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            pass
    os.kill(holder, signal.SIGKILL)


SSHD_CONFIG = """\
# sshd_config of an SSH test host (sshd -i per connection). Key login only.
HostKey /etc/ssh/ssh_host_ed25519_key
AuthorizedKeysFile /etc/ssh/authorized_keys/%u
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
UsePAM no
# Debian's default accepts only LANG and LC_*; pulumi-command's Setenv of other variables
# is refused, as on a stock VM.
AcceptEnv LANG LC_*
X11Forwarding no
PrintMotd no
LogLevel INFO
Subsystem sftp internal-sftp
"""


class TestHosts:
    """N SSH test hosts with one client key; a context manager. `hosts[i].address` etc.;
    `private_key` is the client key (OpenSSH format) the stack's `sshPrivateKey` gets."""

    def __init__(self, specs: list[HostSpec], progress=print, cpu_accounting: bool = False):
        """`cpu_accounting`: each host's CPU in a cgroup of its own (Host.cpu_seconds),
        where this machine has a writable cgroup v2 hierarchy (else cpu_seconds is None)."""
        if os.geteuid() != 0:
            raise PermissionError("the SSH test hosts need root (namespaces, sshd, runuser)")
        missing = [tool for tool in ("sshd", "unshare", "nsenter", "ip", "sudo")
                   if not shutil.which(tool, path="/usr/sbin:/usr/bin:/sbin:/bin")]
        if missing:
            raise FileNotFoundError(f"missing {', '.join(missing)}: apt-get install openssh-server sudo")
        # Traversable by the database servers' users (pytest's tmp_path is not).
        self.base = base = Path(tempfile.mkdtemp(prefix="ssh-test-hosts-"))
        base.chmod(0o755)
        key = base / "client_ed25519"
        _run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "stack", "-f", key)
        self.private_key = key.read_text()
        self.key_file = key
        public = (base / "client_ed25519.pub").read_text()
        started = time.monotonic()
        templates = databases.Templates(base, {s.database for s in specs}, progress)
        self.hosts: list[Host] = []

        def make(i: int, spec: HostSpec) -> Host:
            host = Host(f"vm{i}", i, spec, base / f"vm{i}", public, templates)
            self.hosts.append(host)
            progress(f"ssh test host {host.name}: {spec.user}@{host.address}:{host.port} "
                     f"({spec.database}) ready [{time.monotonic() - started:.1f} s]")
            return host

        self.cpu_group: cgroups.CpuGroup | None = None
        try:
            with ThreadPoolExecutor(max_workers=4) as pool:
                made = list(pool.map(make, range(1, len(specs) + 1), specs))
            root = cgroups.writable_root() if cpu_accounting else None
            if root is not None:
                self.cpu_group = cgroups.CpuGroup.make(root, base.name)
                for host in made:
                    host.account_cpu(self.cpu_group.child(host.name))
        except BaseException:
            self.close()
            raise
        self.hosts = made

    def __enter__(self) -> "TestHosts":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __iter__(self):
        return iter(self.hosts)

    def __len__(self) -> int:
        return len(self.hosts)

    def sessions(self) -> int:
        return sum(h.sessions() for h in self.hosts)

    def close(self) -> None:
        for host in self.hosts:
            host.close()
        self.hosts = []
        if self.cpu_group is not None:
            self.cpu_group.remove()
            self.cpu_group = None
        shutil.rmtree(self.base, ignore_errors=True)
