#!/bin/sh
# receive_bundle.sh BUNDLES_DIR BUNDLE_DIR: the Agent bundle's copy step, run as root.
# components/agent_host.py sends this file's text as `sh -c`'s script and the bundle (a
# base64 uncompressed tar, secret) as the SSH session's stdin.
#
# Unpacks the tar into BUNDLES_DIR/<its sha256>, points the BUNDLE_DIR symlink at it with
# one rename (at every instant BUNDLE_DIR is a complete bundle, the previous or the new
# one), then deletes the other versions. BUNDLE_DIR sits beside BUNDLES_DIR: the link's
# target is relative, <last part of BUNDLES_DIR>/<sha256>.
set -eu
umask 077
bundles=$1
link=$2
for path in "$bundles" "$link"; do
    case $path in
        /*) ;;
        *) echo "receive_bundle.sh: '$path' is not an absolute path" >&2; exit 2 ;;
    esac
done
versions=${bundles##*/}

mkdir -p "$bundles"
cd "$bundles"
# What a copy killed mid-unpack or mid-prune left behind.
rm -rf .incoming.* .trash.*
new=$(mktemp -d .incoming.XXXXXX)
base64 -d >"$new.tar"
sum=$(sha256sum "$new.tar" | cut -d " " -f 1)
tar -xf "$new.tar" --no-same-owner -C "$new"
rm -f "$new.tar"
# The same version again is kept, unless install.sh consumed it (deleted its files after a
# verified install): then the fresh copy replaces it.
if [ -d "$sum" ] && [ ! -e "$sum/consumed" ]; then
    rm -rf "$new"
else
    if [ -d "$sum" ]; then mv -T "$sum" ".trash.$sum"; fi
    mv -T "$new" "$sum"
fi
rm -rf "$link.new"
ln -sfn "$versions/$sum" "$link.new"
# A bundle directory left by an earlier version of this command moves aside (once).
if [ -d "$link" ] && [ ! -L "$link" ]; then mv -T "$link" .trash.legacy; fi
mv -T "$link.new" "$link"
for old in *; do
    if [ "$old" != "$sum" ]; then mv -T "$old" ".trash.$old"; fi
done
rm -rf .trash.*
