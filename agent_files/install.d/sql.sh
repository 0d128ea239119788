# shellcheck shell=bash disable=SC2034
# (SC2034: a global set here is read by another part; tests/unit/test_shell_scripts.py
# checks the assembled installer whole, where it is not.)
# install.d/sql.sh (sourced by install.sh): SQL as the database superuser. The datadog
# user's SQL, the drop SQL remove runs, the backup and restore of the user's credentials,
# MySQL's authentication precondition.
# Its constants and globals are declared in install.sh.

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
