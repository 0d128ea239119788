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


def dev_config(**overrides) -> StackConfig:
    """The dev stack's config with some keys replaced (short keys in our namespace; None
    removes one), as the engine would hand it to the program."""
    config = StackConfig.from_file(DEV)
    values = dict(config.values)
    for key, value in overrides.items():
        full = key if ":" in key else f"{NS}:{key}"
        if value is None:
            values.pop(full, None)
        else:
            values[full] = value if isinstance(value, str) else json.dumps(value)
    return StackConfig(values, config.secret_keys)


def set_config(**overrides):
    """Hand the program the dev stack's config with some keys replaced (None removes one)."""
    config = dev_config(**overrides)
    pulumi.runtime.set_all_config(dict(config.values), config.secret_keys)
    settings.check_known_keys(list(config.values))


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
    {"datadog:apiKey": "!0123456789abcdef0123456789abcd~"},  # visible ASCII, first to last
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


# The one line a user reads on bad input, whole: it names the key, what is wrong and, where
# there is one, the value to set instead (the standards: "one clear line naming the config
# key and what is wrong"). One row a refusal settings.py can make.
REFUSALS = [
    ({"hosts": "vm1"}, "datadog-stack:hosts: must be a list or mapping, not a plain value"),
    ({"hosts": {"name": "vm1"}},
     "datadog-stack:hosts: must be a list of hosts, each a mapping with name and address"),
    ({"hosts": []}, "datadog-stack:hosts: must list at least one host (name, address)"),
    ({"hosts": ["vm1"]}, "datadog-stack:hosts[0]: must be a mapping with name and address"),
    ({"hosts": [{**HOST, "port": 22}]}, "datadog-stack:hosts[0].port: is not a known host "
     "setting (name, address, sshPort, sshUser)"),
    ({"hosts": [{**HOST, "name": ""}]}, "datadog-stack:hosts[0].name: must be a non-empty string"),
    ({"hosts": [{**HOST, "name": 5}]}, "datadog-stack:hosts[0].name: must be a non-empty string"),
    ({"hosts": [{**HOST, "name": "localhost"}]}, "datadog-stack:hosts[0].name: 'localhost' is a "
     "local hostname, which the Datadog Agent refuses to report as"),
    ({"hosts": [{**HOST, "address": "999.1.1.1"}]},
     "datadog-stack:hosts[0].address: '999.1.1.1' is not a hostname or IP address"),
    ({"hosts": [{**HOST, "address": "a" * 63 + "." + "b" * 63 + "." + "c" * 63 + "." + "d" * 64}]},
     f"datadog-stack:hosts[0].address: '{'a' * 63}.{'b' * 63}.{'c' * 63}.{'d' * 64}' is not a "
     "hostname or IP address"),
    ({"hosts": [{**HOST, "address": "bad host"}]},
     "datadog-stack:hosts[0].address: 'bad host' is not a hostname or IP address"),
    ({"hosts": [{**HOST, "sshPort": 0}]}, "datadog-stack:hosts[0].sshPort: 0 is outside 1-65535"),
    ({"hosts": [{**HOST, "sshPort": 65536}]},
     "datadog-stack:hosts[0].sshPort: 65536 is outside 1-65535"),
    ({"hosts": [{**HOST, "sshPort": True}]}, "datadog-stack:hosts[0].sshPort: True is not a number"),
    ({"hosts": [{**HOST, "sshPort": "22a"}]},
     "datadog-stack:hosts[0].sshPort: '22a' is not a number"),
    ({"hosts": [{**HOST, "sshPort": 22.5}]},
     "datadog-stack:hosts[0].sshPort: 22.5 is not a whole number"),
    ({"hosts": [{**HOST, "sshUser": "Root"}]},
     "datadog-stack:hosts[0].sshUser: 'Root' is not a Unix user name"),
    ({"hosts": [HOST, {**HOST, "address": "192.0.2.11"}]},
     "datadog-stack:hosts[1].name: 'vm1' is listed twice"),
    ({"site": ""}, "datadog-stack:site: must be a non-empty string"),
    ({"timezone": ""}, "datadog-stack:timezone: must be a non-empty string"),
    ({"apmBindAddress": ""}, "datadog-stack:apmBindAddress: must be a non-empty string"),
    ({"datadog:apiUrl": "https://api.datadoghq.comX"}, "datadog:apiUrl: "
     "'https://api.datadoghq.comX' does not match site datadoghq.com: set `pulumi config set "
     "datadog:apiUrl https://api.datadoghq.com/`"),
    ({"hostTags": ["env:prod:eu"]}, "datadog-stack:hostTags[0]: 'env:prod:eu' sets the env "
     "tag: set `datadog-stack:env` instead (the Agent tags the host with it)"),
    ({"site": "datadoghq"}, "datadog-stack:site: 'datadoghq' is not a Datadog site (datadoghq.com, "
     "us3.datadoghq.com, us5.datadoghq.com, datadoghq.eu, ap1.datadoghq.com, ap2.datadoghq.com, "
     "ddog-gov.com)"),
    ({"site": "datadoghq.eu"}, "datadog:apiUrl: None does not match site datadoghq.eu: set "
     "`pulumi config set datadog:apiUrl https://api.datadoghq.eu/`"),
    ({"datadog:apiUrl": "https://api.datadoghq.eu/"}, "datadog:apiUrl: 'https://api.datadoghq.eu/' "
     "does not match site datadoghq.com: set `pulumi config set datadog:apiUrl "
     "https://api.datadoghq.com/`"),
    ({"hostTags": "role:db"}, "datadog-stack:hostTags: must be a list or mapping, not a plain value"),
    ({"hostTags": {"role": "db"}}, "datadog-stack:hostTags: must be a list of key:value strings"),
    ({"hostTags": ["role db"]},
     "datadog-stack:hostTags[0]: 'role db' is not a key:value tag without spaces"),
    ({"hostTags": [""]}, "datadog-stack:hostTags[0]: must be a non-empty string"),
    ({"hostTags": ["role:db", "Env:prod"]}, "datadog-stack:hostTags[1]: 'Env:prod' sets the env "
     "tag: set `datadog-stack:env` instead (the Agent tags the host with it)"),
    ({"hostTags": ["service:shop"]}, "datadog-stack:hostTags[0]: 'service:shop' uses service, a tag "
     "key Datadog reserves (the app's apmService); a host tag would put it on every metric of "
     "the host"),
    ({"databaseKind": "mongodb"}, "datadog-stack:databaseKind: 'mongodb' is not one of mysql, "
     "postgres"),
    ({"databasePort": "0"}, "datadog-stack:databasePort: 0 is outside 1-65535"),
    ({"databaseName": "Prod DB"}, "datadog-stack:databaseName: 'Prod DB' is not a database name"),
    ({"installDatabase": "yes"}, "datadog-stack:installDatabase: 'yes' is not true or false"),
    ({"warningThreshold": "high"}, "datadog-stack:warningThreshold: 'high' is not a number"),
    ({"warningThreshold": "1" * 30 + " thousands and one"},
     "datadog-stack:warningThreshold: '111111111111111111111111111111 thousands' is not a number"),
    ({"warningThreshold": "nan"}, "datadog-stack:warningThreshold: 'nan' is not a finite number"),
    ({"warningThreshold": "800"}, "datadog-stack:warningThreshold: 800 must be below "
     "criticalThreshold 800 (the monitor alerts on values above them)"),
    ({"warningRecovery": "500"}, "datadog-stack:warningRecovery: 500 must be below warningThreshold "
     "500 (the monitor alerts above it and recovers at or below this value)"),
    ({"criticalRecovery": "800.5"}, "datadog-stack:criticalRecovery: 800.5 must be below "
     "criticalThreshold 800 (the monitor alerts above it and recovers at or below this value)"),
    ({"noDataTimeframe": "0"}, "datadog-stack:noDataTimeframe: 0 is outside 1-1440 minutes"),
    ({"noDataTimeframe": "1441"}, "datadog-stack:noDataTimeframe: 1441 is outside 1-1440 minutes"),
    ({"noDataTimeframe": "2.5"}, "datadog-stack:noDataTimeframe: '2.5' is not a whole number"),
    ({"checkInterval": "86401"}, "datadog-stack:checkInterval: 86401 is outside 1-86400 seconds"),
    ({"notify": "ops@example.com"}, "datadog-stack:notify: 'ops@example.com' is not an email "
     "@-handle such as @ops@example.com"),
    ({"notify": " "}, "datadog-stack:notify: must be a non-empty string"),
    ({"env": "Prod"}, "datadog-stack:env: 'Prod' is not an env tag value"),
    ({"timezone": "Mars/Olympus_Mons"}, "datadog-stack:timezone: 'Mars/Olympus_Mons' is not an "
     "IANA timezone such as Europe/Paris"),
    ({"timezone": "/etc/localtime"}, "datadog-stack:timezone: '/etc/localtime' is not an "
     "IANA timezone such as Europe/Paris"),
    ({"timezone": "Antarctica/Troll"}, "datadog-stack:timezone: 'Antarctica/Troll' is not "
     "supported by the DST-safe downtimes: its clocks change by 2:00:00 on 2020-03-29"),
    ({"officeHoursStart": "9am"}, "datadog-stack:officeHoursStart: '9am' is not a time of day HH:MM"),
    ({"officeHoursStart": "25:00"}, "datadog-stack:officeHoursStart: '25:00' is outside 00:00-24:00"),
    ({"officeHoursEnd": "24:30"}, "datadog-stack:officeHoursEnd: '24:30' is outside 00:00-24:00"),
    ({"officeHoursStart": "09:60"}, "datadog-stack:officeHoursStart: '09:60' is outside 00:00-24:00"),
    ({"officeHoursStart": "19:00"},
     "datadog-stack:officeHoursStart: 19:00 must be before officeHoursEnd 19:00"),
    ({"officeHoursStart": "05:30"}, "datadog-stack:officeHoursStart: 05:30 is before 06:00, the "
     "earliest start the DST-safe downtimes support"),
    ({"logsEnabled": "yes"}, "datadog-stack:logsEnabled: 'yes' is not true or false"),
    ({"installAgent": "1"}, "datadog-stack:installAgent: '1' is not true or false"),
    ({"apmService": "Flask App"}, "datadog-stack:apmService: 'Flask App' is not a service name "
     "(lowercase letters, digits, - and _)"),
    ({"apmService": "sshd"}, "datadog-stack:apmService: 'sshd' is reserved: it is the SSH server's "
     "name, and the app's unit /etc/systemd/system/sshd.service, directory /opt/sshd and user "
     "would take it over"),
    ({"apmVersion": "1.0 beta"}, "datadog-stack:apmVersion: '1.0 beta' is not a version tag value "
     "(letters, digits, _ . : / -)"),
    ({"apmPort": "80"}, "datadog-stack:apmPort: 80 is below 1024: the app runs as an unprivileged "
     "dynamic user without CAP_NET_BIND_SERVICE and could not listen there"),
    ({"apmPort": "5432"}, "datadog-stack:apmPort: 5432 is databasePort, where the database listens"),
    ({"apmPort": "8126"}, "datadog-stack:apmPort: 8126 is the Datadog Agent's APM trace intake port"),
    ({"apmPort": "70000"}, "datadog-stack:apmPort: 70000 is outside 1-65535"),
    ({"apmBindAddress": "localhost"}, "datadog-stack:apmBindAddress: 'localhost' is not an IP "
     "address such as 127.0.0.1, 0.0.0.0 or ::"),
    ({"catalogDir": " catalog"}, "datadog-stack:catalogDir: ' catalog' is not a directory path "
     "without control characters or surrounding spaces"),
    ({"datadog:validate": "maybe"}, "datadog:validate: 'maybe' is not true or false"),
    ({"sshAgentSocket": "agent.sock"}, "datadog-stack:sshAgentSocket: 'agent.sock' is not an "
     "absolute path to an ssh-agent socket (the provider expands no ~ or $VAR)"),
    ({"sshAgentSocket": "/run/agent.sock"}, "datadog-stack:sshAgentSocket: is set together with "
     "datadog-stack:sshPrivateKey: set only one of them (the agent keeps the key out of config "
     "and state)"),
    ({"sshPrivateKey": None}, "datadog-stack:sshPrivateKey: is missing; set it with `pulumi config "
     "set --secret datadog-stack:sshPrivateKey ...`, or set datadog-stack:sshAgentSocket to an "
     "ssh-agent's socket instead"),
    ({"datadog:apiKey": None},
     "datadog:apiKey: is missing; set it with `pulumi config set --secret datadog:apiKey ...`"),
    ({"datadog:appKey": None},
     "datadog:appKey: is missing; set it with `pulumi config set --secret datadog:appKey ...`"),
]


