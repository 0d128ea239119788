# shellcheck shell=bash disable=SC2034
# (SC2034: a global set here is read by another part; tests/unit/test_shell_scripts.py
# checks the assembled installer whole, where it is not.)
# install.d/journal.sh (sourced by install.sh): the transaction journal. Before each change
# to /etc/datadog-agent, how to undo it is recorded in $TXN, which is opened by one rename
# (so it is always complete); a commit is one rename too, its clean-up rolled forward.
# Its constants and globals are declared in install.sh.

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
