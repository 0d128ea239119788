"""Bad input stops the program with one line naming the config key, before any resource."""
from __future__ import annotations

import json
from pathlib import Path

import pulumi
import pytest
import yaml

import settings
from pulumi_config import PulumiConfig
from tools.plan import StackConfig

DEV = Path(__file__).resolve().parents[2] / "Pulumi.dev.yaml"
NS = settings.NAMESPACE


def load(**overrides):
    """Load the dev stack's settings with some keys replaced (None removes a key)."""
    set_config(**overrides)
    return settings.load(PulumiConfig(), "dev")


def set_config(**overrides):
    """Hand the program the dev stack's config with some keys replaced (None removes one)."""
    config = StackConfig.from_file(DEV)
    values = dict(config.values)
    for key, value in overrides.items():
        full = key if ":" in key else f"{NS}:{key}"
        if value is None:
            values.pop(full, None)
        else:
            values[full] = value if isinstance(value, str) else json.dumps(value)
    pulumi.runtime.set_all_config(values, config.secret_keys)
    settings.check_known_keys(list(values))


def error_for(**overrides) -> settings.ConfigError:
    with pytest.raises(settings.ConfigError) as caught:
        load(**overrides)
    assert "\n" not in str(caught.value), "the error is a single line"
    return caught.value


def test_dev_stack_loads_with_seed_values():
    loaded = load()
    assert (loaded.thresholds.warning, loaded.thresholds.critical) == (500, 800)
    assert loaded.no_data_minutes == 10 and loaded.agent.check_interval == 45
    assert loaded.hosts[0].name == "vm1" and loaded.database.kind == "postgres"
    assert loaded.database.port == 5432, "postgres defaults to its standard port"


def test_defaults_apply_to_unset_keys():
    loaded = load(warningThreshold=None, criticalThreshold=None, timezone=None,
                  officeHoursStart=None, officeHoursEnd=None, checkInterval=None)
    assert (loaded.thresholds.warning, loaded.thresholds.critical) == (500, 800)
    assert loaded.timezone == "UTC" and loaded.agent.check_interval == 45
    assert (loaded.office_hours.start_minutes, loaded.office_hours.end_minutes) == (540, 1140)


def test_install_database_defaults_to_off_and_reads_true():
    assert load().database.install is False, "the seeds' VMs already run their database"
    assert load(installDatabase="true").database.install is True


def test_mysql_defaults_to_port_3306():
    assert load(databaseKind="mysql", databaseName=None).database.port == 3306


def test_settings_are_frozen():
    loaded = load()
    with pytest.raises(Exception):
        loaded.notify = "@someone@example.com"


