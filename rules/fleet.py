"""A fleet: one account stack declares the Datadog objects, host-group stacks their hosts.

`datadog-stack:role` picks what a stack declares (docs/fleet.md):

* `all` (the default): the Datadog objects and the stack's own hosts, scoped by host name,
  as a single stack always did.
* `account`: only the Datadog objects, scoped by the fleet tag (`fleet_tag`), which every
  host of every group carries; it lists no host, so a new group joins without changing it.
* `hosts`: only its hosts (Agent files, app); it names its account stack
  (`datadog-stack:accountStack`) and reads the fleet tag and the account's ids from that
  stack's outputs through a StackReference, never recomputing them.

Why a tag and not a list of host names: a downtime's group scope and a monitor's filter
match tags, and the Agent puts its datadog.yaml `tags:` on every metric of the host. A scope
by host names would have to be redeployed (and its downtimes recreated) for every host that
joins; the tag needs nothing of the account stack. The monitor is grouped by the tag's key as
well as by host: a downtime's group scope only filters on tags the monitor query groups by
(Datadog, Monitors > Guides > Scoping Downtime:
https://docs.datadoghq.com/monitors/guide/scoping_downtimes/).
"""
from __future__ import annotations

import re

ALL, ACCOUNT, HOSTS = "all", "account", "hosts"
ROLES = (ALL, ACCOUNT, HOSTS)
# The host tag key every host of a fleet carries; its value names the account stack.
FLEET_TAG_KEY = "pulumi-fleet"
# Outputs an account stack exports for its host-group stacks, and that they export again
# (so `pulumi stack output` of any stack shows where its hosts are watched).
FLEET_TAG_OUTPUT = "fleetTag"
ACCOUNT_OUTPUTS = ("dashboardId", "dashboardUrl", "monitorId", "monitorUrl", "downtimeIds",
                   "apmDashboardUrl", "downtimeTag", FLEET_TAG_OUTPUT)
# Pulumi's names: an organization, project and stack name are letters, digits, `-`, `_`
# and `.` (the CLI's `tokens.ValidateProjectName` / stack name rules); a stack reference is
# `stack` (same backend, same project) or `org/project/stack`.
_PART = r"[A-Za-z0-9_.-]{1,100}"
_STACK_REFERENCE = re.compile(rf"{_PART}|{_PART}/{_PART}/{_PART}")


def roles_text() -> str:
    return ", ".join(ROLES)


def fleet_tag(project: str, account_stack: str) -> str:
    """The host tag of every host the account stack watches: `pulumi-fleet:<project>/<stack>`.

    Lowercase: Datadog lowercases tags at intake (docs: getting_started/tagging, "Tags are
    converted to lowercase"), so the scope must be written as the host's tag arrives."""
    return f"{FLEET_TAG_KEY}:{project}/{account_stack}".lower()


def stack_reference_problem(reference: str, own_stack: str) -> str | None:
    """Why `reference` cannot name a hosts stack's account stack, or None."""
    if not _STACK_REFERENCE.fullmatch(reference):
        return (f"{reference!r} is not a stack name or org/project/stack (letters, digits, "
                "- _ and . in each part)")
    if reference == own_stack:  # a bare name is a stack of this project (org/project/stack is not checked)
        return f"{reference!r} is this stack: name the account stack"
    return None

