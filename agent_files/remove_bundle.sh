#!/bin/sh
# remove_bundle.sh BUNDLE_DIR BUNDLES_DIR STACK_DIR: the Agent's teardown, run as root on
# destroy (components/agent_host.py sends this file's text as `sh -c`'s script).
#
# `install.sh remove` puts back exactly what was installed; only if it succeeded do the
# bundle and the stack directory go, so a failed remove fails the destroy and a retry still
# finds install.sh. The stack directory goes last, and only if empty: install.sh remove
# deleted its state.
set -eu
bundle=$1
bundles=$2
stack=$3
if [ -e "$bundle/install.sh" ]; then
    bash "$bundle/install.sh" remove "$bundle" || exit $?
fi
rm -rf "$bundle" "$bundles" "$bundle.new"
if [ -d "$stack" ]; then
    rmdir "$stack" 2>/dev/null || echo "kept $stack: not empty" >&2
fi
