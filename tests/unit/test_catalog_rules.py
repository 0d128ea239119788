"""rules/catalog.py: a catalog file, in any shape Datadog exports, becomes the API body the
stack sends; a bad file is one error naming the file and the JSON path; the provider's own
diff (reproduced from terraform-provider-datadog c17cf16) sees what a user would see."""
from __future__ import annotations

import json

import pytest

from rules import catalog
from tests.catalog_corpus.build import HERE

pytestmark = pytest.mark.unit

VALUES = catalog.placeholder_values(stack="dev", env="dev-env", host_scope="host:(vm1 OR vm2)",
                                    notify="@ops@example.com",
                                    downtime_tag="off-hours-downtimes:datadog-stack/dev")
MONITOR = {"name": "m", "type": "query alert", "query": "avg(last_5m):avg:a{*} > 2",
           "message": "hi", "tags": ["b:1", "a:1"], "options": {"thresholds": {"critical": 2}}}
DASHBOARD = {"title": "d", "layout_type": "ordered", "widgets": [
    {"definition": {"type": "note", "content": "x"}}]}


def one(file: str, content) -> catalog.CatalogObject:
    text = content if isinstance(content, str) else json.dumps(content)
    (found,) = catalog.objects({file: text}, VALUES)
    return found


def recommended(name: str) -> dict:
    return json.loads((HERE / "integrations-core" / name).read_text())


# -- shapes -----------------------------------------------------------------------------

def test_a_recommended_monitor_is_its_definition_with_numbers_as_numbers():
    body = one("monitors/pg.json", recommended("postgres-percent_usage_connections.json")).body
    assert body["name"].startswith("[Postgres] Number of connections"), "the wrapper's definition is the monitor"
    assert body["options"]["renotify_interval"] == 0, '"renotify_interval": "0" is sent as the number 0'
    assert "version" not in body and "definition" not in body, "the wrapper's own keys are not sent"


@pytest.mark.parametrize("field", ["id", "org_id", "creator", "created", "modified", "overall_state",
                                   "overall_state_modified", "deleted", "multi", "matching_downtimes",
                                   "draft_status", "restricted_roles", "restriction_policy"])
def test_a_monitor_get_body_loses_its_server_side_fields(field):
    body = one("monitors/m.json", {**MONITOR, field: {"id": 5} if field != "restricted_roles" else None}).body
    assert field not in body, f"{field} is Datadog's to set (monitorComputedFields, or null/separate)"


def test_a_monitor_loses_its_mutes_which_downtimes_own():
    body = one("monitors/m.json", {**MONITOR, "options": {**MONITOR["options"], "silenced": {"*": None}}}).body
    assert "silenced" not in body["options"], "options.silenced is computed by the provider"


@pytest.mark.parametrize("field,value", [("id", "abc-def-ghi"), ("author_handle", "a@b.c"),
                                         ("author_name", "A"), ("created_at", "2026-01-01"),
                                         ("modified_at", "2026-01-01"), ("url", "/dashboard/x"),
                                         ("is_read_only", False), ("pause_auto_refresh", False)])
def test_a_dashboard_export_loses_what_datadog_does_not_take_back(field, value):
    assert field not in one("dashboards/d.json", {**DASHBOARD, field: value}).body, \
        f"{field} is computed, deprecated or not answered back"


def test_a_paused_dashboard_keeps_its_pause():
    assert one("dashboards/d.json", {**DASHBOARD, "pause_auto_refresh": True}).body["pause_auto_refresh"] is True


@pytest.mark.parametrize("kind,content,key,value", [
    ("monitors", MONITOR, ("options", "notify_audit"), False),
    ("monitors", MONITOR, ("options", "include_tags"), True),
    ("monitors", MONITOR, ("priority",), None),
    ("monitors", {**MONITOR, "options": {}}, ("options", "thresholds", "critical"), 2),
    ("monitors", {**MONITOR, "type": "log alert", "query": 'logs("x").index("*").rollup("count").last("5m") > 1'},
     ("options", "groupby_simple_monitor"), False),
    ("monitors", MONITOR, ("tags",), ["a:1", "b:1"]),
    ("dashboards", DASHBOARD, ("description",), None),
    ("dashboards", DASHBOARD, ("notify_list",), []),
])
def test_what_datadog_fills_in_is_in_the_body(kind, content, key, value):
    body = one(f"{kind}/x.json", content).body
    for part in key:
        body = body[part]
    assert body == value, f"{'.'.join(key)} is what Datadog answers when it is left out"


