"""The catalog in the program: dropping an exported file into the catalog directory declares
one MonitorJson/DashboardJson named after it, under the `catalog` component; a bad file stops
`make plan` with exit 2 and one line, before any resource."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from rules import catalog
from tests.catalog_corpus.build import HERE
from tests.unit.test_plan import ROOT, run_cli, write_config

pytestmark = pytest.mark.unit


def catalog_dir(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "catalog"
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def plan(capsys, tmp_path, files: dict[str, str]) -> tuple[int, dict | None, str]:
    config = write_config(tmp_path, **{"datadog-stack:catalogDir": str(catalog_dir(tmp_path, files))})
    code, out, err = run_cli(capsys, "--json", "--config-file", str(config))
    return code, (json.loads(out) if code == 0 else None), err


def ic(name: str) -> str:
    return (HERE / "integrations-core" / name).read_text()


def test_each_file_is_one_resource_named_after_it_under_the_catalog(capsys, tmp_path):
    code, result, _ = plan(capsys, tmp_path, {
        "monitors/pg-connections.json": ic("postgres-percent_usage_connections.json"),
        "dashboards/mysql.json": ic("mysql-overview.json")})
    assert code == 0
    found = {(r["type"], r["name"], r["parent"]) for r in result["resources"] if r["parent"] == "catalog"}
    assert found == {(catalog.RESOURCE_TYPES["monitor"], "monitor-pg-connections", "catalog"),
                     (catalog.RESOURCE_TYPES["dashboard"], "dashboard-mysql", "catalog")}


def test_the_resource_input_is_the_normalised_body(capsys, tmp_path):
    _, result, _ = plan(capsys, tmp_path, {"monitors/pg.json": ic("postgres-percent_usage_connections.json")})
    (monitor,) = [r for r in result["resources"] if r["name"] == "monitor-pg"]
    body = json.loads(monitor["inputs"]["monitor"])
    assert body["options"]["renotify_interval"] == 0 and "version" not in body, \
        "the recommended monitor is sent as a monitor, its numbers as numbers"


def test_an_absent_or_empty_catalog_declares_nothing(capsys, tmp_path):
    code, result, _ = plan(capsys, tmp_path, {})
    assert code == 0
    assert not [r for r in result["resources"] if "catalog" in (r["type"] + str(r["parent"]))], \
        "no catalog component without catalog files"


@pytest.mark.parametrize("files,message", [
    ({"monitors/x.json": "{"}, "monitors/x.json: is not JSON"),
    ({"monitors/x.json": json.dumps({"name": "n", "type": "query alert", "query": "q > 1",
                                     "message": "<<stack.team>>"})},
     "monitors/x.json at $.message: <<stack.team>> is not a placeholder"),
])
def test_a_bad_file_stops_the_plan_with_one_line_and_exit_2(capsys, tmp_path, files, message):
    code, result, err = plan(capsys, tmp_path, files)
    assert code == 2 and result is None
    assert err.count("\n") == 1 and message in err, err


def test_a_bad_file_fails_before_any_resource_is_declared(tmp_path, monkeypatch):
    import pulumi

    from tools import plan as plan_tool

    declared = []
    real = pulumi.CustomResource.__init__

    def spy(self, t, name, *args, **kwargs):
        declared.append(name)
        return real(self, t, name, *args, **kwargs)

    monkeypatch.setattr(pulumi.CustomResource, "__init__", spy)
    root = catalog_dir(tmp_path, {"dashboards/d.json": "[]"})
    config = write_config(tmp_path, **{"datadog-stack:catalogDir": str(root)})
    with pytest.raises(catalog.CatalogError):
        plan_tool.run(plan_tool.StackConfig.from_file(config), "review")
    assert declared == [], "a bad catalog file must stop the program before any resource"


def test_a_catalog_dir_that_is_a_file_names_the_key(capsys, tmp_path):
    path = tmp_path / "catalog.json"
    path.write_text("{}")
    config = write_config(tmp_path, **{"datadog-stack:catalogDir": str(path)})
    code, _, err = run_cli(capsys, "--config-file", str(config))
    assert code == 2 and "datadog-stack:catalogDir: " in err


def test_the_dev_stack_carries_the_example_catalog(capsys):
    _, out, _ = run_cli(capsys, "--json")
    names = {r["name"] for r in json.loads(out)["resources"] if r["parent"] == "catalog"}
    shipped = {f"{p.parent.name[:-1]}-{p.stem}" for p in (ROOT / "catalog").glob("*/*.json")}
    assert names == shipped and shipped, "every shipped catalog file is in the dev plan"


def test_a_catalog_monitor_with_the_downtime_tag_joins_the_off_hours_downtimes(capsys):
    _, out, _ = run_cli(capsys, "--json")
    resources = json.loads(out)["resources"]
    (agent_up,) = [r for r in resources if r["name"] == "monitor-agent-up"]
    muted_by = {t for r in resources if r["type"].endswith("DowntimeSchedule")
                for t in r["inputs"]["monitorIdentifier"]["monitorTags"]}
    assert muted_by & set(json.loads(agent_up["inputs"]["monitor"])["tags"]), \
        "<<stack.downtimeTag>> puts the monitor under the downtimes"



def test_make_drift_names_a_catalog_object_changed_outside_the_stack():
    from tools import drift

    urn = "urn:pulumi:dev::datadog-stack::datadog-stack:index:Catalog$datadog:index/"
    document = {"steps": [
        {"op": "same", "urn": urn + "dashboardJson:DashboardJson::dashboard-hosts"},
        {"op": "update", "urn": urn + "monitorJson:MonitorJson::monitor-agent-up", "diffReasons": ["monitor"]},
    ]}
    assert drift.summarize_preview(document) == [
        "update   monitor-agent-up (datadog:index/monitorJson:MonitorJson): changed outside the stack: monitor"]


def test_a_file_that_is_not_utf8_is_one_line_not_a_traceback(capsys, tmp_path):
    root = catalog_dir(tmp_path, {})
    (root / "monitors").mkdir(parents=True)
    (root / "monitors" / "latin1.json").write_bytes('{"name": "caf\xe9"}'.encode("latin-1"))
    config = write_config(tmp_path, **{"datadog-stack:catalogDir": str(root)})
    code, _, err = run_cli(capsys, "--config-file", str(config))
    assert code == 2 and err.count("\n") == 1 and "monitors/latin1.json: is not UTF-8 text" in err, err


@pytest.mark.parametrize("value", ["catalog\n", " catalog", "catalog\t"])  # pasted
def test_a_catalog_dir_with_control_characters_is_refused_not_read_as_no_catalog(
        capsys, tmp_path, value):
    config = write_config(tmp_path, **{"datadog-stack:catalogDir": value})
    code, _, err = run_cli(capsys, "--config-file", str(config))
    assert code == 2 and err.count("\n") == 1, err
    assert "datadog-stack:catalogDir: " in err and "is not a directory path" in err, (
        "a catalogDir that names no directory must be refused, not silently mean no catalog")


def test_pulumi_up_stops_with_one_line_naming_a_bad_catalog_file_before_any_resource(tmp_path):
    # __main__ as `pulumi preview` and `pulumi up` run it: the engine prints a RunError as one
    # line, where any other exception would reach the user as a Python traceback.
    import runpy

    import pulumi

    from tests.unit.test_settings import DEV, set_config
    from tools import mock_engine

    mocks = mock_engine.Mocks()
    mock_engine.start(mocks, stack="dev", preview=True)
    bad = catalog_dir(tmp_path, {"monitors/broken.json": '{"name": "x", "type":'})
    set_config(catalogDir=str(bad))
    with pytest.raises(pulumi.RunError) as caught:
        runpy.run_path(str(DEV.parent / "__main__.py"), run_name="__main__")
    message = str(caught.value)
    assert message.startswith("invalid configuration: ") and "broken.json" in message \
        and "\n" not in message, f"one line naming the bad file: {message!r}"
    assert mocks.inputs == {}, "no resource is declared before the catalog is valid"
