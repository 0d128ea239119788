#!/bin/sh
# preflight.sh UNIT APP_ROOT COMMAND...: can this host take the app? Root (COMMAND, the
# stack's one way to become root, e.g. `sudo -n true`, must succeed), systemd and Python
# 3.10-3.14. Runs as the SSH user, so that a missing sudo is reported in words
# (components/apm_service.py sends this file's text as `sh -c`'s script).
set -eu
unit=$1
app_root=$2
shift 2
"$@" || { echo "the SSH user needs root or passwordless sudo" >&2; exit 1; }
[ -d /run/systemd/system ] || { echo "systemd is not running here" >&2; exit 1; }
python3 -c 'import sys; sys.exit(not (3, 10) <= sys.version_info[:2] < (3, 15))' \
    || { echo "python3 3.10-3.14 is required (gunicorn 27, ddtrace 4.16)" >&2; exit 1; }
echo "host ready for $unit in $app_root"
