#!/usr/bin/env bash
# deploy.sh: install, check or remove the Flask app on this host (run as root).
#
#   APP_NAME=flask-app APP_ROOT=/opt/flask-app APP_STACK=dev APP_PORT=5050 APP_HOST=127.0.0.1 deploy.sh install BUNDLE_DIR
#   APP_NAME=flask-app APP_ROOT=/opt/flask-app APP_PORT=5050 APP_HOST=127.0.0.1               deploy.sh smoke
#   APP_NAME=flask-app APP_ROOT=/opt/flask-app APP_STACK=dev                                   deploy.sh remove
#
# APP_HOST is where the app answers on this host (its bind address, loopback when it
# listens on every interface); APP_PORT its port; APP_STACK the Pulumi stack that owns it.
#
# Ownership: the stack changes or deletes only what it created, whatever the app is
# called (an app named like a service already on the host must not replace or remove it):
#   * the unit is the stack's when its first line is OWNER_LINE, which names APP_STACK
#     (agent_files/app_service.py renders the unit with that line first);
#   * APP_ROOT is the stack's when APP_ROOT/.datadog-stack-owner holds APP_STACK. install
#     creates APP_ROOT whole (marker and this script inside) with one rename, so the
#     marker is there from the first instant; a dir made before markers existed is
#     adopted when the stack's unit runs from it;
#   * install refuses, before changing anything, a unit or APP_ROOT that exists and is not
#     the stack's, and a unit of that name in a vendor unit dir (ours would override it);
#   * remove deletes only what is the stack's and names, in one line, what it kept.
# The app runs as systemd's DynamicUser (allocated at start, released at stop): no user
# account is created, so none is recorded or removed.
#
# BUNDLE_DIR holds app.py, requirements.txt, wheels.sha256 (the app's wheel set: each
# wheel file and its sha256), app.service (the systemd unit) and this script;
# components/apm_service.py ships it over SSH.
#
# No package index is contacted: the release's virtualenv is installed with
# `pip install --no-index` from APP_ROOT/wheels/<set id>/ (the set id: sha256 of
# wheels.sha256's lines, agent_files/wheels.py `set_id`). The stack copies the set, one tar,
# to APP_WHEELS (a path in /var/tmp) when the host may lack it; install checks every file
# against wheels.sha256 before it unpacks the set, then deletes APP_WHEELS.
#
# install is idempotent and atomic:
#   * each (app.py, requirements.txt, wheel set, python version) is built once into its own
#     release dir APP_ROOT/releases/<sha256> with its own virtualenv; a release is
#     used only once it is complete (.complete marker), so a failed pip install
#     leaves the running version untouched;
#   * APP_ROOT/current, the symlink the unit runs from, is switched with one rename;
#   * whether to restart is decided from what runs, not from the files on disk:
#     APP_ROOT/state/running names the release and unit hash the running process was
#     started from; it is removed before a restart and written again only once every
#     route answered 200. The app restarts when the wanted release/unit differ from it
#     (or it is missing, or the app is not running), so a run killed after the unit
#     swap or the symlink switch restarts on the next run instead of smoke-testing the
#     old process;
#   * every route must then answer 200, else the last release and unit that passed
#     (APP_ROOT/state/good, with a copy of that unit) are put back and restarted, the
#     app's log tail is printed and the script fails.
#
# `set -e` (unlike install.sh): a failed step stops the script, and every state it can stop
# in is one the next run starts from: a release without .complete is rebuilt, never run;
# state/running is removed before a restart, so the next run restarts and smoke-tests; only
# a failed smoke test is undone here, explicitly, by roll_back.
# Constants are readonly; each function's header names the globals it changes.
set -euo pipefail

readonly ROUTES=(/ /api/apm /api/trace)
readonly KEEP_RELEASES=3
readonly UNIT_DIR="${UNIT_DIR:-/etc/systemd/system}"
readonly SMOKE_TIMEOUT="${SMOKE_TIMEOUT:-60}"

# log MESSAGE...: a progress line on stderr.
log() { echo "deploy.sh: $*" >&2; }
# die MESSAGE...: fail with MESSAGE.
die() { log "$*"; exit 1; }

