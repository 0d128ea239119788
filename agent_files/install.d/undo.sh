# shellcheck shell=bash disable=SC2034
# (SC2034: a global set here is read by another part; tests/unit/test_shell_scripts.py
# checks the assembled installer whole, where it is not.)
# install.d/undo.sh (sourced by install.sh): rolling a transaction back. An open one (a
# failed step, a signal) or one an interrupted run left behind (found by `recover` before
# anything else), byte for byte and idempotently.
# Its constants and globals are declared in install.sh.

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