@pytest.mark.parametrize("overrides, key", [
    ({"warningThreshold": "high"}, "warningThreshold"),
    ({"criticalThreshold": "nan"}, "criticalThreshold"),
    ({"warningThreshold": "800"}, "warningThreshold"),
    ({"warningThreshold": "900"}, "warningThreshold"),
    ({"apmBindAddress": "localhost"}, "apmBindAddress"),
    ({"apmBindAddress": "0.0.0.0:5050"}, "apmBindAddress"),
    ({"warningRecovery": "low"}, "warningRecovery"),
    ({"warningRecovery": "500"}, "warningRecovery"),
    ({"criticalRecovery": "900"}, "criticalRecovery"),
    ({"criticalThreshold": "600", "warningThreshold": "400"}, "criticalRecovery"),
    ({"timezone": "Mars/Olympus_Mons"}, "timezone"),
    ({"timezone": "Antarctica/Troll"}, "timezone"),
    ({"databaseKind": "mongodb"}, "databaseKind"),
    ({"databasePort": "99999"}, "databasePort"),
    ({"hosts": []}, "hosts"),
    ({"hosts": None}, "hosts"),
    ({"hosts": [{"name": "", "address": "10.0.0.1"}]}, "hosts[0].name"),
    ({"hosts": [{"name": "vm1"}]}, "hosts[0].address"),
    ({"hosts": [{"name": "vm1", "address": "a", "sshPort": 0}]}, "hosts[0].sshPort"),
    ({"hosts": [{"name": "vm1", "address": "a", "sshPort": 65536}]}, "hosts[0].sshPort"),
    ({"hosts": [{"name": "vm1", "address": "a", "port": 22}]}, "hosts[0].port"),
    ({"hosts": [{"name": "vm1", "address": "a"}, {"name": "vm1", "address": "b"}]},
     "hosts[1].name"),
    ({"notify": ""}, "notify"),
    ({"notify": None}, "notify"),
    ({"notify": "ops@example.com"}, "notify"),
    ({"notify": "@ops"}, "notify"),
    ({"officeHoursStart": "25:00"}, "officeHoursStart"),
    ({"officeHoursEnd": "24:30"}, "officeHoursEnd"),
    ({"officeHoursStart": "9am"}, "officeHoursStart"),
    ({"officeHoursStart": "19:00"}, "officeHoursStart"),
    ({"officeHoursStart": "05:00"}, "officeHoursStart"),
    ({"noDataTimeframe": "0"}, "noDataTimeframe"),
    ({"noDataTimeframe": "2.5"}, "noDataTimeframe"),
    ({"checkInterval": "0"}, "checkInterval"),
    ({"hostTags": ["machine_name: vagrant"]}, "hostTags[0]"),
    ({"hostTags": "role:database"}, "hostTags"),
    ({"logsEnabled": "yes"}, "logsEnabled"),
    ({"installDatabase": "yes"}, "installDatabase"),
    ({"apmPort": "0"}, "apmPort"),
    ({"apmVersion": "1.0 beta"}, "apmVersion"),
    ({"site": "datadoghq"}, "site"),
    ({"hosts": {"name": "vm1", "address": "a"}}, "hosts"),
    ({"hosts": [{"name": "vm1", "address": "999.1.1.1"}]}, "hosts[0].address"),
    ({"hosts": [{"name": "vm1", "address": "a", "sshUser": "a b; rm -rf /"}]}, "hosts[0].sshUser"),
    ({"hosts": [{"name": "vm1", "address": "a", "sshPort": 10**400}]}, "hosts[0].sshPort"),
    ({"thresholds": "500"}, "thresholds"),
])
def test_bad_input_names_the_key(overrides, key):
    error = error_for(**overrides)
    assert error.key == f"{NS}:{key}", f"the one-line error must name {key}: {error}"


def test_missing_secret_names_the_key_and_how_to_set_it():
    config = StackConfig.from_file(DEV)
    del config.values["datadog:apiKey"]
    pulumi.runtime.set_all_config(config.values, config.secret_keys)
    with pytest.raises(settings.ConfigError) as caught:
        settings.load(PulumiConfig(), "dev")
    assert caught.value.key == "datadog:apiKey"
    assert "pulumi config set --secret datadog:apiKey" in str(caught.value)


def test_missing_provider_app_key_fails_before_any_resource():
    assert error_for(**{"datadog:appKey": None}).key == "datadog:appKey"


def test_secret_stored_in_plain_text_is_rejected():
    config = StackConfig.from_file(DEV)
    config.values["datadog-stack:databasePassword"] = "hunter2"
    plain = [key for key in config.secret_keys if key != "datadog-stack:databasePassword"]
    pulumi.runtime.set_all_config(config.values, plain)
    with pytest.raises(settings.ConfigError) as caught:
        settings.load(PulumiConfig(), "dev")
    assert caught.value.key == "datadog-stack:databasePassword"
    assert "plain text" in str(caught.value), "a secret must never sit unencrypted in the repo"


def test_a_site_other_than_us1_needs_the_matching_provider_api_url():
    error = error_for(site="datadoghq.eu")
    assert error.key == "datadog:apiUrl", "without it the provider would call datadoghq.com"
    assert "https://api.datadoghq.eu/" in str(error)
    assert load(site="datadoghq.eu", **{"datadog:apiUrl": "https://api.datadoghq.eu/"}).site == \
        "datadoghq.eu"


def test_a_loopback_api_url_is_accepted_as_a_stand_in():
    assert load(**{"datadog:apiUrl": "http://127.0.0.1:8080"}).site == "datadoghq.com"


def test_recovery_at_the_threshold_explains_the_direction():
    assert str(error_for(warningRecovery="500")) == (
        "datadog-stack:warningRecovery: 500 must be below warningThreshold 500 (the monitor "
        "alerts above it and recovers at or below this value)")


def test_the_app_listens_on_loopback_unless_told_otherwise():
    assert load(apmBindAddress=None).apm.bind_address == "127.0.0.1"
    assert load(apmBindAddress="::").apm.bind_address == "::"


