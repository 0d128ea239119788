"""The plan's remote commands over real SSH on a MariaDB host without the Agent, with
`installAgent: true`, logged in as a non-root user with `sudo -n`: Datadog's install script
(the stand-in served by the host's stand-in curl) installs the Agent, then the stack's
files, the datadog MariaDB user and the app; destroy takes back what the stack installed.
"""
from __future__ import annotations

import os
import subprocess

import pytest

from agent_files import render
from tests.remote.conftest import start_hosts
from tests.remote.runner import CANARIES, plan
from tests.standins.ssh_hosts import SUDO_USER, HostSpec, diff

pytestmark = pytest.mark.remote

# What the Agent package and its installer leave on a host (install_script_agent7.sh
# stand-in): destroy removes the stack's configuration, not the Agent.
AGENT_PACKAGE = ("/opt/datadog-agent", "/usr/bin/datadog-agent", "/etc/datadog-agent",
                 "/etc/passwd", "/etc/group", "/etc/shadow", "/etc/gshadow")


@pytest.fixture(scope="module")
def hosts():
    spec = HostSpec(user=SUDO_USER, database="mysql", agent_installed=False)
    with start_hosts([spec]) as started:
        yield started


@pytest.fixture(scope="module")
def host(hosts):
    return hosts.hosts[0]


@pytest.fixture(scope="module")
def before(host):
    return host.snapshot()


@pytest.fixture(scope="module")
def first(hosts, before, engine):
    commands, settings = plan(hosts, hosts.private_key, databaseKind="mysql", installAgent=True)
    return {"outcome": engine.up(commands), "settings": settings}


@pytest.fixture(scope="module")
def destroyed(host, first, engine):
    return {"outcome": engine.destroy(), "snapshot": host.snapshot()}


def test_first_deploy_succeeds_on_a_host_without_the_agent(first):
    assert not first["outcome"].failed, "\n\n".join(r.error for r in first["outcome"].failed)


def test_the_install_script_gets_the_api_key_in_its_environment(host, first):
    assert (host.control / "installer.log").read_text() == "installer DD_API_KEY=set DD_SITE=datadoghq.com\n"


def test_the_install_script_is_the_only_download(host, first):
    assert (host.control / "curl.log").read_text() == \
        "curl https://install.datadoghq.com/scripts/install_script_agent7.sh\n"


def test_the_api_key_file_for_the_installer_is_deleted_once_the_agent_is_installed(host, first):
    left = [p for p in host.snapshot() if p.endswith("/secret.env")]
    assert left == []


def test_the_mysql_integration_file_matches_the_render(host, first):
    spec = first["settings"].hosts[0]
    files = render.render_host_files(first["settings"].agent, spec, CANARIES["datadog:apiKey"],
                                     CANARIES["datadog-stack:databasePassword"])
    path = "/etc/datadog-agent/conf.d/mysql.d/conf.yaml"
    assert host.path(path).read_bytes() == files[path]


def test_the_datadog_user_logs_in_to_mariadb_with_the_stack_password(host, first):
    done = subprocess.run(
        ["mariadb", "--no-defaults", "-S", f"{host.database.socket_dir}/mysqld.sock", "-u", "datadog",
         "-N", "-e", "SELECT COUNT(*) >= 0 FROM performance_schema.table_io_waits_summary_by_table"],
        env={**os.environ, "MYSQL_PWD": CANARIES["datadog-stack:databasePassword"]},
        capture_output=True, text=True)
    assert done.stdout.strip() == "1", done.stderr


def test_the_datadog_user_logs_in_through_pymysql_as_the_integration_does(host, first):
    assert host.database_login(CANARIES["datadog-stack:databasePassword"]) == "", \
        "PyMySQL, with the deployed conf.yaml's arguments, logs in"


def test_destroy_runs_every_delete_step(destroyed):
    assert not destroyed["outcome"].failed, "\n\n".join(r.error for r in destroyed["outcome"].failed)


def test_destroy_leaves_only_the_agent_package_behind(host, before, destroyed):
    left = diff(before, destroyed["snapshot"])
    assert [p for p in left if not p.startswith(AGENT_PACKAGE)] == []
