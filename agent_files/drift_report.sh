#!/bin/sh
# drift_report.sh SERVICE FILE... -- DIR...: what is on this host, read-only (rules/drift.py
# sends this file's text as `sh -s`'s script over SSH, the arguments on its command line).
#
# One line per regular file (not a symlink) among FILE... and the entries of each DIR
# (dot files included): `F <octal mode> <owner> <sha256> <path>`; then `A <state>`, the
# state of the SERVICE unit: active, systemctl's word otherwise (inactive, failed...), or
# unknown when there is no systemctl.
set -u
service=$1
shift

# report PATH: the F line of PATH when it is a regular file.
report() {
    if [ -f "$1" ] && [ ! -L "$1" ]; then
        printf 'F %s %s %s %s\n' "$(stat -c %a "$1")" "$(stat -c %U "$1")" \
            "$(sha256sum <"$1" | cut -d ' ' -f 1)" "$1"
    fi
}

in_dirs=false
for arg in "$@"; do
    if [ "$arg" = -- ]; then
        in_dirs=true
    elif [ "$in_dirs" = true ]; then
        for f in "$arg"/* "$arg"/.[!.]*; do report "$f"; done
    else
        report "$arg"
    fi
done

# systemctl is-active: exit 0 when active; its word otherwise ("inactive", "failed").
state=$(systemctl is-active "$service" 2>/dev/null); code=$?
[ "$code" -eq 0 ] && state=active
[ -n "$state" ] || { [ "$code" -eq 127 ] && state=unknown || state=inactive; }
printf 'A %s\n' "$state"
exit 0