def test_recovery_thresholds_default_below_the_seed_thresholds():
    loaded = load(warningRecovery=None, criticalRecovery=None)
    assert (loaded.thresholds.warning_recovery, loaded.thresholds.critical_recovery) == (200, 650)


def test_warning_equal_to_critical_explains_the_rule():
    assert "must be below criticalThreshold 800" in str(error_for(warningThreshold="800"))


# Hostile values: what people really type or paste (a trailing newline from a YAML block
# scalar or `echo`, a name that already belongs to the VM, a port the Agent holds). Each
# is refused before any resource, in one line naming the key (issue 18). One row a case.
HOST = {"name": "vm1", "address": "192.0.2.10", "sshUser": "vagrant"}
HOSTILE = [
    # trailing newlines: `$` let them through, full-string matching refuses them
    ({"hostTags": ["team:a\n"]}, "hostTags[0]"),
    ({"hosts": [{**HOST, "sshUser": "root\n"}]}, "hosts[0].sshUser"),
    ({"hosts": [{**HOST, "name": "vm1\n"}]}, "hosts[0].name"),
    ({"hosts": [{**HOST, "address": "192.0.2.10\n"}]}, "hosts[0].address"),
    ({"hosts": [{**HOST, "address": "vm1.example.com\n"}]}, "hosts[0].address"),
    ({"env": "dev\n"}, "env"),
    ({"apmService": "flask-app\n"}, "apmService"),
    ({"apmVersion": "1.0.0\n"}, "apmVersion"),
    ({"databaseName": "postgres\n"}, "databaseName"),
    ({"notify": "@ops@example.com\n"}, "notify"),
    ({"officeHoursStart": "09:00\n"}, "officeHoursStart"),
    ({"timezone": "UTC\n"}, "timezone"),
    ({"apmBindAddress": "127.0.0.1\n"}, "apmBindAddress"),
    ({"logsEnabled": "true\n"}, "logsEnabled"),
    ({"datadog:apiUrl": "http://127.0.0.1:8080/\nevil"}, "datadog:apiUrl"),
    # host names the Agent's own validation rejects (it would report under another name)
    ({"hosts": [{**HOST, "name": "localhost"}]}, "hosts[0].name"),
    ({"hosts": [{**HOST, "name": "LOCALHOST.localdomain"}]}, "hosts[0].name"),
    ({"hosts": [{**HOST, "name": "ip6-localhost"}]}, "hosts[0].name"),
    ({"hosts": [{**HOST, "name": "web..01"}]}, "hosts[0].name"),
    ({"hosts": [{**HOST, "name": "web.-01"}]}, "hosts[0].name"),
    ({"hosts": [{**HOST, "name": "web-.01"}]}, "hosts[0].name"),
    ({"hosts": [{**HOST, "name": "web_01"}]}, "hosts[0].name"),
    ({"hosts": [{**HOST, "name": "a" * 256}]}, "hosts[0].name"),
    # two env tags on one host
    ({"hostTags": ["role:db", "env:prod"]}, "hostTags[1]"),
    ({"hostTags": ["ENV:prod"]}, "hostTags[0]"),
    # the other tag keys Datadog reserves
    ({"hostTags": ["host:web-01"]}, "hostTags[0]"),
    ({"hostTags": ["service:shop"]}, "hostTags[0]"),
    ({"hostTags": ["version:2"]}, "hostTags[0]"),
    ({"hostTags": ["source:nginx"]}, "hostTags[0]"),
    ({"hostTags": ["device:sda"]}, "hostTags[0]"),
    # app names that belong to the VM: its unit, /opt directory or DynamicUser= user
    ({"apmService": "datadog-agent"}, "apmService"),
    ({"apmService": "datadog-agent-trace"}, "apmService"),
    ({"apmService": "datadog-installer"}, "apmService"),
    ({"apmService": "dd-agent"}, "apmService"),
    ({"apmService": "postgresql"}, "apmService"),
    ({"apmService": "postgres"}, "apmService"),
    ({"apmService": "mariadb"}, "apmService"),
    ({"apmService": "mysqld"}, "apmService"),
    ({"apmService": "ssh"}, "apmService"),
    ({"apmService": "sshd"}, "apmService"),
    ({"apmService": "systemd-journald"}, "apmService"),
    ({"apmService": "dbus"}, "apmService"),
    ({"apmService": "getty"}, "apmService"),
    ({"apmService": "cron"}, "apmService"),
    ({"apmService": "networking"}, "apmService"),
    ({"apmService": "apt-daily"}, "apmService"),
    ({"apmService": "root"}, "apmService"),
    ({"apmService": "www-data"}, "apmService"),
    ({"apmService": "users"}, "apmService"),
    # ports: privileged, the database's, the Agent's
    ({"apmPort": "80"}, "apmPort"),
    ({"apmPort": "1023"}, "apmPort"),
    ({"apmPort": "5432"}, "apmPort"),
    ({"databasePort": "6000", "apmPort": "6000"}, "apmPort"),
    ({"databaseKind": "mysql", "databaseName": None, "apmPort": "3306"}, "apmPort"),
    ({"apmPort": "8125"}, "apmPort"),
    ({"apmPort": "8126"}, "apmPort"),
    ({"apmPort": "5000"}, "apmPort"),
    ({"apmPort": "5001"}, "apmPort"),
    ({"apmPort": "5002"}, "apmPort"),
    ({"apmPort": "5012"}, "apmPort"),
]


