"""The components as a package, consumed by another program through the real engine (issue 22,
item 4): a minimal Pulumi YAML program runs `pulumi package add <the package>`, then previews
and ups a MetricMonitor and the OffHoursDowntimes against the Datadog API stand-in, given
the Args this stack gives them; the Datadog resources it gets have this stack's inputs (the
offline plan's, at the same clock). Skips, in one line, where the `pulumi` CLI or the
plugins are missing.

Without the engine, tests/unit/test_component_args.py proves the same as far as it goes:
every component built through the SDK's ComponentProvider.construct declares what Python
declares, and tests/unit/test_package_schema.py that the plugin serves the schema.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from datetime import datetime, timedelta, timezone

import pytest
import yaml

from tests.e2e.lifecycle import CANARIES, PASSPHRASE, REPO, missing

pytestmark = pytest.mark.e2e
_why = missing()
if _why:
    pytest.skip(f"e2e tier skipped: {_why}", allow_module_level=True)

# What the package is made of: the plugin's entry point and what the components import or
# ship to a VM. Copied, so the plugin's virtualenv can be the repository's own.
PACKAGE_FILES = ("provider", "components", "rules", "agent_files", "app", "domain.py",
                 "settings.py", "pulumi_config.py", "requirements.txt")
CONSUMED = ("MetricMonitor", "OffHoursDowntimes")
MONITOR = "datadog:index/monitor:Monitor"
DOWNTIME = "datadog:index/downtimeSchedule:DowntimeSchedule"
# Tomorrow, so every downtime's first start is in the stand-in's future (Datadog refuses a
# start in the past); the plan runs at the same clock.
NOW = (datetime.now(timezone.utc) + timedelta(days=1)).replace(microsecond=0)


# In each object of a resource's state inputs the bridge keeps the keys it filled from schema
# defaults, under "__defaults" (pulumi-terraform-bridge pkg/reservedkeys/keys.go, Defaults;
# pkg/tfbridge/schema.go): the engine's bookkeeping, never part of the payload Datadog gets.
BRIDGE_KEYS = ("__defaults",)


def payload(value):
    """State inputs as Datadog gets them: the bridge's bookkeeping keys dropped at any depth."""
    if isinstance(value, dict):
        return {k: payload(v) for k, v in value.items() if k not in BRIDGE_KEYS}
    if isinstance(value, list):
        return [payload(v) for v in value]
    return value


def cli(cwd, env, *args: str) -> str:
    done = subprocess.run(["pulumi", *args], cwd=cwd, env={**os.environ, **env},
                          capture_output=True, text=True)
    assert done.returncode == 0, f"pulumi {' '.join(args)}: {done.stdout}{done.stderr}"
    return done.stdout


# pulumi-language-yaml v1.25.0, the newest the Go proxy serves here, predates the language
# host's Link method that the CLI (v3.274) calls at the end of `pulumi package add`
# (pkg/cmd/pulumi/packages/packages.go, LinkPackages), so the CLI stops before it records the
# package (packagecmd/package_add.go: AddPackage runs after InstallPackage succeeds).
NO_LINK = "method Link not implemented"


def package_add(project, env, source) -> tuple[str, str]:
    """`pulumi package add SOURCE`; where the YAML host cannot link, the `packages:` entry the
    CLI would have recorded (the package's name and its source path) is written instead, and
    the second value says why, so only the test of `package add` itself skips."""
    done = subprocess.run(["pulumi", "package", "add", str(source)], cwd=project,
                          env={**os.environ, **env}, capture_output=True, text=True)
    if done.returncode == 0:
        return done.stdout, ""
    assert NO_LINK in done.stdout + done.stderr, \
        f"pulumi package add {source}: {done.stdout}{done.stderr}"
    path = project / "Pulumi.yaml"
    document = yaml.safe_load(path.read_text())
    document.setdefault("packages", {})["datadog-stack"] = str(source)
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return done.stdout, f"this YAML language host cannot link a package ({NO_LINK})"


def stack_args() -> list[tuple[type, str, object]]:
    """The components this stack declares, with their Args, at NOW."""
    import program
    from tests.unit.test_component_args import declared_args, dev_settings
    from tools import mock_engine

    settings = dev_settings()
    mock_engine.start(mock_engine.Mocks(), stack="dev", preview=False)
    return [d for d in declared_args(lambda: program._datadog(settings, NOW))
            if d[0].__name__ in CONSUMED]


