"""`python -m tools.adopt --catalog` against the Datadog API stand-in: the account's monitors
and dashboards that the stack does not manage become catalog files plus an import file, and
what the files declare is what Datadog answers (so `pulumi import` then `pulumi up` is a no-op)."""
from __future__ import annotations

import json

import pytest
import yaml

from components import catalog as catalog_component
from rules import catalog
from tests.catalog_corpus.build import HERE
from tests.unit.adopt_fixtures import SEED_OBJECTS, seed_stack_config
from tests.unit.test_adopt_command import KEYS, post, seed_monitor, standin  # noqa: F401 (fixture)
from tools import adopt

pytestmark = pytest.mark.unit


def ic(name: str) -> dict:
    raw = json.loads((HERE / "integrations-core" / name).read_text())
    return raw.get("definition", raw)


def run(tmp_path, handle, capsys, *extra):
    config = seed_stack_config(tmp_path, handle.url)
    document = yaml.safe_load(config.read_text())
    document["config"]["datadog-stack:catalogDir"] = str(tmp_path / "catalog")
    config.write_text(yaml.safe_dump(document))
    out = tmp_path / "adopt.json"
    with pytest.MonkeyPatch.context() as patch:
        for name, value in KEYS.items():
            patch.setenv(name, value)
        code = adopt.main(["--catalog", "--config-file", str(config), "--output", str(out), *extra])
    captured = capsys.readouterr()
    return code, captured.out + captured.err, out


def get(handle, kind: str, object_id) -> dict:
    import urllib.request

    request = urllib.request.Request(f"{handle.url}/api/v1/{kind}/{object_id}",
                                     headers={"DD-API-KEY": "k", "DD-APPLICATION-KEY": "a"})
    with urllib.request.urlopen(request) as answer:
        return json.load(answer)


@pytest.fixture
def account(standin):  # noqa: F811
    """The seed's own monitor and board (the stack's), one monitor the stack made, and two
    objects the team made from Datadog's integration assets."""
    post(standin, "/api/v1/monitor", seed_monitor())
    post(standin, "/api/v1/dashboard", SEED_OBJECTS["dashboard"])
    post(standin, "/api/v1/monitor", {**ic("postgres-replication_delay.json"), "options": {
        "thresholds": {"critical": 1}}, "tags": ["managed-by:pulumi", "stack:seed", "env:dev"]})
    monitor = post(standin, "/api/v1/monitor", {**ic("postgres-percent_usage_connections.json"), "options": {
        **ic("postgres-percent_usage_connections.json")["options"], "renotify_interval": 0}})
    board = post(standin, "/api/v1/dashboard", ic("mysql-overview.json"))
    return {"monitor": monitor["id"], "dashboard": board["id"]}


def test_unmanaged_objects_become_catalog_files_and_import_entries(tmp_path, standin, account, capsys):  # noqa: F811
    code, out, path = run(tmp_path, standin, capsys)
    assert code == 0, out
    files = sorted(p.relative_to(tmp_path / "catalog").as_posix() for p in (tmp_path / "catalog").rglob("*.json"))
    assert files == ["dashboards/mysql-overview.json",
                     "monitors/postgres-number-of-connections-is-approaching-connection-limit-on-host-name.json"], \
        "only the objects the stack neither manages nor made are adopted"
    entries = {e["name"]: (e["type"], e.get("id"), e.get("parent")) for e in json.loads(path.read_text())["resources"]}
    assert entries == {
        "catalog-component": (catalog_component.TYPE, None, None),
        "dashboard-mysql-overview": (catalog.RESOURCE_TYPES["dashboard"], account["dashboard"], "catalog-component"),
        "monitor-postgres-number-of-connections-is-approaching-connection-limit-on-host-name":
            (catalog.RESOURCE_TYPES["monitor"], str(account["monitor"]), "catalog-component")}


def test_an_adopted_file_declares_exactly_what_datadog_answers(tmp_path, standin, account, capsys):  # noqa: F811
    run(tmp_path, standin, capsys)
    root = tmp_path / "catalog"
    files = {p.relative_to(root).as_posix(): p.read_text() for p in root.rglob("*.json")}
    for obj in catalog.objects(files, {}):
        object_id = account[obj.kind]
        answer = get(standin, obj.kind, object_id)
        assert catalog.diff(obj.kind, obj.body, answer) == [], \
            f"{obj.file}: `pulumi import` then `pulumi up` would change {obj.kind} {object_id}"


def test_query_picks_objects_by_name_or_title(tmp_path, standin, account, capsys):  # noqa: F811
    code, _, path = run(tmp_path, standin, capsys, "--query", "MYSQL")
    assert code == 0
    names = [e["name"] for e in json.loads(path.read_text())["resources"] if not e.get("component")]
    assert names == ["dashboard-mysql-overview"]


def test_an_existing_file_is_never_overwritten(tmp_path, standin, account, capsys):  # noqa: F811
    mine = tmp_path / "catalog" / "dashboards" / "mysql-overview.json"
    mine.parent.mkdir(parents=True)
    mine.write_text(json.dumps({"title": "mine", "layout_type": "ordered", "widgets": []}))
    before = mine.read_text()
    code, out, _ = run(tmp_path, standin, capsys, "--query", "mysql")
    assert code == 0 and mine.read_text() == before, "the user's file is left alone"
    assert (mine.parent / f"mysql-overview-{account['dashboard']}.json").is_file(), out


def test_a_second_run_finds_everything_already_in_the_catalog(tmp_path, standin, account, capsys):  # noqa: F811
    run(tmp_path, standin, capsys)
    code, out, _ = run(tmp_path, standin, capsys)
    assert code == 0 and "nothing to adopt" in out and out.count("already in the catalog") == 2, out


def test_query_without_catalog_is_refused(capsys):
    with pytest.raises(SystemExit) as stop:
        adopt.main(["--query", "x"])
    assert stop.value.code == 2 and "--query goes with --catalog" in capsys.readouterr().err