@pytest.mark.parametrize("overrides, key", HOSTILE)
def test_a_hostile_value_is_refused_in_one_line_naming_its_key(overrides, key):
    error = error_for(**overrides)
    full = key if ":" in key else f"{NS}:{key}"
    assert error.key == full, f"the one-line error must name {full}: {error}"


@pytest.mark.parametrize("overrides, key", HOSTILE)
def test_make_plan_exits_2_with_one_line_naming_the_key_of_a_hostile_value(
        overrides, key, capsys, tmp_path):
    from tools import plan as plan_tool

    document = yaml.safe_load(DEV.read_text())
    for name, value in overrides.items():
        full = name if ":" in name else f"{NS}:{name}"
        if value is None:
            document["config"].pop(full, None)
        else:
            document["config"][full] = value
    path = tmp_path / "Pulumi.hostile.yaml"
    path.write_text(yaml.safe_dump(document))
    code = plan_tool.main(["--config-file", str(path)])
    out, err = capsys.readouterr()
    full = key if ":" in key else f"{NS}:{key}"
    assert (code, out) == (2, ""), "bad config stops the plan before any resource"
    assert err.count("\n") == 1 and full in err and "Traceback" not in err, \
        f"one line naming {full}, no traceback: {err!r}"


@pytest.mark.parametrize("overrides", [
    {"hosts": [{**HOST, "name": "web-01.example.com"}]},
    {"hosts": [{**HOST, "name": "WEB01"}]},
    {"hosts": [{**HOST, "address": "vm1.example.com"}]},
    {"hostTags": ["environment:prod", "hostgroup:web", "service_tier:1"]},
    {"apmService": "shop-api"},
    {"apmService": "postgres-app"},
    {"apmPort": "1024"},
    {"apmPort": "8080"},
    {"databaseKind": "mysql", "databaseName": None, "apmPort": "5432"},
])
def test_a_near_miss_of_a_hostile_value_is_accepted_and_renders(overrides):
    from tools.plan import host_files

    # The renderers assume valid settings (their ValueError guards stay as a last line):
    # whatever settings accepts, they render.
    assert host_files(load(**overrides)), "every host gets its files"


