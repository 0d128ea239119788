"""The stack's config as the Pulumi engine (or the offline plan's mock runtime) hands it to
the program: the `settings.ConfigSource` that `settings.load` reads."""
from __future__ import annotations

from typing import Any

import pulumi
from pulumi.runtime import config as runtime_config


class PulumiConfig:
    def get(self, key: str) -> str | None:
        namespace, _, name = key.partition(":")
        return pulumi.Config(namespace).get(name)

    def is_secret(self, key: str) -> bool:
        return pulumi.runtime.is_config_secret(key)

    def secret(self, key: str) -> Any:
        namespace, _, name = key.partition(":")
        return pulumi.Config(namespace).get_secret(name)

    def keys(self) -> list[str]:
        """Every key the engine handed this program (the config and its environment)."""
        return sorted(set(runtime_config.CONFIG.get()) | set(runtime_config.get_config_env()))
