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
# Each function's header names the globals it changes; every function that calls `log`
# also appends to PROGRESS.
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

# log MESSAGE...: a progress line, printed at exit (after the failure, if any). Sets PROGRESS.
log() { PROGRESS+=("install.sh: $*"); }
# report: once, at exit: the failure line (host, step), the Agent's message, then the progress. Clears the EXIT trap.
report() {
    trap - EXIT
    {
        if [[ -n "$FAILED" ]]; then
            printf 'install.sh: %s: %s\n' "$HOST_LABEL" "$FAILED"
            [[ -n "$AGENT_ERROR" ]] && printf '%s\n' "$AGENT_ERROR"
        fi
        [[ ${#PROGRESS[@]} -eq 0 ]] || printf '%s\n' "${PROGRESS[@]}"
    } | scrub >&2
}
# die STEP...: fail with STEP as the reported step; inside a transaction the EXIT trap rolls back. Sets FAILED.
die() { FAILED="$*"; exit 1; }
# scrub: stdin to stdout with anything that looks like a secret value masked.
scrub() {
    sed -E 's/((pass(word)?|api_?key|app_?key|token|secret)["'\'']?[[:space:]]*[:=][[:space:]]*).*/\1********/I'
}

# on_signal SIG: HUP/INT/TERM/PIPE: roll back an open transaction, then fail. Sets IN_TXN, FAILED.
on_signal() {
    trap '' HUP INT TERM PIPE
    [[ $IN_TXN -eq 1 ]] && rollback "interrupted by SIG$1"
    restore_outside_txn
    die "interrupted by SIG$1"
}
# on_exit: EXIT trap: roll back a transaction still open (an unexpected exit), report. Sets IN_TXN, FAILED.
on_exit() {
    local rc=$?
    [[ $IN_TXN -eq 1 ]] && rollback "unexpected exit (status $rc)"
    restore_outside_txn
    report
    exit $rc
}
# set_traps: install the signal and EXIT traps.
set_traps() {
    local sig
    # shellcheck disable=SC2064  # $sig is meant to expand now
    for sig in HUP INT TERM PIPE; do trap "on_signal $sig" "$sig"; done
    trap on_exit EXIT
}

# read_env FILE KEY: the value of KEY=... in FILE (never eval'ed), empty if absent.
read_env() {
    local line
    [[ -f "$1" ]] || return 0
    while IFS= read -r line || [[ -n "$line" ]]; do
        case $line in "$2="*) printf '%s' "${line#*=}"; return 0 ;; esac
    done <"$1"
}

# as_user USER CMD...: run CMD as USER (we are root).
as_user() {
    local user=$1; shift
    if [[ "$(id -un)" = "$user" ]]; then "$@"; else runuser -u "$user" -- "$@"; fi
}

