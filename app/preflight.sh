#!/bin/sh
# preflight.sh UNIT APP_ROOT PYTHON GLIBC ARCH COMMAND...: can this host take the app? Root
# (COMMAND, the stack's one way to become root, e.g. `sudo -n true`, must succeed), the
# platform the app's wheels are built for (python3 is CPython PYTHON, e.g. 3.11, on Linux
# ARCH with glibc GLIBC or later: agent_files/wheels.py TARGET) and systemd. Runs as the SSH
# user, so that a missing sudo is reported in words (components/apm_service.py sends this
# file's text as `sh -c`'s script). Nothing on the host changes before it passed.
set -eu
unit=$1
app_root=$2
python=$3
glibc=$4
arch=$5
shift 5
"$@" || { echo "the SSH user needs root or passwordless sudo" >&2; exit 1; }
command -v python3 >/dev/null || { echo "python3 is not installed (the app needs CPython $python)" >&2; exit 1; }
python3 - "$python" "$glibc" "$arch" <<'PY' || exit 1
import platform, sys
python, glibc, arch = sys.argv[1:]
libc, version = platform.libc_ver()
have = ("%s %d.%d" % (platform.python_implementation(), *sys.version_info[:2]),
        version if libc == "glibc" else libc or "no glibc", platform.machine())
def release(text):
    return tuple(int(part) for part in text.split(".")[:2]) if text[:1].isdigit() else (0,)
if have[0] != "CPython " + python or have[2] != arch or release(have[1]) < release(glibc):
    sys.exit("this host runs %s on %s with glibc %s; the app's wheels are for CPython %s on "
             "Linux %s with glibc >= %s (agent_files/wheels.py TARGET): use a matching image "
             "or change TARGET and run `make app-wheels-lock`" % (have[0], have[2], have[1],
                                                                python, arch, glibc))
PY
[ -d /run/systemd/system ] || { echo "systemd is not running here" >&2; exit 1; }
echo "host ready for $unit in $app_root"