@pytest.mark.parametrize("overrides, line", REFUSALS)
def test_a_refusal_is_the_one_line_naming_the_key_and_what_is_wrong(overrides, line):
    assert str(error_for(**overrides)) == line, \
        "bad input gets one clear line naming the key and what is wrong"


# Secrets: the line names the key and the problem, says how to set it, never the value.
HOW = "set it with `pulumi config set --secret {key} ...`"
SECRET_REFUSALS = [
    ({"datadog:apiKey": "0123456789abcdef0123456789abcdef\n"},
     "datadog:apiKey: contains whitespace or a line break (pasted with the key?); {how}"),
    ({"datadog:apiKey": ""}, "datadog:apiKey: is empty; {how}"),
    ({"datadog:apiKey": "0123456789abcdéf0123456789abcdef"}, "datadog:apiKey: contains characters "
     "other than visible ASCII, which a Datadog key never has; {how}"),
    ({"datadog:appKey": "0123456789abcdef0123456789abcdef01234567 "},
     "datadog:appKey: contains whitespace or a line break (pasted with the key?); {how}"),
    ({DB_PASSWORD: ""}, f"{DB_PASSWORD}: is empty (what CI gets from an unset secret): the Agent's "
     "database user needs a password; {how}"),
    ({DB_PASSWORD: "pass\0word"},
     f"{DB_PASSWORD}: contains a NUL character, which no database client can send; {{how}}"),
    ({DB_PASSWORD: "correct-horse\r"}, f"{DB_PASSWORD}: ends in a line break (pasted from a file or "
     "`echo`?); set it without one; {how}"),
    ({DB_PASSWORD: "Œuvre-€", f"{NS}:databaseKind": "mysql"}, f"{DB_PASSWORD}: contains characters "
     "outside Latin-1, which the Agent's MySQL driver (PyMySQL) cannot send; use Latin-1 "
     "characters with databaseKind mysql; {how}"),
    ({f"{NS}:sshPrivateKey": "~/.ssh/id_ed25519"}, f"{NS}:sshPrivateKey: is a file path, not the "
     "key's text: give the file on stdin (`< ~/.ssh/id_ed25519`); {how}"),
    ({f"{NS}:sshPrivateKey": "ecdsa-sha2-nistp256 AAAAE2VjZHNh me@laptop"},
     f"{NS}:sshPrivateKey: is a public key: set the private key's text; {{how}}"),
    ({f"{NS}:sshPrivateKey": " \n"}, f"{NS}:sshPrivateKey: is empty; {{how}}"),
    ({f"{NS}:sshPrivateKey": "sk-ssh-ed25519@openssh.com AAAAGnNr me@laptop"},
     f"{NS}:sshPrivateKey: is a public key: set the private key's text; {{how}}"),
    ({f"{NS}:sshPrivateKey": "sk-ecdsa-sha2-nistp256@openssh.com AAAAInNr me@laptop"},
     f"{NS}:sshPrivateKey: is a public key: set the private key's text; {{how}}"),
    ({f"{NS}:sshPrivateKey": "./id_ed25519"}, f"{NS}:sshPrivateKey: is a file path, not the "
     "key's text: give the file on stdin (`< ~/.ssh/id_ed25519`); {how}"),
    ({f"{NS}:sshPrivateKey": "../keys/id_rsa"}, f"{NS}:sshPrivateKey: is a file path, not the "
     "key's text: give the file on stdin (`< ~/.ssh/id_ed25519`); {how}"),
]