# load_bundle DIR: read and check the bundle's settings and manifest. Sets BUNDLE, HOST_LABEL,
# DB_KIND, DB_PORT, DB_METRIC, INSTALL_AGENT, INSTALL_DATABASE, DD_SITE, ENTRIES.
load_bundle() {
    [[ -n "${1:-}" ]] || die "usage: install.sh install|remove <bundle_dir>"
    # -P: the resolved version directory, even if the bundle symlink is switched meanwhile
    BUNDLE=$(cd "$1" 2>/dev/null && pwd -P) || die "bundle directory $1 does not exist"
    [[ -f "$BUNDLE/manifest" ]] || die "$BUNDLE/manifest is missing"
    set_host_label "$BUNDLE"
    DB_KIND=$(read_env "$BUNDLE/settings.env" DB_KIND)
    DB_PORT=$(read_env "$BUNDLE/settings.env" DB_PORT)
    DB_METRIC=$(read_env "$BUNDLE/settings.env" DB_METRIC)
    INSTALL_AGENT=$(read_env "$BUNDLE/settings.env" INSTALL_AGENT)
    INSTALL_DATABASE=$(read_env "$BUNDLE/settings.env" INSTALL_DATABASE)
    DD_SITE=$(read_env "$BUNDLE/settings.env" DD_SITE)
    ENTRIES=()
    local mode owner rel
    local sha
    while read -r mode owner sha rel; do
        [[ -n "$rel" ]] || continue
        case $rel in
            etc/datadog-agent/*) ;;
            *) die "manifest path $rel is outside etc/datadog-agent" ;;
        esac
        case /$rel/ in */../*) die "manifest path $rel contains .." ;; esac
        case $mode in 0[0-7][0-7][0-7]) ;; *) die "manifest mode $mode for $rel is not octal" ;; esac
        case $sha in [0-9a-f]*) [[ ${#sha} -eq 64 ]] ;; *) false ;; esac || die "manifest sha256 $sha for $rel is invalid"
        [[ -f "$BUNDLE/files/$rel" ]] || [[ -e "$BUNDLE/consumed" ]] || die "bundle file files/$rel is missing"
        ENTRIES+=("$mode $owner $sha $rel")
    done <"$BUNDLE/manifest"
}

# set_host_label DIR: name the host as the bundle in DIR does, "<name> (<address>)", for the
# failure line. Sets HOST_LABEL.
set_host_label() {
    [[ -f "$1/settings.env" ]] || return 0
    HOST_LABEL="$(read_env "$1/settings.env" HOST_NAME) ($(read_env "$1/settings.env" HOST_ADDRESS))"
}

# lines FILE: its lines, none if absent.
lines() { [[ -f "$1" ]] && cat "$1"; return 0; }
# installed_paths: the paths this stack installed (state), one a line.
installed_paths() { lines "$STATE/installed"; }
# is_installed REL: REL is one of them.
is_installed() { [[ -f "$STATE/installed" ]] && grep -qxF -- "$1" "$STATE/installed"; }
# in_bundle REL: REL is in the bundle's manifest.
in_bundle() {
    local entry
    for entry in "${ENTRIES[@]}"; do [[ "${entry#* * * }" = "$1" ]] && return 0; done
    return 1
}
# bundle_paths: the manifest's paths, sorted.
bundle_paths() { local entry; for entry in "${ENTRIES[@]}"; do printf '%s\n' "${entry#* * * }"; done | sort; }

# up_to_date MODE OWNER SHA256 REL: the target has the bundle's bytes, mode and owner.
up_to_date() {
    local target="$ROOT/$4"
    [[ -f "$target" ]] && [[ "$(sha256sum <"$target")" = "$3  -" ]] &&
        [[ "$(stat -c '%a %U %G' "$target")" = "${1#0} $2 $2" ]]
}

# consume_bundle: installed and verified: drop the bundle's copies of the files (they hold
# the API key and the database password). The manifest's hashes still tell a rerun that
# nothing changed; database.sql stays (a verifier/hash, re-applied on every run).
consume_bundle() {
    if ! { : >"$BUNDLE/consumed" && rm -rf "$BUNDLE/files" "$BUNDLE/secret.env"; }; then
        log "could not delete the bundle's copies of the installed files"
    fi
}

# put SOURCE TARGET [MODE OWNER]: atomic replace (temp file + rename in the same directory).
put() {
    local tmp
    tmp="$(dirname "$2")/.$(basename "$2").dd-stack.$$"
    if [[ $# -eq 4 ]]; then
        cp "$1" "$tmp" && chown "$4:$4" "$tmp" && chmod "$3" "$tmp"
    else
        cp -p "$1" "$tmp"
    fi || { rm -f "$tmp"; return 1; }
    mv -f "$tmp" "$2" || { rm -f "$tmp"; return 1; }
}
# put_temps_rm TARGET: delete a killed put's temp files.
put_temps_rm() { rm -f "$(dirname "$1")/.$(basename "$1").dd-stack."*; }  # a killed put's leftovers

# write_list FILE: stdin (sorted, unique, non-empty lines) replaces FILE atomically.
write_list() {
    local tmp="$1.new"
    { grep -v '^$' || :; } | sort -u >"$tmp" || return 1
    if [[ -s "$tmp" ]]; then mv -f "$tmp" "$1"; else rm -f "$tmp" "$1"; fi
}

# prune_dirs: remove the directories we created that are now empty; forget the gone ones.
prune_dirs() {
    local dir kept=()
    [[ -f "$STATE/dirs" ]] || return 0
    while IFS= read -r dir; do  # deepest first: a child sorts after its parent
        [[ -n "$dir" ]] || continue
        if [[ -d "$ROOT/$dir" ]] && ! rmdir "$ROOT/$dir" 2>/dev/null; then kept+=("$dir"); fi
    done < <(sort -r "$STATE/dirs")
    [ ${#kept[@]} -eq 0 ] && { rm -f "$STATE/dirs"; return 0; }
    printf '%s\n' "${kept[@]}" | write_list "$STATE/dirs"
}

# restart_agent: restart the Agent; a success settles a pending restart (stdout is checkResult's).
restart_agent() {
    systemctl restart datadog-agent >&2 && rm -f "$PENDING"
}

# verify_agent: configcheck shows no configuration error (retried while the Agent starts),
# then my_metric submits its gauge. Sets VERIFY_STEP, AGENT_ERROR, CHECK_OUTPUT.
verify_agent() {
    local attempt=1 out
    while :; do
        if out=$(datadog-agent configcheck 2>&1) && ! grep -q 'Configuration errors' <<<"$out"; then
            break
        fi
        if [[ "$attempt" -ge "$VERIFY_ATTEMPTS" ]]; then
            VERIFY_STEP="datadog-agent configcheck"; AGENT_ERROR=$out; return 1
        fi
        attempt=$((attempt + 1)); sleep "$VERIFY_DELAY"
    done
    check_shows my_metric my_metric
}

# verify_database: the integration logs in as datadog and its custom query yields the gauge.
# Sets VERIFY_STEP, AGENT_ERROR, CHECK_OUTPUT.
verify_database() {
    check_shows "$DB_KIND" "$DB_METRIC"
}

# check_shows CHECK METRIC: `datadog-agent check CHECK` as dd-agent ran without an error and
# submitted METRIC. Sets VERIFY_STEP, AGENT_ERROR (on failure), CHECK_OUTPUT (appends).
check_shows() {
    # The real command exits 0 even when the check raised (the error is only in its output,
    # "[ERROR]" and "Error: ..."), so read the output.
    local out
    VERIFY_STEP="datadog-agent check $1"
    if ! out=$(as_user dd-agent datadog-agent check "$1" 2>&1) || grep -q '\[ERROR\]' <<<"$out" ||
        ! grep -Fq "\"metric\": \"$2\"" <<<"$out"; then
        AGENT_ERROR=$out; return 1
    fi
    CHECK_OUTPUT+="$out"$'\n'
}

# run_sql KIND PORT FILE: FILE as the database superuser; only query results on stdout.
run_sql() {
    case $1 in
        # From /: psql as postgres cannot enter root's home directory and would say so.
        postgres) (cd / && as_user postgres psql -X -q -A -t -v ON_ERROR_STOP=1 --single-transaction \
                      -p "${2:-5432}" -d postgres -f - <"$3") ;;
        mysql) mysql -u root -N <"$3" ;;
        *) echo "unknown database kind '$1'"; return 1 ;;
    esac
}

# apply_sql: the datadog user's SQL (idempotent; PostgreSQL in one transaction). When it
# created the user, keep what removes it (remove runs it). Sets AGENT_ERROR (on failure).
apply_sql() {
    local out
    if ! out=$(run_sql "$DB_KIND" "$DB_PORT" "$BUNDLE/database.sql" 2>&1); then
        AGENT_ERROR=$out; return 1
    fi
    if grep -qxF "$DB_USER_CREATED" <<<"$out"; then
        cp "$BUNDLE/database-drop.sql" "$STATE/database-drop.sql" &&
            printf 'DB_KIND=%s\nDB_PORT=%s\n' "$DB_KIND" "$DB_PORT" >"$STATE/database.env" || return 1
        log "created the database user datadog"
    fi
}

# drop_database_user: drop the user our SQL created; a user that existed before stays.
# Sets AGENT_ERROR (on failure).
drop_database_user() {
    local out
    [[ -f "$STATE/database-drop.sql" ]] || return 0
    out=$(run_sql "$(read_env "$STATE/database.env" DB_KIND)" "$(read_env "$STATE/database.env" DB_PORT)" \
        "$STATE/database-drop.sql" 2>&1) || { AGENT_ERROR=$out; return 1; }
    rm -f "$STATE/database-drop.sql" "$STATE/database.env"
    log "dropped the database user datadog"
}

# save_credentials DIR: before database.sql changes the datadog user, keep what puts its
# credentials back (database-backup.sql's answer: ALTER ROLE/USER with the stored verifier or
# hash, or DROP for a user that does not exist yet) in DIR/$DB_RESTORE, with the server's
# kind and port. Only stdout is kept. Sets AGENT_ERROR (on failure).
save_credentials() {
    local err target="$1/$DB_RESTORE"
    if ! err=$(run_sql "$DB_KIND" "$DB_PORT" "$BUNDLE/database-backup.sql" 2>&1 >"$target.new"); then
        AGENT_ERROR=$err; rm -f "$target.new"; return 1
    fi
    if grep -qF "$DB_UNRESTORABLE" "$target.new"; then
        AGENT_ERROR="$(grep -F "$DB_UNRESTORABLE" "$target.new"); not changing a user whose credentials could not be put back"
        rm -f "$target.new"; return 1
    fi
    printf 'DB_KIND=%s\nDB_PORT=%s\n' "$DB_KIND" "$DB_PORT" >"$1/database-restore.env" &&
        mv -f "$target.new" "$target"
}

# restore_credentials DIR: apply DIR/$DB_RESTORE (if any), then forget it; kept on failure,
# so the next run retries. Sets AGENT_ERROR (on failure).
restore_credentials() {
    local out
    [[ -f "$1/$DB_RESTORE" ]] || return 0
    if [[ -s "$1/$DB_RESTORE" ]] && ! out=$(run_sql "$(read_env "$1/database-restore.env" DB_KIND)" \
        "$(read_env "$1/database-restore.env" DB_PORT)" "$1/$DB_RESTORE" 2>&1); then
        AGENT_ERROR=$out
        log "could not restore the database user's previous credentials (the next run retries)"
        return 1
    fi
    rm -f "$1/$DB_RESTORE" "$1/database-restore.env"
    log "restored the database user's previous credentials"
}

# restore_outside_txn: the credentials changed by an install whose files were unchanged (no
# transaction) go back. Sets DB_RESTORE_DIR.
restore_outside_txn() {
    [[ -n "$DB_RESTORE_DIR" ]] || return 0
    restore_credentials "$DB_RESTORE_DIR" && DB_RESTORE_DIR=""
}

# ensure_agent: the Agent is installed (Datadog's install script if installAgent), and the
# API key file is gone. Sets FAILED (on failure).
ensure_agent() {
    if command -v datadog-agent >/dev/null 2>&1; then
        rm -f "$BUNDLE/secret.env"  # the API key is only for installing the Agent
        return 0
    fi
    [[ "$INSTALL_AGENT" = "true" ]] ||
        die "datadog-agent is not installed and installAgent is false: install the Agent or set installAgent: true"
    local key script rc
    key=$(read_env "$BUNDLE/secret.env" DD_API_KEY)
    [[ -n "$key" ]] || die "installAgent is true but the bundle carries no API key"
    log "datadog-agent is absent: running Datadog's install script ($INSTALL_SCRIPT_URL)"
    script=$(mktemp) || die "mktemp failed"
    curl -fsSL --retry 3 -o "$script" "$INSTALL_SCRIPT_URL" || { rm -f "$script"; die "cannot download $INSTALL_SCRIPT_URL"; }
    # The key travels in the environment only, never on a command line.
    # 9>&-: nothing it starts may hold our lock.
    DD_API_KEY="$key" DD_SITE="$DD_SITE" DD_AGENT_MAJOR_VERSION=7 bash "$script" 2>&1 9>&- | scrub >&2
    rc=${PIPESTATUS[0]}
    rm -f "$script"
    [[ "$rc" -eq 0 ]] || die "Datadog's install script failed (exit $rc)"
    command -v datadog-agent >/dev/null 2>&1 || die "Datadog's install script did not install datadog-agent"
    rm -f "$BUNDLE/secret.env"  # the Agent is installed: the key file is not needed any more
}

# database_answers: the server runs the superuser's `SELECT 1`, retried while it starts.
# Sets AGENT_ERROR (the client's last message; empty on success).
database_answers() {
    local attempt=1
    until AGENT_ERROR=$(run_sql "$DB_KIND" "$DB_PORT" <(printf 'SELECT 1;\n') 2>&1); do
        [[ "$attempt" -ge "$VERIFY_ATTEMPTS" ]] && return 1
        attempt=$((attempt + 1)); sleep "$VERIFY_DELAY"
    done
    AGENT_ERROR=""
}

# installed_packages: every installed package name, sorted.
installed_packages() { dpkg-query -W -f='${Package}\n' 2>/dev/null | sort; }

# ensure_database: installDatabase: the distribution's server package, where missing; a failed
# install or a server that does not answer purges what it added. Sets AGENT_ERROR, FAILED (on failure).
ensure_database() {
    local package before out
    case $DB_KIND in postgres) package=postgresql ;; *) package=mariadb-server ;; esac
    [[ "$INSTALL_DATABASE" = "true" ]] || return 0
    # dpkg-query(1): ${Status} of an installed package is "install ok installed".
    [[ "$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null)" = "install ok installed" ]] && return 0
    command -v apt-get >/dev/null 2>&1 || die "installDatabase needs apt-get (Debian, Ubuntu) to install $package"
    log "$package is absent: installing it with apt-get"
    before=$(installed_packages)
    # 9>&-: the server it starts must not hold our lock.
    if out=$(export DEBIAN_FRONTEND=noninteractive; { apt-get update -q && apt-get install -y -q "$package"; } 2>&1 9>&-) &&
        database_answers; then
        log "installed $package; its server answers"
        return 0
    fi
    [[ -n "$AGENT_ERROR" ]] || AGENT_ERROR=$out
    # Roll back: purge exactly the packages this run added, so a retry starts from scratch.
    local added
    added=$(comm -13 <(printf '%s\n' "$before") <(installed_packages))
    if [[ -n "$added" ]]; then
        # shellcheck disable=SC2086  # one word per package name
        DEBIAN_FRONTEND=noninteractive apt-get purge -y -q $added >/dev/null 2>&1 9>&- ||
            log "could not purge the packages it added: ${added//$'\n'/ }"
    fi
    die "installing the database server ($package) failed; the packages it added are purged"
}

# check_mysql_auth: before any change, a MySQL server must still offer mysql_native_password
# (MariaDB does; MySQL 8.4 disables it, 9.0 removed it). Sets AGENT_ERROR, FAILED (on failure).
check_mysql_auth() {
    local version
    [[ "${DB_KIND}" == "mysql" ]] || return 0
    if ! version=$(run_sql mysql "${DB_PORT}" <(printf 'SELECT VERSION();\n') 2>&1); then
        AGENT_ERROR=${version}
        die "asking the MySQL server for its version failed"
    fi
    [[ "${version}" == *MariaDB* ]] && return 0  # MariaDB keeps mysql_native_password
    if [[ "${version}" =~ ^([0-9]+)\.([0-9]+) ]] &&
        (( BASH_REMATCH[1] > 8 || (BASH_REMATCH[1] == 8 && BASH_REMATCH[2] >= 4) )); then
        die "MySQL ${version}: the datadog user's SQL needs mysql_native_password (it carries a hash, never the password), which MySQL 8.4 disables by default and 9.0 removed; use MariaDB or MySQL 8.0"
    fi
}

# --- the transaction ------------------------------------------------------------------------

# begin_txn: open a transaction, prepared aside and opened by one rename (a txn directory is
# always complete). Sets IN_TXN.
begin_txn() {
    rm -rf "$TXN_NEW" && mkdir -p "$TXN_NEW/backup" "$TXN_NEW/state" &&
        : >"$TXN_NEW/created" && : >"$TXN_NEW/claimed" && : >"$TXN_NEW/dirs" || return 1
    local f
    for f in installed dirs database-drop.sql database.env; do  # the state files as they were, restored by a rollback
        if [[ -f "$STATE/$f" ]]; then cp -p "$STATE/$f" "$TXN_NEW/state/$f" || return 1; fi
    done
    mv -T "$TXN_NEW" "$TXN" || return 1
    IN_TXN=1
    : >"$PENDING"
}

# backup REL: record how to undo the change of a path, before changing it.
backup() {
    local target="$ROOT/$1"
    if [[ -e "$target" ]]; then
        mkdir -p "$(dirname "$TXN/backup/$1")" && put "$target" "$TXN/backup/$1" || return 1
        if ! is_installed "$1"; then  # first time this stack takes over the file: keep the original
            printf '%s\n' "$1" >>"$TXN/claimed" &&
                mkdir -p "$(dirname "$STATE/original/$1")" && put "$target" "$STATE/original/$1" || return 1
        fi
    else
        printf '%s\n' "$1" >>"$TXN/created"
    fi
}

# make_parent REL: create REL's missing parent directories, recording them first.
make_parent() {
    local dir=${1%/*} missing=()
    while [[ ! -d "$ROOT/$dir" ]]; do
        missing+=("$dir")
        [[ "$dir" = "${dir%/*}" ]] && break
        dir=${dir%/*}
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    printf '%s\n' "${missing[@]}" >>"$TXN/dirs" && (umask 022 && mkdir -p "$ROOT/${1%/*}")
}

# release REL: put back the original of a file we installed, or delete it.
release() {
    if [[ -f "$STATE/original/$1" ]]; then
        put "$STATE/original/$1" "$ROOT/$1"
    else
        rm -f "$ROOT/$1"
    fi
}

# undo_txn: put every path of $TXN back as it was; idempotent, so an interrupted undo reruns.
undo_txn() {
    local rel f failed=0
    [[ -d "$TXN" ]] || return 0
    restore_credentials "$TXN" || failed=1  # before the files: the restored Agent logs in with them
    while IFS= read -r rel; do
        put "$TXN/backup/$rel" "$ROOT/$rel" || { log "could not restore /$rel"; failed=1; }
        put_temps_rm "$ROOT/$rel"
    done < <(cd "$TXN/backup" && find . -type f ! -name '.*.dd-stack.*' -print | sed 's|^\./||')
    while IFS= read -r rel; do
        [[ -n "$rel" ]] || continue
        rm -f "$ROOT/$rel" || failed=1
        put_temps_rm "$ROOT/$rel"
    done < <(lines "$TXN/created")
    while IFS= read -r rel; do
        [[ -n "$rel" ]] || continue
        rm -f "$STATE/original/$rel" || failed=1
        put_temps_rm "$STATE/original/$rel"
    done < <(lines "$TXN/claimed")
    while IFS= read -r rel; do  # directories the transaction created, deepest first, if empty
        [[ -n "$rel" ]] && [[ -d "$ROOT/$rel" ]] && { rmdir "$ROOT/$rel" 2>/dev/null || log "kept /$rel (not empty)"; }
    done < <(lines "$TXN/dirs" | sort -ru)
    for f in installed dirs database-drop.sql database.env; do
        if [[ -f "$TXN/state/$f" ]]; then put "$TXN/state/$f" "$STATE/$f" || failed=1; else rm -f "$STATE/$f"; fi
    done
    [[ $failed -eq 0 ]] || return 1  # keep $TXN: the next run retries the undo
    restart_agent || log "systemctl restart datadog-agent failed after the restore (retried by the next run)"
    mv -T "$TXN" "$TXN_ABORTED" && rm -rf "$TXN_ABORTED"
}

# rollback STEP: undo the transaction, report, exit 1. Sets IN_TXN, FAILED.
rollback() {
    trap '' HUP INT TERM PIPE  # a second signal must not interrupt the restore
    IN_TXN=0
    if undo_txn; then
        FAILED="$1 failed; the previous configuration is restored"
    else
        FAILED="$1 failed; the restore is incomplete (the next run of install.sh retries it)"
    fi
    report
    exit 1
}

# commit_txn: the bundle's paths are now ours; then roll the clean-up forward. Sets IN_TXN.
commit_txn() {
    bundle_paths | write_list "$STATE/installed" &&
        cat <(lines "$STATE/dirs") "$TXN/dirs" | write_list "$STATE/dirs" &&
        mv -T "$TXN" "$TXN_COMMITTED" || return 1
    IN_TXN=0
    finish_commit
}

# finish_commit: forget the originals of released paths, drop emptied directories.
finish_commit() {
    local rel
    while IFS= read -r rel; do
        [[ -n "$rel" ]] && rm -f "$STATE/original/$rel"
    done < <(lines "$TXN_COMMITTED/obsolete")
    prune_dirs
    rm -rf "$TXN_COMMITTED"
}

# recover: before anything else: take the lock, settle what an interrupted run left behind.
recover() {
    if ! { mkdir -p "$STATE" && chmod 700 "$STATE"; }; then die "cannot create $STATE"; fi
    exec 9>"$STATE/lock"
    flock -w 300 9 || die "another install.sh holds $STATE/lock"
    rm -rf "$TXN_NEW" "$TXN_ABORTED"
    [[ -d "$TXN_COMMITTED" ]] && finish_commit
    if [[ -f "$STATE/$DB_RESTORE" ]]; then
        log "an earlier run was interrupted: restoring the database user's credentials it started from"
        restore_credentials "$STATE" || die "could not restore the database user's credentials an interrupted run changed; nothing else was changed"
    fi
    if [[ -d "$TXN" ]]; then
        log "an earlier run was interrupted: restoring the configuration it started from"
        trap '' HUP INT TERM PIPE
        undo_txn || die "could not restore the interrupted run's files; nothing else was changed"
        set_traps
    fi
    return 0
}

# cmd_install BUNDLE_DIR: the install action (see the top of this file). Sets AGENT_ERROR (a
# failed restart), DB_RESTORE_DIR and, through its callees, everything they name.
cmd_install() {
    recover
    load_bundle "$@"
    ensure_agent
    id dd-agent >/dev/null 2>&1 || die "user dd-agent does not exist (is the Agent package installed?)"
    ensure_database
    check_mysql_auth

    local entry mode owner sha rel changed=() obsolete=()
    for entry in "${ENTRIES[@]}"; do
        read -r mode owner sha rel <<<"$entry"
        up_to_date "$mode" "$owner" "$sha" "$rel" || changed+=("$entry")
    done
    while IFS= read -r rel; do
        [[ -n "$rel" ]] && ! in_bundle "$rel" && obsolete+=("$rel")
    done < <(installed_paths)

    if [ ${#changed[@]} -eq 0 ] && [ ${#obsolete[@]} -eq 0 ]; then
        log "configuration files unchanged"
        # The files are the bundle's: record them as ours (remove must take them away).
        [[ "$(bundle_paths)" = "$(installed_paths)" ]] ||
            bundle_paths | write_list "$STATE/installed" || die "recording the installed files failed"
        if [[ -e "$PENDING" ]]; then
            log "an earlier run left the Agent without a restart: restarting it"
            restart_agent || die "systemctl restart datadog-agent failed"
        fi
        verify_agent || die "$VERIFY_STEP failed (configuration files unchanged)"
        save_credentials "$STATE" || die "backing up the database user's credentials failed"
        DB_RESTORE_DIR=$STATE  # from here, any exit puts the credentials back (on_exit)
        apply_sql || die "applying the database SQL failed"
        verify_database || die "$VERIFY_STEP failed (configuration files unchanged)"
        rm -f "$STATE/$DB_RESTORE" "$STATE/database-restore.env"; DB_RESTORE_DIR=""
        consume_bundle
        printf '%s' "$CHECK_OUTPUT" | scrub
        return 0
    fi

    [[ ! -e "$BUNDLE/consumed" ]] || die "the files differ from this bundle, whose copies an earlier successful install deleted; copy it again: pulumi up --replace <the host's -agent-bundle command URN>"
    begin_txn || die "cannot start the transaction in $TXN"
    for entry in "${changed[@]}"; do
        read -r mode owner sha rel <<<"$entry"
        backup "$rel" || rollback "backing up /$rel"
        make_parent "$rel" || rollback "creating $(dirname "/$rel")"
        [[ "$(sha256sum <"$BUNDLE/files/$rel")" = "$sha  -" ]] || rollback "checking the bundle's /$rel against its manifest"
        put "$BUNDLE/files/$rel" "$ROOT/$rel" "$mode" "$owner" || rollback "installing /$rel"
        log "installed /$rel"
    done
    for rel in "${obsolete[@]}"; do
        printf '%s\n' "$rel" >>"$TXN/obsolete" || rollback "recording /$rel"
        backup "$rel" || rollback "backing up /$rel"
        release "$rel" || rollback "releasing /$rel"
        log "released /$rel (no longer in the bundle)"
    done
    restart_agent || { AGENT_ERROR=$(systemctl status datadog-agent 2>&1); rollback "systemctl restart datadog-agent"; }
    verify_agent || rollback "$VERIFY_STEP"
    save_credentials "$TXN" || rollback "backing up the database user's credentials"
    apply_sql || rollback "applying the database SQL"
    verify_database || rollback "$VERIFY_STEP"
    commit_txn || rollback "recording the installed files"
    consume_bundle
    printf '%s' "$CHECK_OUTPUT" | scrub
}

# cmd_remove BUNDLE_DIR: the remove action (see the top of this file); its callees name what they set.
cmd_remove() {
    # The state records exactly the files this stack installed (whatever bundle did it).
    [[ -n "${1:-}" ]] || die "usage: install.sh remove <bundle_dir>"
    set_host_label "$1"
    recover
    local rel
    while IFS= read -r rel; do
        [[ -n "$rel" ]] || continue
        : >"$PENDING" || die "cannot write $PENDING"
        release "$rel" || die "could not release /$rel"
        # Forget the path before its original: a rerun after a crash here releases it again.
        installed_paths | { grep -vxF -- "$rel" || :; } | write_list "$STATE/installed" ||
            die "cannot update $STATE/installed"
        rm -f "$STATE/original/$rel"
        log "removed /$rel"
    done < <(installed_paths)
    prune_dirs
    [[ -d "$STATE/original" ]] && find "$STATE/original" -depth -type d -empty -delete
    if [[ -e "$PENDING" ]]; then
        restart_agent || die "systemctl restart datadog-agent failed"
    else
        log "nothing installed; nothing to remove"
    fi
    drop_database_user || die "dropping the database user datadog failed"
    # Nothing of ours is left: the state goes too (its lock with it; we hold the open file).
    rm -rf "$STATE" || die "cannot delete $STATE"
}

set_traps
case "${1:-}" in
    install) shift; cmd_install "$@" ;;
    remove) shift; cmd_remove "$@" ;;
    *) die "usage: install.sh install|remove <bundle_dir>" ;;
esac