: "${APP_NAME:?APP_NAME is required}" "${APP_ROOT:?APP_ROOT is required}"
[[ $APP_NAME =~ ^[a-z0-9][a-z0-9_-]*$ ]] || die "bad APP_NAME '$APP_NAME'"
# APP_ROOT is removed with rm -rf: it must be an absolute path named after the app.
[[ $APP_ROOT == /* && $(basename -- "$APP_ROOT") == "$APP_NAME" ]] \
    || die "APP_ROOT '$APP_ROOT' must be an absolute path ending in /$APP_NAME"
readonly UNIT="$APP_NAME.service"
readonly UNIT_PATH="$UNIT_DIR/$UNIT"
# Where packages and the system put units (systemd.unit(5), "System Unit Search Path"):
# a unit of ours in UNIT_DIR would override one of these.
read -r -a VENDOR_UNIT_DIRS <<<"${VENDOR_UNIT_DIRS:-/run/systemd/system /usr/local/lib/systemd/system /usr/lib/systemd/system /lib/systemd/system}"
readonly VENDOR_UNIT_DIRS
readonly OWNER_FILE="$APP_ROOT/.datadog-stack-owner"
readonly STATE="$APP_ROOT/state"  # running, good: "<release id> <unit sha256>"; units/<sha256>.service
readonly WHEELS="$APP_ROOT/wheels"  # <set id>/: one unpacked wheel set each, .complete when whole

# owner_line: the first line of a unit this stack created (app_service.owner_line).
owner_line() { printf '# Managed by Pulumi (stack %s): edits are overwritten on the next update.' "$APP_STACK"; }

# unit_is_ours: UNIT_PATH exists and its first line names this stack.
unit_is_ours() { [[ -f $UNIT_PATH && $(head -n 1 -- "$UNIT_PATH") == "$(owner_line)" ]]; }

# root_is_ours: APP_ROOT is a directory whose marker names this stack.
root_is_ours() {
    [[ -d $APP_ROOT && ! -L $APP_ROOT && -f $OWNER_FILE && $(cat "$OWNER_FILE") == "$APP_STACK" ]]
}

# root_is_legacy_ours: APP_ROOT predates the marker and the stack's unit runs from it.
root_is_legacy_ours() {
    [[ -d $APP_ROOT && ! -L $APP_ROOT && ! -e $OWNER_FILE ]] && unit_is_ours &&
        grep -qxF "WorkingDirectory=$APP_ROOT/current" "$UNIT_PATH"
}

# refuse_what_is_not_ours: before any change, stop at a unit or APP_ROOT this stack did not create.
refuse_what_is_not_ours() {
    local dir
    for dir in "${VENDOR_UNIT_DIRS[@]}"; do
        [[ ! -e $dir/$UNIT ]] ||
            die "$UNIT is already a unit of this host ($dir/$UNIT), not created by stack $APP_STACK: refusing to override it; choose another apmService"
    done
    [[ ! -e $UNIT_PATH && ! -L $UNIT_PATH ]] || unit_is_ours ||
        die "$UNIT_PATH exists and was not created by stack $APP_STACK: refusing to overwrite it; choose another apmService"
    [[ ! -e $APP_ROOT && ! -L $APP_ROOT ]] || root_is_ours || root_is_legacy_ours ||
        die "$APP_ROOT exists and was not created by stack $APP_STACK (no $OWNER_FILE naming it): refusing to use it; choose another apmService"
}

# claim_root: APP_ROOT exists with this stack's marker and this script (used by remove
# and smoke): a new APP_ROOT appears whole, by one rename; a legacy one gets its marker.
claim_root() {
    local new parent
    parent=$(dirname -- "$APP_ROOT")
    if [[ ! -e $APP_ROOT ]]; then
        mkdir -p -- "$parent"
        rm -rf -- "$parent/.$APP_NAME.new."*  # a claim killed before its rename
        new=$(mktemp -d "$parent/.$APP_NAME.new.XXXXXX")
        chmod 0755 "$new"
        printf '%s\n' "$APP_STACK" >"$new/.datadog-stack-owner"
        install -m 0755 "${BASH_SOURCE[0]}" "$new/deploy.sh"
        mv -T "$new" "$APP_ROOT"
        log "created $APP_ROOT for stack $APP_STACK"
        return
    fi
    if [[ ! -e $OWNER_FILE ]]; then
        write_atomically "$OWNER_FILE" "$APP_STACK"
        log "recorded $APP_ROOT as stack $APP_STACK's"
    fi
    install -m 0755 "${BASH_SOURCE[0]}" "$APP_ROOT/deploy.sh.new"
    mv -f "$APP_ROOT/deploy.sh.new" "$APP_ROOT/deploy.sh"
}

# app_log_tail [LINES]: the app's last journal lines on stderr.
app_log_tail() {
    log "last lines of the app's log (journalctl -u $UNIT):"
    journalctl -u "$UNIT" -n "${1:-40}" --no-pager >&2 2>/dev/null || true
}

# http_status URL: prints the HTTP status of GET URL, or the error's name.
http_status() {
    python3 -c 'import sys, urllib.error, urllib.request
try:
    print(urllib.request.urlopen(sys.argv[1], timeout=5).status)
except urllib.error.HTTPError as e:
    print(e.code)
except Exception as e:
    print(type(e).__name__)' "$1"
}

# smoke: GET every route until it answers 200 or SMOKE_TIMEOUT passes (then the log tail).
smoke() {
    : "${APP_PORT:?APP_PORT is required}" "${APP_HOST:?APP_HOST is required}"
    local deadline=$((SECONDS + SMOKE_TIMEOUT)) route status base
    base="http://$APP_HOST:$APP_PORT"
    if [[ $APP_HOST == *:* ]]; then  # IPv6
        base="http://[$APP_HOST]:$APP_PORT"
    fi
    for route in "${ROUTES[@]}"; do
        until status=$(http_status "$base$route"); [[ $status == 200 ]]; do
            if ((SECONDS >= deadline)); then
                log "GET $route on $base answered '$status', expected 200"
                app_log_tail 40
                return 1
            fi
            sleep 1
        done
        echo "GET $route -> 200"
    done
}

# need_python: python3 3.10-3.14 with its venv module. No ensurepip (Debian's python3-venv):
# the virtualenv is made --without-pip and pip runs from the wheel set's own pip wheel.
need_python() {
    command -v python3 >/dev/null || die "python3 is not installed"
    python3 -c 'import sys; sys.exit(not (3, 10) <= sys.version_info[:2] < (3, 15))' \
        || die "$(python3 -V) is not supported: gunicorn 27 and ddtrace 4.16 need Python 3.10-3.14"
    python3 -c 'import venv' 2>/dev/null || die "python3 has no venv module"
}

# release_id SRC: content address of a release: its code, its pins, its wheels, the interpreter.
release_id() {
    { cat "$1/app.py" "$1/requirements.txt" "$1/wheels.sha256"; python3 -VV; } | sha256sum | cut -c1-16
}

# manifest_lines DIR: DIR/wheels.sha256 without comments, sorted bytewise.
manifest_lines() { grep -v -e '^#' -e '^$' "$1/wheels.sha256" | LC_ALL=C sort; }

# wheel_set_id DIR: the set's content address (agent_files/wheels.py set_id).
wheel_set_id() { manifest_lines "$1" | sha256sum | cut -c1-64; }

# unpack_wheels SRC: APP_ROOT/wheels/<set id> holds every wheel SRC/wheels.sha256 lists, each
# checked against its sha256, and nothing else; taken from the tar at APP_WHEELS when absent.
# The tar is deleted once the set is in place. Sets WHEEL_DIR.
unpack_wheels() {
    local set new count
    set=$(wheel_set_id "$1")
    WHEEL_DIR="$WHEELS/$set"
    if [[ ! -f $WHEEL_DIR/.complete ]]; then
        [[ -n ${APP_WHEELS:-} && -f $APP_WHEELS ]] ||
            die "the app's wheel set ${set:0:16} is not on this host (no ${APP_WHEELS:-APP_WHEELS}, no $WHEEL_DIR): run the stack's up again to copy it"
        log "unpacking wheel set ${set:0:16}"
        mkdir -p -- "$WHEELS"
        rm -rf -- "$WHEELS/.new."*  # an unpack killed before its rename
        new=$(mktemp -d "$WHEELS/.new.XXXXXX")
        tar -xf "$APP_WHEELS" --no-same-owner -C "$new"
        count=$(manifest_lines "$1" | wc -l)
        if ! (cd "$new" && manifest_lines "$1" | sha256sum --quiet --strict -c - >&2) ||
            [[ $(find "$new" -mindepth 1 | wc -l) != "$count" ]]; then
            rm -rf -- "$new"
            die "$APP_WHEELS does not hold exactly the wheels of set ${set:0:16} (wheels.sha256): not installed"
        fi
        chmod 0755 "$new"
        touch "$new/.complete"
        rm -rf -- "$WHEEL_DIR"  # one without .complete
        mv -T "$new" "$WHEEL_DIR"
    fi
    if [[ -n ${APP_WHEELS:-} ]]; then rm -f -- "$APP_WHEELS"; fi
}

# prune_wheels: delete the wheel sets no release left in APP_ROOT/releases was built from.
prune_wheels() {
    local rel dir keep=" "
    for rel in "$APP_ROOT"/releases/*/; do
        if [[ -f $rel/wheels.sha256 ]]; then keep+="$(wheel_set_id "$rel") "; fi
    done
    for dir in "$WHEELS"/*/; do
        dir=${dir%/}
        [[ ! -d $dir || $keep == *" ${dir##*/} "* ]] || rm -rf -- "$dir"
    done
}

