#!/bin/sh
# remove.sh OWNER_FILE: the app's teardown, run as root on destroy with deploy.sh's APP_*
# variables in the environment (components/apm_service.py sends this file's text as
# `sh -c`'s script).
#
# `deploy.sh remove` from the app dir: it stops, disables and deletes the unit and the app
# dir, each only if this stack created it. It runs only where the dir's marker
# (APP_ROOT/OWNER_FILE) names this stack (install puts the marker and deploy.sh there
# before anything else); elsewhere nothing of this stack's exists: nothing runs.
#
# First it deletes the wheel set the stack copied to APP_WHEELS, should an install not have
# unpacked (and so deleted) it: that copy is the stack's wherever the app dir is not.
set -eu
if [ -n "${APP_WHEELS:-}" ]; then rm -f -- "$APP_WHEELS"; fi
marker=$APP_ROOT/$1
if [ "$(cat "$marker" 2>/dev/null)" = "$APP_STACK" ] && [ -f "$APP_ROOT/deploy.sh" ]; then
    exec bash "$APP_ROOT/deploy.sh" remove
fi
echo "deploy.sh: no $APP_ROOT created by stack $APP_STACK here: nothing removed" >&2