# Secrets: validated from their text (never printed: the error names the key only), then
# kept as the opaque secret. Run through the offline plan's own path (tools.plan.run),
# as `make plan` and the engine do; a plan cannot read a file's plaintext secret.
DB_PASSWORD = f"{NS}:databasePassword"
HOSTILE_SECRETS = [
    ({"datadog:apiKey": "0123456789abcdef0123456789abcdef\n"}, "datadog:apiKey"),
    ({"datadog:apiKey": "0123456789abcdef 0123456789abcdef"}, "datadog:apiKey"),
    ({"datadog:apiKey": ""}, "datadog:apiKey"),
    ({"datadog:apiKey": "0123456789abcdéf0123456789abcdef"}, "datadog:apiKey"),
    ({"datadog:appKey": "0123456789abcdef0123456789abcdef01234567\n"}, "datadog:appKey"),
    ({DB_PASSWORD: ""}, DB_PASSWORD),
    ({DB_PASSWORD: "pass\0word"}, DB_PASSWORD),
    ({DB_PASSWORD: "correct-horse\n"}, DB_PASSWORD),
    ({DB_PASSWORD: "pw-🔑-emoji", f"{NS}:databaseKind": "mysql"}, DB_PASSWORD),
    ({DB_PASSWORD: "パスワード", f"{NS}:databaseKind": "mysql"}, DB_PASSWORD),
    ({DB_PASSWORD: "pw-１２３", f"{NS}:databaseKind": "mysql"}, DB_PASSWORD),
    ({DB_PASSWORD: "Œuvre-€", f"{NS}:databaseKind": "mysql"}, DB_PASSWORD),
    ({f"{NS}:sshPrivateKey": "/home/me/.ssh/id_rsa"}, f"{NS}:sshPrivateKey"),
    ({f"{NS}:sshPrivateKey": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB me@laptop"},
     f"{NS}:sshPrivateKey"),
]
SSH_KEY = ("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjE=\n"
           "-----END OPENSSH PRIVATE KEY-----\n")


def plan_with_secrets(secrets: dict[str, str]):
    from tools.plan import run

    config = StackConfig.from_file(DEV)
    values = {**config.values, f"{NS}:sshPrivateKey": SSH_KEY, **secrets}
    values.pop(f"{NS}:databaseName")  # follows databaseKind
    return run(StackConfig(values, sorted(set(config.secret_keys) | set(secrets))), "dev")


@pytest.mark.parametrize("secrets, key", HOSTILE_SECRETS)
def test_a_hostile_secret_is_refused_naming_the_key_never_the_value(secrets, key):
    with pytest.raises(settings.ConfigError) as caught:
        plan_with_secrets(secrets)
    message = str(caught.value)
    assert caught.value.key == key and "\n" not in message, f"one line naming {key}: {message}"
    assert secrets[key] == "" or secrets[key] not in message, "a secret never appears in an error"


@pytest.mark.parametrize("secrets", [
    {DB_PASSWORD: "café-Straße-pw", f"{NS}:databaseKind": "mysql"},  # Latin-1: PyMySQL sends it
    {DB_PASSWORD: "pw-🔑-パスワード-１２３"},  # postgres: psycopg sends any str as UTF-8
    {DB_PASSWORD: "a'b\"c$d`e\\f;g -- h\nend"},  # shell/SQL/YAML metacharacters, inner newline
    {"datadog:apiKey": "0123456789abcdef0123456789abcdef"},
])
def test_a_secret_the_drivers_can_send_is_accepted_and_renders(secrets):
    from agent_files import render

    loaded = plan_with_secrets(secrets).settings
    api_key = secrets.get("datadog:apiKey", "[secret]")
    password = secrets.get(DB_PASSWORD, "[secret]")
    files = render.render_host_files(loaded.agent, loaded.hosts[0], api_key, password)
    assert files and render.database_user_sql(loaded.agent, password), \
        "an accepted secret renders into the Agent's files and the database user's SQL"


@pytest.mark.parametrize("overrides, key", [
    ({"hostTags": ["team:a\n"]}, "hostTags[0]"),
    ({"apmService": "datadog-agent"}, "apmService"),
    ({"apmPort": "80"}, "apmPort"),
    ({"databasePassword": ""}, "databasePassword"),
    ({"databaseKind": "mysql", "databaseName": None, "databasePassword": "pw-パスワード"},
     "databasePassword"),
])
def test_the_program_stops_with_one_run_error_naming_the_key_before_any_resource(overrides, key):
    # __main__ as `pulumi preview` and `pulumi up` run it: the engine prints a RunError as
    # one line, without a traceback.
    import runpy

    from tools import mock_engine

    mocks = mock_engine.Mocks()
    mock_engine.start(mocks, stack="dev", preview=True)
    set_config(**overrides)
    with pytest.raises(pulumi.RunError) as caught:
        runpy.run_path(str(DEV.parent / "__main__.py"), run_name="__main__")
    message = str(caught.value)
    assert message.startswith(f"invalid configuration: {NS}:{key}: ") and "\n" not in message, \
        f"one line naming {key}: {message!r}"
    assert mocks.inputs == {}, "no resource is declared before the config is valid"
    assert "パスワード" not in message, "a secret's value never appears in the error"
