#!/bin/sh
# receive.sh: the app's install step, run as root with deploy.sh's APP_* variables in the
# environment (components/apm_service.py sends this file's text as `sh -c`'s script and
# the bundle, a base64 uncompressed tar, as the SSH session's stdin).
#
# Unpacks the bundle into a temporary directory, removed on exit, and runs
# `deploy.sh install` from it.
set -eu
bundle=$(mktemp -d)
trap 'rm -rf "$bundle"' EXIT
base64 -d | tar -xf - --no-same-owner -C "$bundle"
bash "$bundle/deploy.sh" install "$bundle"
