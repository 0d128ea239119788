#!/bin/bash
# Installs (or removes) the Datadog Agent configuration bundle rendered by agent_files/render.py.
#
#   install.sh install <bundle_dir>   stage, back up, install atomically, restart, verify,
#                                     apply the database SQL; on ANY failure restore the
#                                     previous files byte for byte and exit non-zero
#   install.sh remove  <bundle_dir>   put back the files the installed ones replaced, delete
#                                     those that did not exist before, restart the Agent
#
# Runs as root on the VM. Bundle layout: see BUNDLE_LAYOUT in agent_files/render.py.
# stdout carries only the verified `datadog-agent check my_metric` output; progress and
# errors go to stderr (scrubbed of passwords and keys).
#
# Environment (all optional; the defaults are what a VM uses):
#   DD_STACK_ROOT              prefix for every path touched (tests use a throwaway root)
#   DD_STACK_VERIFY_ATTEMPTS   configcheck attempts while the Agent restarts (default 10)
#   DD_STACK_VERIFY_DELAY      seconds between attempts (default 3)
set -u -o pipefail
umask 077

ROOT="${DD_STACK_ROOT:-}"
STATE="$ROOT/var/lib/datadog-stack/state"
TXN="$STATE/txn"
VERIFY_ATTEMPTS="${DD_STACK_VERIFY_ATTEMPTS:-10}"
VERIFY_DELAY="${DD_STACK_VERIFY_DELAY:-3}"
INSTALL_SCRIPT_URL="https://install.datadoghq.com/scripts/install_script_agent7.sh"
AGENT_ERROR=""
CHECK_OUTPUT=""

log() { printf 'install.sh: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }
scrub() {  # hide anything that looks like a secret value in the Agent's output
    sed -E 's/((pass(word)?|api_?key|app_?key|token|secret)["'\'']?[[:space:]]*[:=][[:space:]]*).*/\1********/I'
}

read_env() {  # read_env FILE KEY: value of KEY=... (never eval'ed)
    local line
    [ -f "$1" ] || return 0
    while IFS= read -r line || [ -n "$line" ]; do
        case $line in "$2="*) printf '%s' "${line#*=}"; return 0 ;; esac
    done <"$1"
}

as_user() {  # as_user USER CMD...: run a command as another user (we are root)
    local user=$1; shift
    if [ "$(id -un)" = "$user" ]; then "$@"; else runuser -u "$user" -- "$@"; fi
}