def test_same_file_gives_the_same_input_whatever_its_key_order():
    shuffled = dict(reversed(list(MONITOR.items())))
    assert one("monitors/m.json", MONITOR).text == one("monitors/m.json", shuffled).text


def test_the_resource_is_named_after_the_kind_and_the_file():
    assert one("monitors/postgres-connections.json", MONITOR).name == "monitor-postgres-connections"
    assert one("dashboards/mysql.json", DASHBOARD).name == "dashboard-mysql"


# -- placeholders -------------------------------------------------------------------------

@pytest.mark.parametrize("placeholder,value", [
    ("<<stack.env>>", "dev-env"), ("<<stack.name>>", "dev"), ("<<stack.hosts>>", "host:(vm1 OR vm2)"),
    ("<<stack.notify>>", "@ops@example.com"), ("<<stack.downtimeTag>>", "off-hours-downtimes:datadog-stack/dev")])
def test_a_placeholder_becomes_the_stacks_value(placeholder, value):
    body = one("monitors/m.json", {**MONITOR, "message": f"see {placeholder} now"}).body
    assert body["message"] == f"see {value} now"


def test_monitor_tags_are_sent_sorted_after_the_placeholders_are_filled():
    body = one("monitors/m.json", {**MONITOR, "tags": ["env:<<stack.env>>", "<<stack.downtimeTag>>"]}).body
    assert body["tags"] == ["env:dev-env", "off-hours-downtimes:datadog-stack/dev"], \
        "Datadog answers monitor tags sorted: the input must be sorted by its final values"


@pytest.mark.parametrize("text", ["{{host.name}} is {{value}}", "{{#is_alert}}x{{/is_alert}}",
                                  "avg:a{$host,$env.value}", "@slack-ops <!here>", "a << b >> c",
                                  "<<env>>"])
def test_datadogs_own_variables_pass_through_untouched(text):
    assert one("monitors/m.json", {**MONITOR, "message": text}).body["message"] == text


@pytest.mark.parametrize("content,path", [
    ({**MONITOR, "message": "<<stack.region>>"}, "$.message"),
    ({**MONITOR, "tags": ["env:<<stack.Env>>"]}, "$.tags[0]"),
    ({**MONITOR, "message": "<<stack.env"}, "$.message"),
])
def test_an_unknown_placeholder_names_file_and_path(content, path):
    with pytest.raises(catalog.CatalogError) as error:
        one("monitors/m.json", content)
    assert str(error.value).startswith(f"catalog/monitors/m.json at {path}: "), str(error.value)


def test_no_corpus_object_uses_the_placeholder_syntax():
    from tests.standins.datadog_api.replay import cassette_dir
    from tests.catalog_corpus.build import corpus

    clashing = [s.name for s in corpus(cassette_dir()) if "<<stack." in json.dumps(s.raw)]
    assert not clashing, "the placeholder syntax must not occur in Datadog's own objects"


# -- bad files ----------------------------------------------------------------------------

