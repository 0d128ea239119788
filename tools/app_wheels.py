"""The app's wheels for hosts without PyPI (agent_files/wheels.py).

    python -m tools.app_wheels          fill build/app-wheels/ for app/wheels.sha256 (once)
    python -m tools.app_wheels --lock   resolve app/requirements.txt again for the hosts'
                                        Python and platform and rewrite app/wheels.sha256
"""
from __future__ import annotations

import sys

from agent_files import wheels


def main(argv: list[str]) -> int:
    try:
        if argv == ["--lock"]:
            wheels.MANIFEST.write_text(wheels.render_manifest(wheels.lock(), wheels.TARGET))
            print(f"app/wheels.sha256: set {wheels.load().id[:16]} for {wheels.TARGET.describe()}")
        elif not argv:
            path = wheels.ensure(wheels.load())
            print(f"{path.relative_to(wheels.ROOT)}: the app's wheels for {wheels.TARGET.describe()}")
        else:
            print(__doc__, file=sys.stderr)
            return 2
    except wheels.WheelsError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
