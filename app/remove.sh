#!/bin/sh
# remove.sh OWNER_FILE: the app's teardown, run as root on destroy with deploy.sh's APP_*
# variables in the environment (components/apm_service.py sends this file's text as
# `sh -c`'s script).
#
# `deploy.sh remove` from the app dir: it stops, disables and deletes the unit and the app
# dir, each only if this stack created it. It runs only where the dir's marker
# (APP_ROOT/OWNER_FILE) names this stack (install puts the marker and deploy.sh there
# before anything else); elsewhere nothing of this stack's exists: nothing runs.
set -eu
marker=$APP_ROOT/$1
if [ "$(cat "$marker" 2>/dev/null)" = "$APP_STACK" ] && [ -f "$APP_ROOT/deploy.sh" ]; then
    exec bash "$APP_ROOT/deploy.sh" remove
fi
echo "deploy.sh: no $APP_ROOT created by stack $APP_STACK here: nothing removed" >&2