@pytest.mark.parametrize("file,text,message", [
    ("monitors/m.json", "{not json", "catalog/monitors/m.json: is not JSON: Expecting property name"),
    ("monitors/m.json", "[1, 2]", "catalog/monitors/m.json at $: must be a JSON object (a monitor), not a list"),
    ("monitors/m.json", json.dumps({"name": "x", "type": "query alert"}),
     "catalog/monitors/m.json at $: is not a monitor: it has no 'query'"),
    ("monitors/m.json", json.dumps(DASHBOARD), "catalog/monitors/m.json: is a dashboard, not a monitor"),
    ("dashboards/d.json", json.dumps(MONITOR), "catalog/dashboards/d.json: is a monitor, not a dashboard"),
    ("monitors/m.json", json.dumps({**MONITOR, "options": {"thresholds": {"critical": "high"}}}),
     "catalog/monitors/m.json at $.options.thresholds.critical: 'high' is not a number"),
    ("monitors/m.json", json.dumps({**MONITOR, "tags": "a:b"}),
     "catalog/monitors/m.json at $.tags: must be a list of strings, not a string"),
    ("monitors/m.json", json.dumps({**MONITOR, "options": {"renotify_interval": 1.5}}),
     "catalog/monitors/m.json at $.options.renotify_interval: 1.5 is not a whole number"),
    ("monitors/m.json", json.dumps({**MONITOR, "priority": 9}), "catalog/monitors/m.json at $.priority: 9 is outside 1-5"),
    ("dashboards/d.json", json.dumps({**DASHBOARD, "layout_type": "grid"}),
     "catalog/dashboards/d.json at $.layout_type: 'grid' is not a layout"),
    ("dashboards/d.json", json.dumps({**DASHBOARD, "widgets": [{"definition": {"title": "t"}}]}),
     "catalog/dashboards/d.json at $.widgets[0].definition.type: must be a string, not null"),
    # each JSON type is named as the file has it, so the fix is plain
    ("monitors/m.json", json.dumps({**MONITOR, "priority": {"p": 1}}),
     "catalog/monitors/m.json at $.priority: must be a number, not an object"),
    ("monitors/m.json", json.dumps({**MONITOR, "priority": [1]}),
     "catalog/monitors/m.json at $.priority: must be a number, not a list"),
    ("monitors/m.json", json.dumps({**MONITOR, "priority": True}),
     "catalog/monitors/m.json at $.priority: must be a number, not a boolean"),
    ("dashboards/d.json", json.dumps({**DASHBOARD, "widgets": [{"definition": {"type": 5}}]}),
     "catalog/dashboards/d.json at $.widgets[0].definition.type: must be a string, not a number"),
    ("dashboards/d.json", json.dumps({**DASHBOARD, "widgets": [{"definition": {"type": 0.5}}]}),
     "catalog/dashboards/d.json at $.widgets[0].definition.type: must be a string, not a number"),
    ("monitors/m.json", json.dumps({**MONITOR, "tags": [{"a": 1}]}),
     "catalog/monitors/m.json at $.tags[0]: must be a string, not an object"),
    ("monitor/m.json", json.dumps(MONITOR), "catalog/monitor/m.json: is not in monitors/ or dashboards/"),
    ("monitors/a b.json", json.dumps(MONITOR), "catalog/monitors/a b.json: has a name that cannot name a resource"),
])
def test_a_bad_file_is_one_line_naming_file_and_path(file, text, message):
    with pytest.raises(catalog.CatalogError) as error:
        catalog.objects({file: text}, VALUES)
    assert str(error.value).startswith(message), str(error.value)
    assert "\n" not in str(error.value), "one line"


@pytest.mark.parametrize("first,second,message", [
    ({**MONITOR, "id": 7}, {**MONITOR, "id": 7, "name": "other"}, "(both have id 7)"),
    (MONITOR, {**MONITOR, "tags": list(reversed(MONITOR["tags"]))}, "is the same monitor as catalog/monitors/a.json"),
])
def test_two_files_for_one_object_are_refused(first, second, message):
    with pytest.raises(catalog.CatalogError) as error:
        catalog.objects({"monitors/a.json": json.dumps(first), "monitors/b.json": json.dumps(second)}, VALUES)
    assert str(error.value).startswith("catalog/monitors/b.json") and message in str(error.value)


# -- the provider's diff ------------------------------------------------------------------

ANSWERED_MONITOR = {**MONITOR, "tags": ["a:1", "b:1"], "id": 1, "org_id": 2, "multi": False,
                    "created": "t", "modified": "t", "creator": {}, "overall_state": "OK",
                    "restricted_roles": None, "restriction_policy": None, "assets": [],
                    "draft_status": "published", "priority": None,
                    "options": {"thresholds": {"critical": 2.0}, "silenced": {}}}


@pytest.mark.parametrize("config,answer", [
    # computed fields, nulls and a float for an integer (Go decodes both as float64)
    ({**MONITOR, "tags": ["a:1", "b:1"], "priority": None}, ANSWERED_MONITOR),
    # the provider trims name and message on the config side (monitor_json.go:81-90)
    ({**MONITOR, "tags": ["a:1", "b:1"], "priority": None, "name": "m  "}, ANSWERED_MONITOR),
])
def test_the_provider_sees_no_change_in_what_datadog_adds(config, answer):
    assert catalog.diff(catalog.MONITOR, config, answer) == []


