"""Composition root: settings -> components -> stack outputs."""
import gc

# The imports leave about 860,000 objects for the cyclic collector to track (pulumi_datadog's
# generated types, most of them), all alive until the process ends. With the collector on,
# each full collection walks them all again, during the imports and once more at exit:
# over half of the process's CPU (docs/testing.md, "The real preview"). So: no collection
# while importing, then freeze what the imports built (gc.freeze: moved to a generation no
# collection examines; nothing is freed or changed) and collect the program's own garbage
# as usual.
_collecting = gc.isenabled()
gc.disable()
try:
    import pulumi

    import program
    import settings
    from agent_files import wheels
    from pulumi_config import PulumiConfig
finally:
    gc.freeze()
    if _collecting:
        gc.enable()


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