def consumer_program(declared) -> dict:
    """The YAML program: one resource per consumed component, its Args as properties."""
    from components import package
    from tests.unit.test_component_args import engine_form

    return {
        "name": "package-consumer",
        "runtime": "yaml",
        "resources": {name: {"type": package.token(cls.__name__),
                             "properties": engine_form(args)}
                      for cls, name, args in declared},
    }


@pytest.fixture(scope="module")
def consumer(standin, tmp_path_factory):
    """The consumer project, its package added, a stack configured for the stand-in."""
    root = tmp_path_factory.mktemp("package")
    built = root / "datadog-stack"
    built.mkdir()
    for name in PACKAGE_FILES:
        source = REPO / name
        (shutil.copytree if source.is_dir() else shutil.copy)(source, built / name)
    plugin = yaml.safe_load((built / "provider" / "PulumiPlugin.yaml").read_text())
    plugin["runtime"]["options"]["virtualenv"] = str(REPO / "venv")
    (built / "provider" / "PulumiPlugin.yaml").write_text(yaml.safe_dump(plugin))

    project = root / "consumer"
    project.mkdir()
    declared = stack_args()
    (project / "Pulumi.yaml").write_text(yaml.safe_dump(consumer_program(declared),
                                                        sort_keys=False))
    (root / "state").mkdir()
    env = {"PULUMI_BACKEND_URL": f"file://{root / 'state'}",
           "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE, "PULUMI_SKIP_UPDATE_CHECK": "true"}
    added, unlinked = package_add(project, env, built / "provider")
    cli(project, env, "stack", "init", "e2e")
    cli(project, env, "config", "set", "datadog:apiUrl", standin.url + "/")
    cli(project, env, "config", "set", "datadog:validate", "true")
    for key in ("datadog:apiKey", "datadog:appKey"):
        cli(project, env, "config", "set", "--secret", key, CANARIES[key])
    yield {"dir": project, "env": env, "added": added, "declared": declared, "unlinked": unlinked}
    subprocess.run(["pulumi", "destroy", "--yes", "--stack", "e2e"], cwd=project,
                   env={**os.environ, **env}, capture_output=True)


@pytest.fixture(scope="module")
def up(consumer):
    preview = cli(consumer["dir"], consumer["env"], "preview", "--stack", "e2e", "--json")
    cli(consumer["dir"], consumer["env"], "up", "--yes", "--stack", "e2e")
    exported = json.loads(cli(consumer["dir"], consumer["env"], "stack", "export",
                              "--stack", "e2e"))
    return {"preview": json.loads(preview), "resources": exported["deployment"]["resources"]}


def test_package_add_names_the_package_in_the_consumer_project(consumer):
    if consumer["unlinked"]:
        pytest.skip(f"`pulumi package add` not provable here: {consumer['unlinked']}")
    project = yaml.safe_load((consumer["dir"] / "Pulumi.yaml").read_text())
    assert "datadog-stack" in (project.get("packages") or {}), \
        f"`pulumi package add` records the package: {consumer['added']}"


def test_the_preview_creates_the_components_and_their_datadog_resources(up):
    creates = sorted(step["newState"]["type"] for step in up["preview"]["steps"]
                     if step["op"] == "create")
    assert creates.count(MONITOR) == 1 and creates.count(DOWNTIME) == 2, creates


def test_the_consumer_gets_this_stacks_monitor_and_downtimes(up):
    from tools.plan import StackConfig, run
    from tests.unit.test_component_args import DEV

    plan = run(StackConfig.from_file(DEV), "dev", created=True, mask=False, now=NOW)
    expected = {r["name"]: r["inputs"] for r in plan.resources if r["type"] in (MONITOR, DOWNTIME)}
    got = {r["urn"].rsplit("::", 1)[1]: payload(r.get("inputs", {})) for r in up["resources"]
           if r["type"] in (MONITOR, DOWNTIME)}
    assert sorted(got) == sorted(expected), "the same resources, by name"
    differing = {name: sorted(k for k in inputs if got[name].get(k) != inputs[k])
                 for name, inputs in expected.items()}
    assert {n: keys for n, keys in differing.items() if keys} == {}, \
        "another program using the package sends Datadog this stack's payloads"


def test_a_second_up_changes_nothing(consumer, up):
    preview = json.loads(cli(consumer["dir"], consumer["env"], "preview", "--stack", "e2e",
                             "--json"))
    changed = [s["urn"] for s in preview["steps"] if s["op"] not in ("same", "read")]
    assert changed == [], "a deterministic package: the same inputs, no change"
