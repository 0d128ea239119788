"""Bad input stops the program with one line naming the config key, before any resource."""
from __future__ import annotations

import json
from pathlib import Path

import pulumi
import pytest

import settings
from pulumi_config import PulumiConfig
from tools.plan import StackConfig

DEV = Path(__file__).resolve().parents[2] / "Pulumi.dev.yaml"
NS = settings.NAMESPACE


def load(**overrides):
    """Load the dev stack's settings with some keys replaced (None removes a key)."""
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
    return settings.load(PulumiConfig(), "dev")


def error_for(**overrides) -> settings.ConfigError:
    with pytest.raises(settings.ConfigError) as caught:
        load(**overrides)
    assert "\n" not in str(caught.value), "the error is a single line"
    return caught.value


def test_dev_stack_loads_with_seed_values():
    loaded = load()
    assert (loaded.thresholds.warning, loaded.thresholds.critical) == (500, 800)
    assert loaded.no_data_minutes == 10 and loaded.check_interval == 45
    assert loaded.hosts[0].name == "vm1" and loaded.database.kind == "postgres"
    assert loaded.database.port == 5432, "postgres defaults to its standard port"


def test_defaults_apply_to_unset_keys():
    loaded = load(warningThreshold=None, criticalThreshold=None, timezone=None,
                  officeHoursStart=None, officeHoursEnd=None, checkInterval=None)
    assert (loaded.thresholds.warning, loaded.thresholds.critical) == (500, 800)
    assert loaded.timezone == "UTC" and loaded.check_interval == 45
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
