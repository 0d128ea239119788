"""Composition root: settings -> components -> stack outputs."""
import pulumi

import program
import settings
from agent_files import wheels
from pulumi_config import PulumiConfig


def main() -> None:
    try:
        config = PulumiConfig()
        settings.check_known_keys(config.keys())
        loaded = settings.load(config, pulumi.get_stack())
        now = program.clock()
    except settings.ConfigError as error:
        # RunError ends the program with this one line and no traceback.
        raise pulumi.RunError(f"invalid configuration: {error}") from None
    if loaded.hosts:
        try:  # the app's wheels, before any resource: PyPI once per set, then the cache
            wheels.ensure(wheels.load())
        except wheels.WheelsError as error:
            raise pulumi.RunError(str(error)) from None
    try:
        outputs = program.build(loaded, now)
    except settings.ConfigError as error:
        # A bad catalog file (rules.catalog.CatalogError), found before any resource.
        raise pulumi.RunError(f"invalid configuration: {error}") from None
    for name, value in outputs.items():
        pulumi.export(name, value)


main()