@pytest.mark.parametrize("secrets, line", SECRET_REFUSALS)
def test_a_secret_refusal_is_the_one_line_naming_the_key_the_problem_and_how_to_set_it(
        secrets, line):
    key = line.partition(": ")[0]
    with pytest.raises(settings.ConfigError) as caught:
        plan_with_secrets(secrets)
    assert str(caught.value) == line.format(how=HOW.format(key=key)), \
        "a bad secret gets one line naming its key, the problem and how to set it"


@pytest.mark.parametrize("keys, refused", [
    (["datadog:whatever", f"{NS}:thresholds", f"{NS}:site"], f"{NS}:thresholds"),
    ([f"{NS}:hosts:0"], f"{NS}:hosts:0"),
])
def test_a_misspelt_key_is_refused_rather_than_left_to_a_default(keys, refused):
    with pytest.raises(settings.ConfigError) as caught:
        settings.check_known_keys(keys)
    assert str(caught.value) == \
        f"{refused}: is not a setting of this stack (see docs/configuration.md)", \
        "a key of this stack's namespace that no setting reads is refused, naming it"


# What settings accepts at the edges of each range, and the defaults a missing value takes:
# a value just inside a limit is the user's choice and must come through unchanged.
ACCEPTED = [
    ({"hosts": [{**HOST, "sshPort": 1}]}, lambda s: s.hosts[0].ssh_port, 1),
    ({"hosts": [{**HOST, "sshPort": 65535}]}, lambda s: s.hosts[0].ssh_port, 65535),
    ({"hosts": [{"name": "vm1", "address": "192.0.2.10"}]},
     lambda s: (s.hosts[0].ssh_port, s.hosts[0].ssh_user), (22, "root")),
    ({"hosts": [{**HOST, "address": "2001:DB8::1"}]}, lambda s: s.hosts[0].address, "2001:db8::1"),
    ({"hosts": [{**HOST, "address": "a" * 63 + "." + "b" * 63 + "." + "c" * 63 + "." + "d" * 63}]},
     lambda s: len(s.hosts[0].address), 255),
    ({"hostTags": None}, lambda s: s.agent.host_tags, ()),
    ({"noDataTimeframe": "1"}, lambda s: s.no_data_minutes, 1),
    ({"noDataTimeframe": "1440"}, lambda s: s.no_data_minutes, 1440),
    ({"checkInterval": "1"}, lambda s: s.agent.check_interval, 1),
    ({"checkInterval": "86400"}, lambda s: s.agent.check_interval, 86400),
    ({"officeHoursStart": "06:00", "officeHoursEnd": "24:00"},
     lambda s: (s.office_hours.start_minutes, s.office_hours.end_minutes), (360, 1440)),
    ({"officeHoursEnd": "23:59"}, lambda s: s.office_hours.end_minutes, 1439),
    ({"apmPort": "65535"}, lambda s: s.apm.port, 65535),
    ({"databasePort": "1"}, lambda s: s.database.port, 1),
    ({"warningThreshold": "799.5", "warningRecovery": "799.25", "criticalRecovery": "799.75"},
     lambda s: (s.thresholds.warning, s.thresholds.critical, s.thresholds.warning_recovery,
                s.thresholds.critical_recovery), (799.5, 800, 799.25, 799.75)),
    ({"logsEnabled": "TRUE", "installAgent": "False"},
     lambda s: (s.agent.logs_enabled, s.agent.install_agent), (True, False)),
    ({"datadog:validate": "false"}, lambda s: s.validate, False),
    ({"datadog:validate": None}, lambda s: s.validate, True),
    ({"env": None}, lambda s: s.env, "dev"),
    ({"catalogDir": None, "sshAgentSocket": None},
     lambda s: (s.catalog_dir, s.ssh_agent_socket), ("catalog", "")),
    ({"databaseKind": "mysql", "databaseName": None},
     lambda s: (s.database.name, s.database.port, s.database.host), ("mysql", 3306, "localhost")),
    ({"databaseName": None}, lambda s: (s.database.name, s.database.port), ("postgres", 5432)),
    ({"datadog:apiUrl": "http://localhost:8080/"}, lambda s: s.site, "datadoghq.com"),
    ({"datadog:apiUrl": "https://api.datadoghq.com"}, lambda s: s.site, "datadoghq.com"),
    ({"apmBindAddress": "0:0::0"}, lambda s: s.apm.bind_address, "::"),
    ({"hostTags": ["Role:db", "team:a/b"]}, lambda s: s.agent.host_tags, ("Role:db", "team:a/b")),
    ({"timezone": "America/New_York"}, lambda s: s.timezone, "America/New_York"),
    ({"sshAgentSocket": "/run/agent.sock", "sshPrivateKey": None},
     lambda s: (s.ssh_agent_socket, s.secrets.ssh_private_key), ("/run/agent.sock", None)),
]


@pytest.mark.parametrize("overrides, read, expected", ACCEPTED)
def test_a_value_at_the_edge_of_its_range_or_a_default_comes_through_unchanged(
        overrides, read, expected):
    assert read(load(**overrides)) == expected, \
        "a value inside its range, or a missing value's default, reaches the settings as given"