load_bundle() {
    [ -n "${1:-}" ] || die "usage: install.sh install|remove <bundle_dir>"
    BUNDLE=$(cd "$1" 2>/dev/null && pwd) || die "bundle directory $1 does not exist"
    [ -f "$BUNDLE/manifest" ] || die "$BUNDLE/manifest is missing"
    DB_KIND=$(read_env "$BUNDLE/settings.env" DB_KIND)
    DB_PORT=$(read_env "$BUNDLE/settings.env" DB_PORT)
    INSTALL_AGENT=$(read_env "$BUNDLE/settings.env" INSTALL_AGENT)
    DD_SITE=$(read_env "$BUNDLE/settings.env" DD_SITE)
    ENTRIES=()
    local mode owner rel
    while read -r mode owner rel; do
        [ -n "$rel" ] || continue
        case $rel in
            etc/datadog-agent/*) ;;
            *) die "manifest path $rel is outside etc/datadog-agent" ;;
        esac
        case /$rel/ in */../*) die "manifest path $rel contains .." ;; esac
        case $mode in 0[0-7][0-7][0-7]) ;; *) die "manifest mode $mode for $rel is not octal" ;; esac
        [ -f "$BUNDLE/files/$rel" ] || die "bundle file files/$rel is missing"
        ENTRIES+=("$mode $owner $rel")
    done <"$BUNDLE/manifest"
}

installed_paths() { [ -f "$STATE/installed" ] && cat "$STATE/installed"; return 0; }
is_installed() { installed_paths | grep -qxF -- "$1"; }
in_bundle() {
    local entry
    for entry in "${ENTRIES[@]}"; do [ "${entry#* * }" = "$1" ] && return 0; done
    return 1
}

up_to_date() {  # up_to_date MODE OWNER REL: target has the bundle's bytes, mode and owner
    local target="$ROOT/$3"
    [ -f "$target" ] && cmp -s "$BUNDLE/files/$3" "$target" &&
        [ "$(stat -c '%a %U %G' "$target")" = "${1#0} $2 $2" ]
}

put() {  # put SOURCE TARGET [MODE OWNER]: atomic replace (temp file + rename in the same dir)
    local tmp
    tmp="$(dirname "$2")/.$(basename "$2").dd-stack.$$"
    if [ $# -eq 4 ]; then
        cp "$1" "$tmp" && chown "$4:$4" "$tmp" && chmod "$3" "$tmp"
    else
        cp -p "$1" "$tmp"
    fi || { rm -f "$tmp"; return 1; }
    mv -f "$tmp" "$2" || { rm -f "$tmp"; return 1; }
}

restart_agent() { systemctl restart datadog-agent; }

verify() {  # configcheck must show no configuration error, then my_metric must submit a gauge
    local attempt=1 out
    while :; do
        out=$(datadog-agent configcheck 2>&1)
        if [ $? -eq 0 ] && ! printf '%s\n' "$out" | grep -q 'Configuration errors'; then break; fi
        if [ "$attempt" -ge "$VERIFY_ATTEMPTS" ]; then
            AGENT_ERROR="datadog-agent configcheck failed:"$'\n'"$out"; return 1
        fi
        attempt=$((attempt + 1)); sleep "$VERIFY_DELAY"
    done
    out=$(as_user dd-agent datadog-agent check my_metric 2>&1)
    if [ $? -ne 0 ] || ! printf '%s\n' "$out" | grep -Eq '"metric": ?"my_metric"'; then
        AGENT_ERROR="datadog-agent check my_metric failed:"$'\n'"$out"; return 1
    fi
    CHECK_OUTPUT=$out
}

apply_sql() {  # idempotent; PostgreSQL in one transaction
    case $DB_KIND in
        postgres) as_user postgres psql -X -q -v ON_ERROR_STOP=1 --single-transaction \
                      -p "${DB_PORT:-5432}" -d postgres -f - <"$BUNDLE/database.sql" ;;
        mysql) mysql -u root <"$BUNDLE/database.sql" ;;
        *) log "unknown database kind '$DB_KIND'"; return 1 ;;
    esac
}

ensure_agent() {
    command -v datadog-agent >/dev/null 2>&1 && return 0
    [ "$INSTALL_AGENT" = "true" ] ||
        die "datadog-agent is not installed and installAgent is false: install the Agent or set installAgent: true"
    local key script
    key=$(read_env "$BUNDLE/secret.env" DD_API_KEY)
    [ -n "$key" ] || die "installAgent is true but the bundle carries no API key"
    log "datadog-agent is absent: running Datadog's install script ($INSTALL_SCRIPT_URL)"
    script=$(mktemp) || die "mktemp failed"
    curl -fsSL --retry 3 -o "$script" "$INSTALL_SCRIPT_URL" || { rm -f "$script"; die "cannot download $INSTALL_SCRIPT_URL"; }
    # The key travels in the environment only, never on a command line.
    DD_API_KEY="$key" DD_SITE="$DD_SITE" DD_AGENT_MAJOR_VERSION=7 bash "$script" >&2
    local rc=$?
    rm -f "$script"
    [ $rc -eq 0 ] || die "Datadog's install script failed (exit $rc)"
    command -v datadog-agent >/dev/null 2>&1 || die "Datadog's install script did not install datadog-agent"
}

rollback() {  # rollback REASON: restore every file of the transaction, restart, report, exit 1
    local rel
    log "FAILED: $1; restoring the previous configuration"
    if [ -d "$TXN/backup" ]; then
        (cd "$TXN/backup" && find . -type f -print) | sed 's|^\./||' | while IFS= read -r rel; do
            put "$TXN/backup/$rel" "$ROOT/$rel" || log "could not restore /$rel"
        done
    fi
    [ -f "$TXN/created" ] && while IFS= read -r rel; do rm -f "$ROOT/$rel"; done <"$TXN/created"
    [ -f "$TXN/claimed" ] && while IFS= read -r rel; do rm -f "$STATE/original/$rel"; done <"$TXN/claimed"
    rm -rf "$TXN"
    restart_agent || log "systemctl restart datadog-agent failed after the restore"
    [ -n "$AGENT_ERROR" ] && printf '%s\n' "$AGENT_ERROR" | scrub >&2
    exit 1
}

backup() {  # backup REL: remember the current state of a path before the transaction changes it
    local target="$ROOT/$1"
    if [ -e "$target" ]; then
        mkdir -p "$(dirname "$TXN/backup/$1")" && cp -p "$target" "$TXN/backup/$1" || return 1
        if ! is_installed "$1"; then  # first time this stack takes over the file: keep the original
            mkdir -p "$(dirname "$STATE/original/$1")" && cp -p "$target" "$STATE/original/$1" || return 1
            printf '%s\n' "$1" >>"$TXN/claimed"
        fi
    else
        printf '%s\n' "$1" >>"$TXN/created"
    fi
}

release() {  # release REL: put back the original of a file we installed, or delete it
    if [ -f "$STATE/original/$1" ]; then
        put "$STATE/original/$1" "$ROOT/$1"
    else
        rm -f "$ROOT/$1"
    fi
}

cmd_install() {
    load_bundle "$@"
    ensure_agent
    id dd-agent >/dev/null 2>&1 || die "user dd-agent does not exist (is the Agent package installed?)"
    mkdir -p "$STATE" && chmod 700 "$STATE" || die "cannot create $STATE"

    local entry mode owner rel changed=() obsolete=()
    for entry in "${ENTRIES[@]}"; do
        read -r mode owner rel <<<"$entry"
        up_to_date "$mode" "$owner" "$rel" || changed+=("$entry")
    done
    while IFS= read -r rel; do
        [ -n "$rel" ] && ! in_bundle "$rel" && obsolete+=("$rel")
    done < <(installed_paths)

    if [ ${#changed[@]} -eq 0 ] && [ ${#obsolete[@]} -eq 0 ]; then
        log "configuration files unchanged; agent not restarted"
        apply_sql || die "applying the database SQL failed"
        verify || { printf '%s\n' "$AGENT_ERROR" | scrub >&2; exit 1; }
        printf '%s\n' "$CHECK_OUTPUT"
        return 0
    fi

    rm -rf "$TXN" && mkdir -p "$TXN/backup" && : >"$TXN/created" || die "cannot start the transaction in $TXN"
    for entry in "${changed[@]}"; do
        read -r mode owner rel <<<"$entry"
        backup "$rel" || rollback "backing up /$rel"
        if [ ! -d "$(dirname "$ROOT/$rel")" ]; then
            (umask 022 && mkdir -p "$(dirname "$ROOT/$rel")") || rollback "creating $(dirname "/$rel")"
        fi
        put "$BUNDLE/files/$rel" "$ROOT/$rel" "$mode" "$owner" || rollback "installing /$rel"
        log "installed /$rel"
    done
    for rel in "${obsolete[@]}"; do
        backup "$rel" || rollback "backing up /$rel"
        release "$rel" || rollback "releasing /$rel"
        log "released /$rel (no longer in the bundle)"
    done
    restart_agent || { AGENT_ERROR=$(systemctl status datadog-agent 2>&1); rollback "systemctl restart datadog-agent"; }
    verify || rollback "verification"
    apply_sql || rollback "applying the database SQL"

    # Commit: the bundle's paths are now ours; originals of released paths are forgotten.
    for rel in "${obsolete[@]}"; do rm -f "$STATE/original/$rel"; done
    for entry in "${ENTRIES[@]}"; do printf '%s\n' "${entry#* * }"; done | sort >"$STATE/installed.new" &&
        mv -f "$STATE/installed.new" "$STATE/installed" || rollback "recording the installed files"
    rm -rf "$TXN"
    printf '%s\n' "$CHECK_OUTPUT"
}

cmd_remove() {
    # The state records exactly the files this stack installed (whatever bundle did it).
    [ -n "${1:-}" ] || die "usage: install.sh remove <bundle_dir>"
    local rel kept removed=0
    while IFS= read -r rel; do
        [ -n "$rel" ] || continue
        release "$rel" || die "could not release /$rel"
        rm -f "$STATE/original/$rel"
        kept=$(installed_paths | grep -vxF -- "$rel")
        if [ -n "$kept" ]; then printf '%s\n' "$kept" >"$STATE/installed"; else rm -f "$STATE/installed"; fi
        log "removed /$rel"
        removed=1
    done < <(installed_paths)
    if [ $removed -eq 1 ]; then
        restart_agent || die "systemctl restart datadog-agent failed"
    else
        log "nothing installed; nothing to remove"
    fi
}

case "${1:-}" in
    install) shift; cmd_install "$@" ;;
    remove) shift; cmd_remove "$@" ;;
    *) die "usage: install.sh install|remove <bundle_dir>" ;;
esac