def test_the_provider_sees_a_changed_threshold():
    answer = {**ANSWERED_MONITOR, "options": {"thresholds": {"critical": 3.0}}}
    assert catalog.diff(catalog.MONITOR, {**MONITOR, "tags": ["a:1", "b:1"], "priority": None}, answer) == [
        "$.options.thresholds.critical: 2 in the file, 3.0 in Datadog's answer"]


def test_the_provider_ignores_widget_ids_and_maps_tab_ids_to_positions():
    config = {**DASHBOARD, "widgets": [{"definition": {"type": "note"}}, {"definition": {"type": "note"}}],
              "tabs": [{"name": "t", "widget_ids": ["@2"]}], "notify_list": ["b", "a"]}
    answer = {**config, "id": "abc", "url": "/d", "widgets": [{"definition": {"type": "note"}, "id": 11},
                                                              {"definition": {"type": "note"}, "id": 12}],
              "tabs": [{"id": "uuid", "name": "t", "widget_ids": [12]}], "notify_list": ["a", "b"],
              "is_read_only": False}
    assert catalog.diff(catalog.DASHBOARD, config, answer) == []


def test_the_provider_sees_a_key_datadog_does_not_answer():
    """The #2956 / PR #4256 case: a UI export's pause_auto_refresh: false is never answered."""
    config = {**DASHBOARD, "pause_auto_refresh": False}
    assert catalog.diff(catalog.DASHBOARD, config, DASHBOARD) == ["$.pause_auto_refresh: only in the file"]


def test_the_provider_drops_assets_it_was_not_given():
    config = {**MONITOR, "tags": ["a:1", "b:1"], "priority": None}
    assert catalog.read_query(catalog.MONITOR, config) == "?with_restricted_roles=false"
    assert catalog.diff(catalog.MONITOR, config, {**ANSWERED_MONITOR, "assets": []}) == []


# The provider's Read asks for the parts of a monitor the file names, and no more
# (terraform-provider-datadog resource_datadog_monitor_json.go:132-149).
@pytest.mark.parametrize("kind,keys,query", [
    (catalog.DASHBOARD, [], ""),
    (catalog.MONITOR, [], "?with_restricted_roles=false"),
    (catalog.MONITOR, ["restricted_roles"], ""),
    (catalog.MONITOR, ["restriction_policy"], "?with_restricted_roles=false&with_restriction_policy=true"),
    (catalog.MONITOR, ["restricted_roles", "assets"], "?with_assets=true"),
    (catalog.MONITOR, ["restricted_roles", "restriction_policy", "assets"],
     "?with_restriction_policy=true&with_assets=true"),
])
def test_the_providers_read_asks_for_what_the_file_names(kind, keys, query):
    assert catalog.read_query(kind, {**MONITOR, **{k: None for k in keys}}) == query


def test_the_provider_sends_a_dashboard_without_is_read_only_and_leaves_the_file_alone():
    """stripDeprecatedFields (resource_datadog_dashboard_json.go:104-130): Datadog refuses the
    deprecated field, so the provider never sends it; a monitor is sent as written."""
    board = {**DASHBOARD, "is_read_only": True}
    assert "is_read_only" not in catalog.sent_body(catalog.DASHBOARD, board)
    assert board["is_read_only"] is True, "the body read from the file is not changed"
    assert catalog.sent_body(catalog.MONITOR, {**MONITOR, "is_read_only": True}) == {**MONITOR, "is_read_only": True}


# -- adoption: the account's objects as catalog files --------------------------------------

def answered(object_id, name=None):
    return {**ANSWERED_MONITOR, "id": object_id, **({} if name is None else {"name": name})}


@pytest.mark.parametrize("label,file", [
    ("CPU high on web", "monitors/cpu-high-on-web.json"),
    ("  [Postgres] -- replication lag!  ", "monitors/postgres-replication-lag.json"),
    ("!" + "a" * 100, "monitors/" + "a" * 80 + ".json"),  # at most 80 characters, cut after the strip
    ("a" * 79 + " b", "monitors/" + "a" * 79 + ".json"),  # no dash left where the cut falls
    ("¡¿!", "monitors/untitled.json"),
    ("", "monitors/untitled.json"),  # and the label stays empty
])
def test_an_adopted_object_is_filed_under_its_name_as_a_slug(label, file):
    (adopted,) = catalog.adoptions([(catalog.MONITOR, answered(1, label))], set(), set())
    assert adopted.file == file and adopted.label == label


