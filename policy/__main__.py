"""The datadog-stack-standards policy pack: the checks of standards.py, all mandatory.

Per-resource standards (standards.STANDARDS) become ResourceValidationPolicy, stack-level
ones (standards.STACK_STANDARDS) StackValidationPolicy.

Run by the Pulumi CLI (`pulumi preview --policy-pack policy`), which executes this file as
`__main__` with its own virtualenv (PulumiPolicy.yaml). Importing it under another name
(as the unit tests do) builds POLICIES without starting the pack's gRPC server:
`PolicyPack(...)` serves forever, so it is only called under `__main__`.
"""
import os
import sys
from collections import defaultdict

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from pulumi_policy import (  # noqa: E402
    EnforcementLevel,
    PolicyPack,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

import standards  # noqa: E402

PACK_NAME = "datadog-stack-standards"
STACK_TYPE = "pulumi:pulumi:Stack"


def _validator(standard: standards.Standard):
    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        if args.resource_type != standard.resource_type:
            return
        for message in standard.check(args.resource_type, args.props):
            report_violation(message, None)

    return validate


def _component(resource: PolicyResource):
    """The resource's parent component, or None when its parent is the stack (or absent)."""
    parent = resource.parent
    if parent is None or parent.resource_type == STACK_TYPE:
        return None
    return parent


def _stack_validator(standard: standards.StackStandard):
    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        subjects = [r for r in args.resources if r.resource_type == standard.resource_type]
        components = {c.urn: c for c in map(_component, subjects) if c is not None}
        # A component is named by its name, or by its URN when another one shares the name
        # (the name is the check's grouping key: two components must not merge).
        urns_by_name = defaultdict(set)
        for component in components.values():
            urns_by_name[component.name].add(component.urn)
        labels = {
            urn: c.name if len(urns_by_name[c.name]) == 1 else urn
            for urn, c in components.items()
        }
        commands = []
        for resource in subjects:
            component = _component(resource)
            commands.append(
                (resource.name, None if component is None else labels[component.urn], resource.props)
            )
        for message in standard.check(commands):
            report_violation(message, None)

    return validate


POLICIES = [
    ResourceValidationPolicy(
        name=standard.name,
        description=standard.description,
        validate=_validator(standard),
        enforcement_level=EnforcementLevel.MANDATORY,
    )
    for standard in standards.STANDARDS
] + [
    StackValidationPolicy(
        name=standard.name,
        description=standard.description,
        validate=_stack_validator(standard),
        enforcement_level=EnforcementLevel.MANDATORY,
    )
    for standard in standards.STACK_STANDARDS
]


if __name__ == "__main__":
    PolicyPack(
        name=PACK_NAME,
        enforcement_level=EnforcementLevel.MANDATORY,
        policies=POLICIES,
    )
