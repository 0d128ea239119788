"""SSH test hosts: real sshd into private filesystem and network views (see hosts.py)."""
from .hosts import SUDO_USER, Host, HostSpec, TestHosts  # noqa: F401
from .view import diff  # noqa: F401