def test_objects_the_stack_manages_or_the_query_misses_are_skipped_and_the_rest_adopted():
    found = [(catalog.MONITOR, answered(1, "ours")), (catalog.MONITOR, answered(2, "Disk full")),
             (catalog.MONITOR, answered(3, "theirs")), (catalog.MONITOR, answered(4, "disk slow"))]
    everything = catalog.adoptions(found, {(catalog.MONITOR, "1")}, set())
    assert [a.id for a in everything] == ["2", "3", "4"], "a managed object is the stack's already"
    assert [a.id for a in catalog.adoptions(found, {(catalog.MONITOR, "1")}, set(), "DISK")] == ["2", "4"], \
        "the query matches the name in any case; a miss does not end the search"


def test_no_file_is_overwritten_a_taken_or_repeated_name_gets_the_objects_id():
    found = [(catalog.MONITOR, answered(7, "CPU")), (catalog.MONITOR, answered(8, "CPU")),
             (catalog.MONITOR, answered(9, "Disk"))]
    adopted = catalog.adoptions(found, set(), {"monitors/disk.json"})
    assert [a.file for a in adopted] == ["monitors/cpu.json", "monitors/cpu-8.json", "monitors/disk-9.json"]



def test_an_answer_that_is_not_a_valid_monitor_is_refused_naming_the_file_it_would_become():
    with pytest.raises(catalog.CatalogError) as error:
        catalog.adoptions([(catalog.MONITOR, {**answered(3, "Odd one"), "query": 5})], set(), set())
    assert str(error.value) == "monitors/odd-one.json at $.query: must be a string, not a number"


# -- the provider's comparison, value by value (Go decodes JSON numbers as float64:
#    structure.ExpandJsonFromString; everything else compares exactly) ------------------------

LONG_A, LONG_B = "a" * 100, "b" * 100


@pytest.mark.parametrize("config,state,found", [
    ({"k": 1}, {"k": 1.0}, []),
    ({"k": 1, "only": 2}, {"k": 1}, ["$.only: only in the file"]),
    ({}, {"new": LONG_A}, [f'$.new: only in Datadog\'s answer ("{"a" * 59})']),  # cut at 60
    ({"a": 1}, [1], ['$: {"a":1} in the file, [1] in Datadog\'s answer']),
    ([1], {"a": 1}, ['$: [1] in the file, {"a":1} in Datadog\'s answer']),
    ([1, 2], [1, 3], ["$[1]: 2 in the file, 3 in Datadog's answer"]),
    ([{"x": [1]}], [{"x": [2]}], ["$[0].x[0]: 1 in the file, 2 in Datadog's answer"]),
    ([1], [1, 2], ["$: 1 items in the file, 2 in Datadog's answer"]),
    ("a", "b", ["$: \"a\" in the file, \"b\" in Datadog's answer"]),
    (1, "1", ["$: 1 in the file, \"1\" in Datadog's answer"]),
    (True, 1, ["$: true in the file, 1 in Datadog's answer"]),
    (LONG_A, LONG_B, [f'$: "{"a" * 59} in the file, "{"b" * 59} in Datadog\'s answer']),
])
def test_the_provider_compares_json_values_as_go_decodes_them(config, state, found):
    assert catalog.differences(config, state) == found


MONITOR_CONFIG = {**MONITOR, "tags": ["a:1", "b:1"], "priority": None}


