"""rules/host_names.py: the host names the Agent takes, and the app names the VM already owns."""
from __future__ import annotations

import pytest

from rules.host_names import agent_hostname_problem, reserved_reason

# The Agent's own cases (datadog-agent pkg/util/hostname/validate/validate_test.go:
# TestIsLocal, TestValidHostname) and the RFC 1123 shapes its regexp refuses.
AGENT_REFUSES = ["LOCALHOST", "localhost.localdomain", "localhost6.localdomain6",
                 "ip6-localhost", "a" * 256, "data🐕hq.com", "web..01", "web.-01", "web-.01",
                 "-web", "web-", "web_01", ".web", "web.", "web 01", "web01\n"]
AGENT_TAKES = ["datadoghq.com", "vm1", "WEB-01.example.com", "a" * 255, "1.example", "x"]


@pytest.mark.parametrize("name", AGENT_REFUSES)
def test_a_host_name_the_agent_refuses_has_a_problem(name):
    assert agent_hostname_problem(name), f"the Agent's ValidHostname rejects {name!r}"


@pytest.mark.parametrize("name", AGENT_TAKES)
def test_a_host_name_the_agent_takes_has_none(name):
    assert agent_hostname_problem(name) is None, f"the Agent's ValidHostname takes {name!r}"


@pytest.mark.parametrize("name, owner", [
    ("datadog-agent", "Datadog Agent"), ("datadog-agent-sysprobe", "Datadog Agent"),
    ("datadog-installer", "Datadog Agent"), ("datadog-packages", "Datadog Agent"),
    ("postgresql", "database server"), ("mariadb", "database server"),
    ("mysql", "database server"), ("postgres", "database server"),
    ("ssh", "SSH server"), ("sshd", "SSH server"),
    ("systemd-networkd", "system unit"), ("getty", "system unit"), ("dbus", "system unit"),
    ("cron", "Debian's base system"), ("logrotate", "Debian's base system"),
    ("nftables", "Debian's base system"), ("e2scrub_all", "Debian's base system"),
    ("root", "system user or group"), ("nobody", "system user or group"),
    ("staff", "system user or group"), ("_apt", "system user or group"),
])
def test_a_name_the_vm_owns_is_reserved_with_its_owner(name, owner):
    reason = reserved_reason(name)
    assert reason and owner in reason, f"{name} belongs to the {owner}: {reason}"


@pytest.mark.parametrize("name", ["flask-app", "shop-api", "postgres-app", "datadog-demo",
                                  "sshop", "crontab-ui", "users-api"])
def test_a_name_the_vm_does_not_own_is_free(name):
    assert reserved_reason(name) is None, f"{name} names nothing on a Debian VM"


@pytest.mark.parametrize("name, line", [
    ("DataDog-Agent", "is reserved: it is the Datadog Agent's name, and the app's unit "
     "/etc/systemd/system/DataDog-Agent.service, directory /opt/DataDog-Agent and user would "
     "take it over"),
    ("cron", "is reserved: cron.service is a unit of Debian's base system, which the app's "
     "unit would overwrite"),
    ("staff", "is reserved: staff is a system user or group of Debian, and systemd's "
     "DynamicUser= would run the app as it"),
])
def test_a_reserved_name_says_what_the_app_would_take_over(name, line):
    assert reserved_reason(name) == line, "the refusal names the unit, directory or user at stake"


@pytest.mark.parametrize("name, line", [
    ("LocalHost", "'LocalHost' is a local hostname, which the Datadog Agent refuses to report as"),
    ("a" * 256, "is longer than the Datadog Agent's 255 characters"),
    ("web_01", "'web_01' is not a hostname the Datadog Agent takes (RFC 1123: labels of "
     "letters, digits and inner hyphens, separated by single dots)"),
])
def test_a_host_name_the_agent_refuses_says_which_rule(name, line):
    assert agent_hostname_problem(name) == line, "the refusal names the Agent's rule it breaks"
