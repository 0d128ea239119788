# shellcheck shell=bash disable=SC2034
# (SC2034: a global set here is read by another part; tests/unit/test_shell_scripts.py
# checks the assembled installer whole, where it is not.)
# install.d/actions.sh (sourced by install.sh): the two actions, install and remove (see
# the top of install.sh), composed from the other parts.
# Its constants and globals are declared in install.sh.

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