@pytest.mark.parametrize("case,config,answer,found", [
    ("message trimmed on the config side (monitor_json.go:81-90)",
     {**MONITOR_CONFIG, "message": " hi \n"}, ANSWERED_MONITOR, []),
    ("null restricted_roles and restriction_policy in the file are dropped (:94-99)",
     {**MONITOR_CONFIG, "restricted_roles": None, "restriction_policy": None}, ANSWERED_MONITOR, []),
    ("roles Datadog answers are ignored when the file names none (:258-261)",
     MONITOR_CONFIG, {**ANSWERED_MONITOR, "restricted_roles": ["r1"]}, []),
    ("roles the file names are compared",
     {**MONITOR_CONFIG, "restricted_roles": ["r1"]}, {**ANSWERED_MONITOR, "restricted_roles": ["r2"]},
     ["$.restricted_roles[0]: \"r1\" in the file, \"r2\" in Datadog's answer"]),
    ("a null policy in the answer is dropped (:245-250)",
     {**MONITOR_CONFIG, "restricted_roles": ["r1"]},
     {**ANSWERED_MONITOR, "restricted_roles": ["r1"], "restriction_policy": None}, []),
    ("assets Datadog answers are ignored when the file names none (:266-268)",
     MONITOR_CONFIG, {**ANSWERED_MONITOR, "assets": [{"name": "runbook"}]}, []),
    ("assets the file names are compared",
     {**MONITOR_CONFIG, "assets": []}, {**ANSWERED_MONITOR, "assets": [{"name": "runbook"}]},
     ["$.assets: 0 items in the file, 1 in Datadog's answer"]),
], ids=lambda v: v if isinstance(v, str) and " " in v else "")
def test_the_provider_compares_a_monitor_as_its_state_functions_shape_it(case, config, answer, found):
    assert catalog.diff(catalog.MONITOR, config, answer) == found, case


def test_a_tab_keeps_a_widget_id_the_board_does_not_hold_and_a_tab_may_list_none():
    config = {**DASHBOARD, "widgets": [{"definition": {"type": "note"}}, {"definition": {"type": "note"}}],
              "tabs": [{"name": "t", "widget_ids": ["@2", 99]}, {"name": "empty"}]}
    answer = {**config, "widgets": [{"definition": {"type": "note"}, "id": 11},
                                    {"definition": {"type": "note"}, "id": 12}],
              "tabs": [{"id": "u1", "name": "t", "widget_ids": [12, 99]}, {"id": "u2", "name": "empty"}]}
    assert catalog.diff(catalog.DASHBOARD, config, answer) == []


def test_the_provider_sees_a_changed_notify_list_whatever_its_order():
    config = {**DASHBOARD, "notify_list": ["a@x"]}
    assert catalog.diff(catalog.DASHBOARD, config, {**config, "notify_list": ["b@x", "a@x"]}) == [
        "$.notify_list: 1 items in the file, 2 in Datadog's answer"]


def test_an_adopted_file_is_indented_json_keeping_the_names_characters():
    (adopted,) = catalog.adoptions([(catalog.MONITOR, answered(4, "Ünïcode ✓"))], set(), set())
    assert adopted.text.startswith('{\n  "') and adopted.text.endswith("}\n"), "two-space indented, one trailing newline"
    assert '"name": "Ünïcode ✓"' in adopted.text, "written as typed, not \\u-escaped"


def test_the_import_file_names_each_adopted_object_under_the_catalog_component():
    (adopted,) = catalog.adoptions([(catalog.MONITOR, answered(4, "CPU"))], set(), set())
    assert catalog.adoption_import([]) == {"resources": []}
    assert catalog.adoption_import([adopted]) == {"resources": [
        {"type": "datadog-stack:index:Catalog", "name": "catalog-component", "logicalName": "catalog",
         "component": True},
        {"type": catalog.RESOURCE_TYPES[catalog.MONITOR], "name": adopted.name, "id": "4",
         "parent": "catalog-component"}]}, "the fields `pulumi import --file` reads (pulumi import docs)"


# -- every refusal, as the one line a user reads ------------------------------------------

WIDGET = DASHBOARD["widgets"]
GROUP_OF = lambda inner: [{"definition": {"type": "group", "widgets": inner}}]  # noqa: E731


