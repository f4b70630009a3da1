#!/usr/bin/env bash
# Build the offline base image: Debian bookworm (debootstrap minbase) with Debian's
# python3 and python3-venv, trusting this machine's CA bundle, imported with
# `docker import`. For machines that reach a Debian mirror but no image registry
# (air-gapped CI, a TLS-inspecting corporate proxy). Needs root, docker and a Debian
# mirror; installs debootstrap with apt-get when it is missing.
#
#   docker/base-offline.sh [TAG]          default TAG: fkp-grader-base:bookworm
#
# Environment: DEBIAN_MIRROR (default http://deb.debian.org/debian),
# HOST_CA_BUNDLE (default /etc/ssl/certs/ca-certificates.crt).
set -euo pipefail

TAG="${1:-fkp-grader-base:bookworm}"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
HOST_CA="${HOST_CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}"
PACKAGES="python3,python3-venv,ca-certificates"

die() { echo "base-offline: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "debootstrap needs root"
if ! command -v debootstrap >/dev/null; then
  command -v apt-get >/dev/null || die "debootstrap is missing and there is no apt-get to install it"
  echo "base-offline: installing debootstrap" >&2
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap; } >/dev/null ||
    die "apt-get install debootstrap failed"
fi
command -v docker >/dev/null || die "the docker client is missing"
[ -r "$HOST_CA" ] || die "no CA bundle at $HOST_CA (set HOST_CA_BUNDLE)"

# Not under /tmp: it may be mounted noexec, and debootstrap runs the chroot's binaries.
ROOTFS=$(mktemp -d /var/tmp/fkp-base-rootfs.XXXXXX)
cleanup() { rm -rf --one-file-system "$ROOTFS"; }
trap cleanup EXIT

echo "base-offline: debootstrap minbase bookworm from $MIRROR into $ROOTFS" >&2
debootstrap --variant=minbase --include="$PACKAGES" bookworm "$ROOTFS" "$MIRROR" \
  >"$ROOTFS.log" 2>&1 || { tail -n 20 "$ROOTFS.log" >&2; die "debootstrap failed (log: $ROOTFS.log)"; }
rm -f "$ROOTFS.log"

# Trust the CAs this machine trusts (a TLS-inspecting proxy's among them): each
# certificate of the host bundle that Debian's bundle lacks becomes a local CA file,
# then update-ca-certificates rebuilds the bundle the way Debian does.
python3 - "$HOST_CA" "$ROOTFS" <<'PY'
import re
import sys
from pathlib import Path

host_bundle, root = Path(sys.argv[1]), Path(sys.argv[2])
pem = re.compile(r"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.S)
known = set(pem.findall((root / "etc/ssl/certs/ca-certificates.crt").read_text()))
extra = [cert for cert in pem.findall(host_bundle.read_text()) if cert not in known]
local = root / "usr/local/share/ca-certificates/host"
local.mkdir(parents=True, exist_ok=True)
for number, cert in enumerate(extra):
    (local / f"host-ca-{number:03d}.crt").write_text(cert + "\n")
print(f"base-offline: {len(extra)} CA certificate(s) of the host added", file=sys.stderr)
PY
chroot "$ROOTFS" update-ca-certificates >/dev/null 2>&1 || die "update-ca-certificates failed in the rootfs"

# Lean: no package caches, lists, docs or man pages (apt-get update brings lists back).
chroot "$ROOTFS" apt-get clean
rm -rf "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/usr/share/doc/* "$ROOTFS"/usr/share/man/* \
  "$ROOTFS"/usr/share/info/* "$ROOTFS"/var/log/*.log "$ROOTFS"/var/cache/debconf/*-old

echo "base-offline: importing as $TAG" >&2
tar -C "$ROOTFS" --numeric-owner -c . | docker import \
  -c 'ENV LANG=C.UTF-8' \
  -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  -c 'ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt' \
  -c 'CMD ["/bin/bash"]' \
  -m "debootstrap --variant=minbase bookworm + $PACKAGES + host CAs" - "$TAG" >/dev/null
docker run --rm --network none "$TAG" python3 -c 'import ssl, sys, venv; print("base-offline: python", sys.version.split()[0])'
docker image ls "$TAG" --format 'base-offline: {{.Repository}}:{{.Tag}} {{.Size}}'
