"""The component package: its name, version, type tokens, and the aliases to the old tokens.

Pulumi serves the components as the package `datadog-stack` (provider/__main__.py,
`component_provider_host`), whose analyzer puts every component in the `index` module:
tokens are `datadog-stack:index:<Class>`. Stacks deployed before the package knew them as
`datadog-stack:<area>:<Class>`; each component carries `pulumi.Alias(type_=<old token>)`, so
`pulumi up` on such a stack updates the component and, through the inherited aliases, its
children in place (tests/unit/test_component_names.py).
"""
from typing import Optional

import pulumi

NAME = "datadog-stack"
VERSION = "0.1.0"


def token(class_name: str) -> str:
    """The component's type token in the package (the analyzer's `<package>:index:<Class>`)."""
    return f"{NAME}:index:{class_name}"


def options(opts: Optional[pulumi.ResourceOptions], old_token: str) -> pulumi.ResourceOptions:
    """The caller's options plus the alias to the token a deployed stack has."""
    return pulumi.ResourceOptions.merge(
        opts, pulumi.ResourceOptions(aliases=[pulumi.Alias(type_=old_token)]))
