"""The stand-in's one org and its one user, who creates every object. The ids are the recorded
ones (``org_id`` and ``creator.id`` in TestAccDatadogMonitor*.yaml and TestAccDatadogDowntime*.yaml;
the v2 user's uuid and dates in TestAccDowntimeSchedule*.yaml's ``included``); the name, handle
and email are the stand-in's own."""

CREATOR = {"name": "Stand-in User", "handle": "standin@example.com", "email": "standin@example.com", "id": 1445416}
USER_UUID = "3ad549bf-eba0-11e9-a77a-0705486660d0"
ORG_ID = 321813

USER = {"type": "users", "id": USER_UUID, "attributes": {
    "name": CREATOR["name"], "handle": CREATOR["handle"], "email": CREATOR["email"],
    "created_at": "2019-10-02T08:15:39.795051+00:00", "modified_at": "2019-10-02T08:15:39.795051+00:00",
    "icon": None, "title": None, "verified": True, "service_account": False, "disabled": False,
    "allowed_login_methods": [], "status": "Active", "last_login_time": None}}
