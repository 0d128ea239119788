"""The datadog-stack-standards policy pack: the checks of standards.py, all mandatory.

Run by the Pulumi CLI (`pulumi preview --policy-pack policy`), which executes this file as
`__main__` with its own virtualenv (PulumiPolicy.yaml). Importing it under another name
(as the unit tests do) builds POLICIES without starting the pack's gRPC server:
`PolicyPack(...)` serves forever, so it is only called under `__main__`.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from pulumi_policy import (  # noqa: E402
    EnforcementLevel,
    PolicyPack,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)

import standards  # noqa: E402

PACK_NAME = "datadog-stack-standards"


def _validator(standard: standards.Standard):
    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        if args.resource_type != standard.resource_type:
            return
        for message in standard.check(args.resource_type, args.props):
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
]


if __name__ == "__main__":
    PolicyPack(
        name=PACK_NAME,
        enforcement_level=EnforcementLevel.MANDATORY,
        policies=POLICIES,
    )
