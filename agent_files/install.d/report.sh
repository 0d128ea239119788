# shellcheck shell=bash disable=SC2034
# (SC2034: a global set here is read by another part; tests/unit/test_shell_scripts.py
# checks the assembled installer whole, where it is not.)
# install.d/report.sh (sourced by install.sh): scrubbed reporting and the traps. Progress
# lines, the failure line (host, step) and the Agent's message all pass through `scrub`;
# HUP/INT/TERM/PIPE and EXIT roll back an open transaction first.
# Its constants and globals are declared in install.sh.

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
