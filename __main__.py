"""Composition root: settings -> components -> stack outputs."""
import pulumi

import program
import settings


def main() -> None:
    try:
        settings.check_known_keys(settings.config_keys())
        loaded = settings.load(pulumi.Config(settings.NAMESPACE), pulumi.get_stack())
        now = program.clock()
    except settings.ConfigError as error:
        # RunError ends the program with this one line and no traceback.
        raise pulumi.RunError(f"invalid configuration: {error}") from None
    for name, value in program.build(loaded, now).items():
        pulumi.export(name, value)


main()