@pytest.mark.parametrize("file,content,line", [
    # dashboards: the shape, then each part Datadog's API types
    ("dashboards/d.json", [1], "catalog/dashboards/d.json at $: must be a JSON object (a dashboard), not a list"),
    ("dashboards/d.json", {"title": "d", "layout_type": "ordered", "definition": {}},
     "catalog/dashboards/d.json: is a monitor, not a dashboard: move it to monitors/"),
    ("dashboards/d.json", {"layout_type": "ordered", "widgets": WIDGET},
     "catalog/dashboards/d.json at $: is not a dashboard: it has no 'title'"),
    ("dashboards/d.json", {"title": "d", "widgets": WIDGET},
     "catalog/dashboards/d.json at $: is not a dashboard: it has no 'layout_type'"),
    ("dashboards/d.json", {"title": "d", "layout_type": "ordered"},
     "catalog/dashboards/d.json at $: is not a dashboard: it has no 'widgets'"),
    ("dashboards/d.json", {**DASHBOARD, "title": 7}, "catalog/dashboards/d.json at $.title: must be a string, not a number"),
    ("dashboards/d.json", {**DASHBOARD, "layout_type": "grid"},
     "catalog/dashboards/d.json at $.layout_type: 'grid' is not a layout (ordered, free)"),
    ("dashboards/d.json", {**DASHBOARD, "widgets": {"a": 1}},
     "catalog/dashboards/d.json at $.widgets: must be a list of widgets, not an object"),
    ("dashboards/d.json", {**DASHBOARD, "widgets": ["note"]},
     "catalog/dashboards/d.json at $.widgets[0]: must be an object (a widget), not a string"),
    ("dashboards/d.json", {**DASHBOARD, "widgets": [{"definition": "note"}]},
     "catalog/dashboards/d.json at $.widgets[0].definition: must be an object, not a string"),
    ("dashboards/d.json", {**DASHBOARD, "widgets": GROUP_OF([{"definition": {}}])},
     "catalog/dashboards/d.json at $.widgets[0].definition.widgets[0].definition.type: must be a string, not null"),
    ("dashboards/d.json", {**DASHBOARD, "widgets": GROUP_OF("x")},
     "catalog/dashboards/d.json at $.widgets[0].definition.widgets: must be a list of widgets, not a string"),
    ("dashboards/d.json", {**DASHBOARD, "description": ["x"]},
     "catalog/dashboards/d.json at $.description: must be a string or null, not a list"),
    ("dashboards/d.json", {**DASHBOARD, "template_variables": {}},
     "catalog/dashboards/d.json at $.template_variables: must be a list, not an object"),
    ("dashboards/d.json", {**DASHBOARD, "template_variable_presets": "p"},
     "catalog/dashboards/d.json at $.template_variable_presets: must be a list, not a string"),
    ("dashboards/d.json", {**DASHBOARD, "notify_list": [1]},
     "catalog/dashboards/d.json at $.notify_list[0]: must be a string, not a number"),
    # monitors, bare or as integrations-core's recommended monitors wrap them
    ("monitors/m.json", {"definition": [1]},
     "catalog/monitors/m.json at $.definition: must be an object (the monitor), not a list"),
    ("monitors/m.json", {"definition": {"name": "x", "type": "query alert"}},
     "catalog/monitors/m.json at $.definition: is not a monitor: it has no 'query'"),
    ("monitors/m.json", {**MONITOR, "widgets": []},
     "catalog/monitors/m.json: is a dashboard, not a monitor: move it to dashboards/"),
    ("monitors/m.json", {**MONITOR, "layout_type": "ordered"},
     "catalog/monitors/m.json: is a dashboard, not a monitor: move it to dashboards/"),
    ("monitors/m.json", {**MONITOR, "message": 5}, "catalog/monitors/m.json at $.message: must be a string, not a number"),
    ("monitors/m.json", {"definition": {**MONITOR, "message": 5}},
     "catalog/monitors/m.json at $.definition.message: must be a string, not a number"),
    ("monitors/m.json", {**MONITOR, "restricted_roles": "r"},
     "catalog/monitors/m.json at $.restricted_roles: must be a list of strings, not a string"),
    ("monitors/m.json", {**MONITOR, "options": []}, "catalog/monitors/m.json at $.options: must be an object, not a list"),
    ("monitors/m.json", {**MONITOR, "options": {"thresholds": [2]}},
     "catalog/monitors/m.json at $.options.thresholds: must be an object, not a list"),
    ("monitors/m.json", {**MONITOR, "options": {"notify_no_data": "yes"}},
     "catalog/monitors/m.json at $.options.notify_no_data: must be true or false, not a string"),
    ("monitors/m.json", {**MONITOR, "options": {"notify_no_data": 1}},
     "catalog/monitors/m.json at $.options.notify_no_data: must be true or false, not a number"),
    ("monitors/m.json", {**MONITOR, "priority": 0}, "catalog/monitors/m.json at $.priority: 0 is outside 1-5"),
    ("monitors/m.json", {**MONITOR, "priority": 6}, "catalog/monitors/m.json at $.priority: 6 is outside 1-5"),
    ("monitors/m.json", {**MONITOR, "priority": 2.5}, "catalog/monitors/m.json at $.priority: 2.5 is not a whole number"),
    # the text itself, the placeholders, the file's place
    ("monitors/m.json", '{"name": "x",\n  "type": }',
     "catalog/monitors/m.json: is not JSON: Expecting value (line 2, column 11)"),
    ("monitors/m.json", {**MONITOR, "message": "<<stack.env"},
     "catalog/monitors/m.json at $.message: has an unterminated <<stack.…>> placeholder"),
    ("monitors/m.json", {**MONITOR, "message": "<<stack.nope>>"},
     "catalog/monitors/m.json at $.message: <<stack.nope>> is not a placeholder (known: <<stack.env>>, "
     "<<stack.name>>, <<stack.hosts>>, <<stack.notify>>, <<stack.downtimeTag>>)"),
    ("monitors/x/m.json", MONITOR, "catalog/monitors/x/m.json: is not in monitors/ or dashboards/: a catalog "
                                   "file is monitors/<name>.json or dashboards/<name>.json"),
    ("monitors/-m.json", MONITOR, "catalog/monitors/-m.json: has a name that cannot name a resource: use "
                                  "letters, digits, . _ and -, starting with a letter or digit"),
])
def test_each_refusal_is_the_whole_line_naming_file_path_and_fix(file, content, line):
    text = content if isinstance(content, str) else json.dumps(content)
    with pytest.raises(catalog.CatalogError) as error:
        catalog.objects({file: text}, VALUES)
    assert str(error.value) == line


