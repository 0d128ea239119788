#!/bin/sh
# The `pulumi` the fleet bench (tests/bench/fleet.py) puts first on the engine's PATH: the
# real CLI ($BENCH_PULUMI) run inside the stack's cgroup ($BENCH_CGROUP), so the engine, its
# plugins and the program it starts are all counted there.
set -eu
echo "$$" > "$BENCH_CGROUP/cgroup.procs"
exec "$BENCH_PULUMI" "$@"
