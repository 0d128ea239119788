"""Which names the VM's own software already owns, and which host names the Agent takes.

Pure data and functions (no Pulumi): settings.py refuses a config value these reject, in
one line naming the key, before any resource is declared.

The app's name (`apmService`) becomes three things on the VM (agent_files/app_service.py):
the unit `/etc/systemd/system/<name>.service`, the directory `/opt/<name>`, and, through
the unit's `DynamicUser=yes`, the Unix user and group the app runs as. systemd.exec(5),
DynamicUser= (systemd 252, Debian 12): "the name of the dynamic user/group is implicitly
derived from the unit name ... If a statically allocated user or group of the configured
name already exists, it is used and no dynamic user/group is allocated." So a name can
overwrite a unit someone else ships (and destroy would then delete it), or make the app
run as an existing system user (`postgres` would get the database's superuser by peer
authentication). `reserved_reason` refuses every such name, each group with its reason.
"""
from __future__ import annotations

import re

# Unit names owned by other software, as (exact names, prefixes, reason).
_OWNERS: tuple[tuple[frozenset[str], tuple[str, ...], str], ...] = (
    # The Agent's own units and directories (datadog-agent, -trace, -process, -sysprobe,
    # -security; datadog-installer; /opt/datadog-agent, /opt/datadog-packages) and its user.
    (frozenset({"dd-agent", "datadog-packages"}), ("datadog-agent", "datadog-installer"),
     "the Datadog Agent's"),
    # The database servers the stack configures (installDatabase installs them):
    # postgresql.service, postgresql@.service, mariadb.service, mysql.service, mysqld.service
    # and their users postgres and mysql.
    (frozenset({"postgres"}), ("postgresql", "mysql", "mariadb"),
     "the database server's"),
    # The SSH server every remote command of the stack goes through: ssh.service (sshd is
    # its alias and its privilege-separation user).
    (frozenset({"ssh", "sshd", "openssh-server"}), (), "the SSH server's"),
    # systemd's own units (templates by their base name: getty@, user@, ...), D-Bus and
    # polkit, and their users.
    (frozenset({"autovt", "console-getty", "container-getty", "getty", "getty-static",
                "serial-getty", "user", "user-runtime-dir", "emergency", "rescue",
                "debug-shell", "kmod", "kmod-static-nodes", "modprobe", "hwclock", "procps",
                "quotaon", "rc", "rcs", "rc-local", "cryptdisks", "cryptdisks-early",
                "x11-common", "udev", "messagebus", "dbus", "polkit", "polkitd"}),
     ("systemd", "initrd-", "dbus-"), "a system unit's"),
)

# Debian 12's base system: every `.service` unit shipped by a package of Priority required
# or important (`dpkg -L` of the installed ones, `dpkg -c` of cron, ifupdown, logrotate,
# nftables and udev, which a container image lacks), without the `.service` suffix and
# without templates (a name here cannot hold `@`). The systemd ones are in _OWNERS above.
DEBIAN_BASE_UNITS = frozenset({
    "apt-daily", "apt-daily-upgrade", "dpkg-db-backup", "e2scrub_all", "e2scrub_reap",
    "pam_namespace", "man-db", "fstrim", "cron", "networking", "ifupdown-pre",
    "ifupdown-wait-online", "logrotate", "nftables",
})
# Debian's static users and groups (base-passwd's passwd.master and group.master) and the
# ones the stack's own packages add: DynamicUser= would run the app as one of them (or fail
# to start when only the group exists).
DEBIAN_BASE_ACCOUNTS = frozenset({
    "root", "daemon", "bin", "sys", "sync", "games", "man", "lp", "mail", "news", "uucp",
    "proxy", "www-data", "backup", "list", "irc", "_apt", "nobody", "adm", "tty", "disk",
    "kmem", "dialout", "fax", "voice", "cdrom", "floppy", "tape", "sudo", "audio", "dip",
    "operator", "src", "shadow", "utmp", "video", "sasl", "plugdev", "staff", "users",
    "nogroup", "mysql", "systemd-network", "systemd-timesync",
})


def reserved_reason(name: str) -> str | None:
    """Why `name` cannot be the app's unit, directory and user; None when it is free."""
    lowered = name.lower()
    for exact, prefixes, owner in _OWNERS:
        if lowered in exact or lowered.startswith(prefixes):
            return (f"is reserved: it is {owner} name, and the app's unit "
                    f"/etc/systemd/system/{name}.service, directory /opt/{name} and user "
                    "would take it over")
    if lowered in DEBIAN_BASE_UNITS:
        return (f"is reserved: {name}.service is a unit of Debian's base system, which the "
                "app's unit would overwrite")
    if lowered in DEBIAN_BASE_ACCOUNTS:
        return (f"is reserved: {name} is a system user or group of Debian, and systemd's "
                "DynamicUser= would run the app as it")
    return None


# The Agent's own hostname rules, as datadog-agent's pkg/util/hostname/validate/validate.go
# (ValidHostname, at commit 0c9c374e): not empty, not one of the local names (compared in
# lowercase), at most 255 characters, and RFC 1123: dot-separated labels of letters, digits
# and inner hyphens. A `hostname` failing them is ignored by the Agent, which then reports
# under the OS's name instead, so the stack's monitor scopes would miss the host.
AGENT_LOCAL_HOSTNAMES = ("localhost", "localhost.localdomain", "localhost6.localdomain6",
                         "ip6-localhost")
AGENT_HOSTNAME_MAX = 255
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
AGENT_HOSTNAME = re.compile(rf"(?:{_LABEL}\.)*{_LABEL}")


def agent_hostname_problem(name: str) -> str | None:
    """What the Agent's ValidHostname would reject in `name`; None when it takes it."""
    if name.lower() in AGENT_LOCAL_HOSTNAMES:
        return f"{name!r} is a local hostname, which the Datadog Agent refuses to report as"
    if len(name) > AGENT_HOSTNAME_MAX:
        return f"is longer than the Datadog Agent's {AGENT_HOSTNAME_MAX} characters"
    if not AGENT_HOSTNAME.fullmatch(name):
        return (f"{name!r} is not a hostname the Datadog Agent takes (RFC 1123: labels of "
                "letters, digits and inner hyphens, separated by single dots)")
    return None
