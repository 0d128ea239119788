#!/bin/sh
# in_cgroup.sh DIR COMMAND [ARG...]: run COMMAND inside the cgroup (v2) at DIR, so the
# CPU it and everything it starts spend is counted there (cgroups.py).
set -eu
echo "$$" > "$1/cgroup.procs"
shift
exec "$@"
