#!/usr/bin/env bash
# Run the %post and %test sections of containers/spikeflow.def in a fresh Debian 12 root made
# with debootstrap: a check of the image recipe on machines without Apptainer (as root).
#
#   containers/check-recipe-in-chroot.sh [--models reduced|full] [ROOT]
#
# ROOT defaults to /var/tmp/spikeflow-chroot (reused if it already holds a Debian system).
# --models reduced swaps the recipe's full NEST model set for the reduced one (faster); the
# recipe's steps are otherwise run as written. Needs: apt-get install debootstrap.
set -euo pipefail
MODELS=full
if [ "${1:-}" = --models ]; then MODELS="$2"; shift 2; fi
ROOT="${1:-/var/tmp/spikeflow-chroot}"
HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(dirname "$HERE")"
DEF="$HERE/spikeflow.def"

section() {  # print the body of %NAME in the definition file
    awk -v want="%$1" '/^%[a-z]+/ {on = ($1 == want); next} on' "$DEF"
}

[ -x "$ROOT/bin/bash" ] || debootstrap --variant=minbase bookworm "$ROOT" http://deb.debian.org/debian
mkdir -p "$ROOT/opt/spikeflow-src"
git -C "$REPO" archive HEAD | tar -x -C "$ROOT/opt/spikeflow-src"
# the host's network settings: resolver, pip's index configuration and CA bundle (picked up by
# update-ca-certificates when the recipe installs ca-certificates)
cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
[ -f /etc/pip.conf ] && cp /etc/pip.conf "$ROOT/etc/pip.conf"
mkdir -p "$ROOT/usr/local/share/ca-certificates"
[ -f /etc/ssl/certs/ca-certificates.crt ] && cp /etc/ssl/certs/ca-certificates.crt "$ROOT/usr/local/share/ca-certificates/host-bundle.crt"
for fs in proc sys dev; do mountpoint -q "$ROOT/$fs" || mount --bind "/$fs" "$ROOT/$fs"; done
trap 'for fs in dev sys proc; do umount "$ROOT/$fs" 2>/dev/null || true; done' EXIT

post="$(section post)"
[ "$MODELS" = full ] || post="${post//--models full/--models $MODELS}"
echo "== %post (models: $MODELS)"
chroot "$ROOT" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root bash -c "$post"
echo "== %test"
env_lines="$(section environment)"
chroot "$ROOT" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root bash -c "$env_lines
$(section test)"
echo "== recipe OK"
