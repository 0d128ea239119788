# shellcheck shell=bash disable=SC2034
# (SC2034: a global set here is read by another part; tests/unit/test_shell_scripts.py
# checks the assembled installer whole, where it is not.)
# install.d/files.sh (sourced by install.sh): the file operations the others build on.
# Atomic replace, atomic lists, releasing a path we installed, pruning the directories we
# created.
# Its constants and globals are declared in install.sh.

# put SOURCE TARGET [MODE OWNER]: atomic replace (temp file + rename in the same directory).
put() {
    local tmp
    tmp="$(dirname "$2")/.$(basename "$2").dd-stack.$$"
    if [[ $# -eq 4 ]]; then
        cp "$1" "$tmp" && chown "$4:$4" "$tmp" && chmod "$3" "$tmp"
    else
        cp -p "$1" "$tmp"
    fi || { rm -f "$tmp"; return 1; }
    mv -f "$tmp" "$2" || { rm -f "$tmp"; return 1; }
}
# put_temps_rm TARGET: delete a killed put's temp files.
put_temps_rm() { rm -f "$(dirname "$1")/.$(basename "$1").dd-stack."*; }  # a killed put's leftovers

# write_list FILE: stdin (sorted, unique, non-empty lines) replaces FILE atomically.
write_list() {
    local tmp="$1.new"
    { grep -v '^$' || :; } | sort -u >"$tmp" || return 1
    if [[ -s "$tmp" ]]; then mv -f "$tmp" "$1"; else rm -f "$tmp" "$1"; fi
}

# prune_dirs: remove the directories we created that are now empty; forget the gone ones.
prune_dirs() {
    local dir kept=()
    [[ -f "$STATE/dirs" ]] || return 0
    while IFS= read -r dir; do  # deepest first: a child sorts after its parent
        [[ -n "$dir" ]] || continue
        if [[ -d "$ROOT/$dir" ]] && ! rmdir "$ROOT/$dir" 2>/dev/null; then kept+=("$dir"); fi
    done < <(sort -r "$STATE/dirs")
    [ ${#kept[@]} -eq 0 ] && { rm -f "$STATE/dirs"; return 0; }
    printf '%s\n' "${kept[@]}" | write_list "$STATE/dirs"
}

# release REL: put back the original of a file we installed, or delete it.
release() {
    if [[ -f "$STATE/original/$1" ]]; then
        put "$STATE/original/$1" "$ROOT/$1"
    else
        rm -f "$ROOT/$1"
    fi
}