@pytest.mark.parametrize("priority", [1, 5, None])
def test_a_priority_from_1_to_5_or_none_is_sent_as_given(priority):
    assert one("monitors/m.json", {**MONITOR, "priority": priority}).body["priority"] == priority


@pytest.mark.parametrize("given,sent", [("TRUE", True), ("False", False), (True, True), (None, None)])
def test_a_boolean_option_written_as_a_string_is_sent_as_the_boolean(given, sent):
    body = one("monitors/m.json", {**MONITOR, "options": {"include_tags": given}}).body
    assert body["options"]["include_tags"] is sent, "Datadog's API takes a JSON boolean"


@pytest.mark.parametrize("given,sent", [("2", 2), ("2.5", 2.5), (" 3 ", 3)])
def test_a_threshold_written_as_a_string_is_sent_as_the_number_it_holds(given, sent):
    body = one("monitors/m.json", {**MONITOR, "options": {"thresholds": {"critical": given}}}).body
    assert body["options"]["thresholds"]["critical"] == sent
    assert type(body["options"]["thresholds"]["critical"]) is type(sent), "2, not 2.0: as Datadog answers it"


@pytest.mark.parametrize("monitor_type,query,thresholds,sent", [
    ("query alert", "avg(last_5m):avg:a{*} > 2.5", None, {"critical": 2.5}),
    ("metric alert", "avg(last_5m):avg:a{*} >= 4", {"warning": 3}, {"warning": 3, "critical": 4}),
    ("query alert", "avg(last_5m):avg:a{*} > 4", {"critical": 5}, {"critical": 5}),
    ("service check", '"http.can_connect".over("*").by("url").last(2).count_by_status() > 1', None, None),
])
def test_the_critical_threshold_comes_from_the_query_when_the_file_leaves_it_out(
        monitor_type, query, thresholds, sent):
    """A metric or query alert sent without thresholds.critical is answered with its query's
    threshold (TestAccDatadogMonitor_BasicNoTreshold.yaml); the recordings show that only
    for those two types, so no other type's file gains one."""
    options = {} if thresholds is None else {"thresholds": thresholds}
    body = one("monitors/m.json", {**MONITOR, "type": monitor_type, "query": query, "options": options}).body
    assert body["options"].get("thresholds") == sent
