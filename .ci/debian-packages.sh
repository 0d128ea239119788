#!/usr/bin/env bash
# `make deps`, step 1: the Debian packages the test tiers need, installed where missing
# (as root, or through sudo). The venvs and node_modules are the Makefile's own targets.
#   postgresql, mariadb-server/-client: the agent and remote tiers' throwaway databases
#   ShellCheck: the unit tier's check of every shell script
#   openssh-server/-client, sudo, iproute2, socat: the SSH test hosts (remote, e2e)
#   make, nodejs/npm, golang-go, python3-venv: the toolchains, where a machine lacks one
set -euo pipefail

need=()
for pkg in postgresql mariadb-server mariadb-client shellcheck openssh-server openssh-client \
  sudo iproute2 socat; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
command -v make >/dev/null || need+=(make)
command -v npm >/dev/null || need+=(nodejs npm)
command -v go >/dev/null || need+=(golang-go)
python3 -c 'import venv, ensurepip' 2>/dev/null || need+=(python3-venv)
if [ ${#need[@]} -eq 0 ]; then
  echo "Debian packages: all present"
  exit 0
fi

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

echo "Debian packages: installing ${need[*]}"
as_root apt-get update -qq
# The packages' own services are not started (the tests run throwaway instances): a
# policy-rc.d of our own, removed after, and only if there was none before.
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
  as_root sh -c "printf '#!/bin/sh\nexit 101\n' > $policy && chmod +x $policy"
  trap 'as_root rm -f "$policy"' EXIT
fi
as_root env DEBIAN_FRONTEND=noninteractive \
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