# build_release SRC ID: builds APP_ROOT/releases/ID once (marked .complete when whole),
# from the wheels in WHEEL_DIR only.
build_release() {
    local src=$1 rel="$APP_ROOT/releases/$2"
    if [[ -f $rel/.complete ]]; then
        log "release $2 already built"
        return
    fi
    log "building release $2"
    rm -rf -- "$rel"  # a build that failed half-way
    mkdir -p -- "$rel"
    install -m 0644 "$src/app.py" "$src/requirements.txt" "$src/wheels.sha256" "$rel/"
    local pip=("$WHEEL_DIR"/pip-*.whl)
    [[ ${#pip[@]} == 1 && -f ${pip[0]} ]] || die "the wheel set in $WHEEL_DIR has no pip wheel"
    python3 -m venv --without-pip "$rel/venv"
    # pip runs from its wheel (a zip on sys.path) and installs into the venv whose python runs it.
    "$rel/venv/bin/python" "${pip[0]}/pip" install --disable-pip-version-check --no-input -q \
        --no-index --find-links "$WHEEL_DIR" -r "$rel/requirements.txt" >&2
    # ddtrace leaves a file in $TMPDIR on import: a throwaway one, so the host keeps nothing.
    # The same interpreter writes what got installed (name==version, as `pip freeze`).
    local tmp
    tmp=$(mktemp -d)
    TMPDIR=$tmp "$rel/venv/bin/python" -c 'import ddtrace, flask, gunicorn
from importlib import metadata
print("\n".join(sorted({f"{d.name}=={d.version}" for d in metadata.distributions()},
                        key=str.lower)))' > "$rel/freeze.txt"
    rm -rf -- "$tmp"
    touch "$rel/.complete"
}

# point_current_at TARGET: atomic symlink switch: rename(2) over the old link.
point_current_at() {
    ln -sfn "$1" "$APP_ROOT/current.new"
    mv -Tf "$APP_ROOT/current.new" "$APP_ROOT/current"
}

# prune_releases: keep the current release and the KEEP_RELEASES newest.
prune_releases() {
    local cur old
    cur=$(readlink "$APP_ROOT/current")
    # newest first (names are hex ids)
    # shellcheck disable=SC2012
    ls -1t "$APP_ROOT/releases" | tail -n +$((KEEP_RELEASES + 1)) | while read -r old; do
        [[ releases/$old == "$cur" ]] || rm -rf -- "${APP_ROOT:?}/releases/$old"
    done
}

# write_atomically FILE TEXT: temp file + rename.
write_atomically() {
    printf '%s\n' "$2" > "$1.new"
    mv -f "$1.new" "$1"
}

# record_good WANT UNIT_FILE: this release and unit passed the smoke test (state/good, running).
record_good() {
    local sha=${1#* }
    mkdir -p -- "$STATE/units"
    if [[ ! -f $STATE/units/$sha.service ]]; then
        install -m 0644 "$2" "$STATE/units/$sha.service.new"
        mv -f "$STATE/units/$sha.service.new" "$STATE/units/$sha.service"
    fi
    write_atomically "$STATE/good" "$1"
    write_atomically "$STATE/running" "$1"
    find "$STATE/units" -type f ! -name "$sha.service" -delete
}

# put_unit FILE: install FILE as the unit, atomically, if it differs.
put_unit() {
    if ! cmp -s "$1" "$UNIT_PATH"; then
        install -m 0644 "$1" "$UNIT_PATH.new"
        mv -f "$UNIT_PATH.new" "$UNIT_PATH"
        systemctl daemon-reload
    fi
}

# roll_back GOOD WANT: restart the last release and unit that passed, if another one did.
roll_back() {
    local rel sha
    if [[ -z $1 || $1 == "$2" ]]; then
        log "no other release and unit passed the smoke test here: nothing to roll back to"
        return
    fi
    read -r rel sha <<<"$1"
    if [[ ! -f $APP_ROOT/releases/$rel/.complete || ! -f $STATE/units/$sha.service ]]; then
        log "the last good release $rel or its unit is gone: cannot roll back"
        return
    fi
    log "rolling back to release $rel and its unit"
    point_current_at "releases/$rel"
    put_unit "$STATE/units/$sha.service"
    # state/running stays absent: the next install restarts whatever runs then.
    systemctl restart "$UNIT" || true
}

# start_unless_running WANT: restart the app unless WANT already runs and is active.
start_unless_running() {
    if [[ $(cat "$STATE/running" 2>/dev/null) == "$1" ]] && systemctl is-active --quiet "$UNIT"; then
        log "$UNIT already runs release ${1% *} with this unit: not restarted"
        return
    fi
    log "(re)starting $UNIT on release ${1% *}"
    rm -f "$STATE/running"  # from here on, what runs is not known to be good
    systemctl daemon-reload  # a run killed after the unit swap may not have reloaded it
    systemctl restart "$UNIT" || { log "systemctl restart $UNIT failed"; return 1; }
}

# install_app BUNDLE_DIR: build, switch, (re)start, smoke-test, or roll back and fail.
install_app() {
    local src=${1:?usage: deploy.sh install BUNDLE_DIR} id want good f
    : "${APP_PORT:?APP_PORT is required}" "${APP_HOST:?APP_HOST is required}"
    : "${APP_STACK:?APP_STACK is required}"
    for f in app.py requirements.txt wheels.sha256 app.service; do
        [[ -f $src/$f ]] || die "bundle $src lacks $f"
    done
    [[ $(head -n 1 "$src/app.service") == "$(owner_line)" ]] ||
        die "bundle $src: app.service does not start with the line naming stack $APP_STACK"
    refuse_what_is_not_ours
    claim_root
    need_python
    mkdir -p -- "$APP_ROOT/releases" "$STATE"
    id=$(release_id "$src")
    unpack_wheels "$src"
    build_release "$src" "$id"
    want="$id $(sha256sum < "$src/app.service" | cut -c1-64)"
    good=$(cat "$STATE/good" 2>/dev/null || true)

    put_unit "$src/app.service"
    point_current_at "releases/$id"
    systemctl enable "$UNIT" 2>/dev/null

    if ! start_unless_running "$want" || ! smoke; then
        roll_back "$good" "$want"
        die "release $id failed its smoke test"
    fi
    record_good "$want" "$src/app.service"
    prune_releases
    prune_wheels
    echo "$APP_NAME release $id is running on $APP_HOST port $APP_PORT"
}

# remove_app: stop, disable and delete the unit and APP_ROOT, each only if this stack's;
# one line for each that is kept. Resumable: the marker and this script go last.
remove_app() {
    : "${APP_STACK:?APP_STACK is required}"
    if unit_is_ours; then
        systemctl disable --now "$UNIT" 2>/dev/null || true
        rm -f -- "$UNIT_PATH"
        systemctl daemon-reload || true
        systemctl reset-failed "$UNIT" 2>/dev/null || true
    elif [[ -e $UNIT_PATH || -L $UNIT_PATH ]]; then
        log "kept $UNIT_PATH: not created by stack $APP_STACK"
    fi
    if root_is_ours; then
        find "$APP_ROOT" -mindepth 1 -maxdepth 1 ! -name .datadog-stack-owner ! -name deploy.sh \
            -exec rm -rf -- {} +
        rm -f -- "$APP_ROOT/deploy.sh" "$OWNER_FILE"
        rmdir -- "$APP_ROOT"
    elif [[ -e $APP_ROOT || -L $APP_ROOT ]]; then
        log "kept $APP_ROOT: not created by stack $APP_STACK"
    fi
    echo "$APP_NAME removed"
}

case ${1:-} in
    install) shift; install_app "$@" ;;
    smoke) smoke ;;
    remove) remove_app ;;
    *) die "usage: deploy.sh install BUNDLE_DIR | smoke | remove" ;;
esac
