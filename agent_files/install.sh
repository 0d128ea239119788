#!/bin/bash
# Installs (or removes) the Datadog Agent configuration bundle rendered by agent_files/render.py.
#
#   install.sh install <bundle_dir>   stage, back up, install atomically, restart, verify the
#                                     Agent, back up the datadog database user's credentials,
#                                     apply the database SQL, verify the database integration;
#                                     on ANY failure (or HUP, INT, TERM, PIPE) restore the
#                                     previous files byte for byte and the user's previous
#                                     credentials (its previous password logs in again), exit
#                                     non-zero
#   install.sh remove  <bundle_dir>   put back the files the installed ones replaced, delete
#                                     those (and the directories) that did not exist before,
#                                     restart the Agent
#
# Crash safety: every change to /etc/datadog-agent happens inside a transaction directory
# ($STATE/txn) that records, before each step, how to undo it. A run that dies without
# cleaning up (SIGKILL, power loss) leaves that directory behind, and the next run of either
# action first rolls it back, so it starts from the last good state. The database user's
# credentials are part of it: database-backup.sql's answer (the SQL writing them back) is
# saved in the transaction before database.sql runs, and a rollback applies it; a commit
# discards it with the transaction directory, in the same rename. `remove` is resumable:
# its state file shrinks one path at a time. A restart owed to the Agent (files changed but
# no successful restart since) is remembered in $STATE/restart-pending.
#
# Runs as root on the VM. Bundle layout: see BUNDLE_LAYOUT in agent_files/render.py.
#
# This file declares the constants and globals and dispatches; the work is in its parts,
# one concern a file, shipped beside it in the bundle as install.d/*.sh and sourced here:
#   report.sh    scrubbed reporting, the signal and EXIT traps
#   bundle.sh    the bundle's settings and manifest, the state's records of what is ours
#   files.sh     atomic replace, atomic lists, releasing a path, pruning our directories
#   journal.sh   the transaction: open, record each undo before the change, commit
#   undo.sh      rollback, and recovery of what an interrupted run left behind
#   packages.sh  the Agent (Datadog's install script) and the database server (apt-get)
#   sql.sh       the datadog user's SQL, its credentials' backup and restore
#   verify.sh    restart, configcheck, `datadog-agent check` of my_metric and the database
#   actions.sh   install and remove, composed from the above
#
# stdout carries only the verified `datadog-agent check` outputs (my_metric, then the database
# integration). stderr: on failure, its first line names the host (name and address) and the
# failed step, then the Agent's (or the tool's) own message, then the progress lines; on
# success, the progress lines. Both pass through `scrub` (passwords and keys masked).
#
# Environment (all optional; the defaults are what a VM uses):
#   DD_STACK_ROOT              prefix for every path touched (tests use a throwaway root)
#   DD_STACK_VERIFY_ATTEMPTS   configcheck attempts while the Agent restarts (default 10)
#   DD_STACK_VERIFY_DELAY      seconds between attempts (default 3)
#
# No `set -e`: each failing step is handled where it happens (rollback, or die naming the
# step), and -e's exceptions (inside conditions, &&/|| lists, functions called from them)
# would make "did this step run to its end" depend on how the caller tests it.
# Each function's header (in the parts) names the globals it changes; every function that
# calls `log` also appends to PROGRESS.
# shellcheck source-path=SCRIPTDIR  # the parts' `source=` directives are beside this file
set -u -o pipefail
umask 077

readonly ROOT="${DD_STACK_ROOT:-}"
readonly STATE="${ROOT}/var/lib/datadog-stack/state"
readonly TXN="${STATE}/txn"                  # the open transaction; found at start = an interrupted run
readonly TXN_NEW="${STATE}/txn.new"          # a transaction being prepared (nothing changed yet)
readonly TXN_COMMITTED="${STATE}/txn.committed"  # committed; its clean-up is rolled forward
readonly TXN_ABORTED="${STATE}/txn.aborted"  # rolled back; only deleting is left
readonly PENDING="${STATE}/restart-pending"
readonly VERIFY_ATTEMPTS="${DD_STACK_VERIFY_ATTEMPTS:-10}"
readonly VERIFY_DELAY="${DD_STACK_VERIFY_DELAY:-3}"
readonly INSTALL_SCRIPT_URL="https://install.datadoghq.com/scripts/install_script_agent7.sh"
readonly DB_USER_CREATED="datadog-stack: created the datadog user"  # render.DB_USER_CREATED
readonly DB_UNRESTORABLE="datadog-stack: cannot back up"  # render.DB_UNRESTORABLE
readonly DB_RESTORE="database-restore.sql"  # in $TXN (or $STATE): what puts the user's credentials back
DB_RESTORE_DIR=""  # $STATE while an install outside a transaction may have changed the credentials
AGENT_ERROR=""   # the Agent's (or a tool's) own message about the failed step
CHECK_OUTPUT=""  # the verified check outputs: stdout on success (checkResult)
VERIFY_STEP=""   # the verification step that ran last
IN_TXN=0         # 1 while files may differ from the last good state: any exit rolls back
HOST_LABEL="$(hostname 2>/dev/null || echo 'this host')"  # "<name> (<address>)" once the bundle is read
FAILED=""        # the failed step, reported first
PROGRESS=()      # progress lines, printed at exit after the failure (if any)

# The parts, from the bundle's own version directory (-P: even if the bundle symlink is
# switched meanwhile).
PARTS="$(cd "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)/install.d"
readonly PARTS
# shellcheck source=install.d/report.sh
source "$PARTS/report.sh" || exit 1
# shellcheck source=install.d/bundle.sh
source "$PARTS/bundle.sh" || exit 1
# shellcheck source=install.d/files.sh
source "$PARTS/files.sh" || exit 1
# shellcheck source=install.d/journal.sh
source "$PARTS/journal.sh" || exit 1
# shellcheck source=install.d/undo.sh
source "$PARTS/undo.sh" || exit 1
# shellcheck source=install.d/packages.sh
source "$PARTS/packages.sh" || exit 1
# shellcheck source=install.d/sql.sh
source "$PARTS/sql.sh" || exit 1
# shellcheck source=install.d/verify.sh
source "$PARTS/verify.sh" || exit 1
# shellcheck source=install.d/actions.sh
source "$PARTS/actions.sh" || exit 1

set_traps
case "${1:-}" in
    install) shift; cmd_install "$@" ;;
    remove) shift; cmd_remove "$@" ;;
    *) die "usage: install.sh install|remove <bundle_dir>" ;;
esac
