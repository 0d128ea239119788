# shellcheck shell=bash disable=SC2034
# (SC2034: a global set here is read by another part; tests/unit/test_shell_scripts.py
# checks the assembled installer whole, where it is not.)
# install.d/packages.sh (sourced by install.sh): packages. The Agent (Datadog's install
# script, the API key in the environment only) and the database server (apt-get; a failed
# install purges exactly what it added).
# Its constants and globals are declared in install.sh.

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
