# shellcheck shell=bash disable=SC2034
# (SC2034: a global set here is read by another part; tests/unit/test_shell_scripts.py
# checks the assembled installer whole, where it is not.)
# install.d/verify.sh (sourced by install.sh): verification. The Agent restarts,
# configcheck is clean, and `datadog-agent check` as dd-agent submits the expected metric
# (its exit status alone says nothing: the output is read).
# Its constants and globals are declared in install.sh.

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
