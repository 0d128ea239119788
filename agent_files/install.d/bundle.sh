# shellcheck shell=bash disable=SC2034
# (SC2034: a global set here is read by another part; tests/unit/test_shell_scripts.py
# checks the assembled installer whole, where it is not.)
# install.d/bundle.sh (sourced by install.sh): the bundle and the state's records. The
# settings (read, never eval'ed), the manifest (checked before anything changes), which
# paths are ours, whether a file is up to date, dropping the bundle's secret copies.
# Its constants and globals are declared in install.sh.

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
