#!/usr/bin/env bash
# Builds the dstar OCI image from the repository and Debian packages only (no registry image is pulled):
#   1. localhost/dstar-base:bookworm — `debootstrap --variant=minbase bookworm` plus the libraries .NET needs
#      (libssl3 for TLS, libicu72 for globalization, ca-certificates), with apt's caches, docs and man pages removed,
#      imported from a tar with sorted names and fixed times. Built once and reused (--rebuild-base to redo it).
#   2. `dotnet publish src/Dstar.Cli -c Release -r linux-x64 --self-contained` (the build patches TorchSharp's shim for
#      Debian 12's libstdc++, see build/TorchSharpDebian12.targets). Debian 12 packages no .NET runtime, so the
#      executable carries its own.
#   3. deploy/image/Containerfile on top of the base: non-root user 10001, /runs, `dstar` as entrypoint.
#   4. A smoke test: `dstar --help` inside the image (--demo: the whole `dstar demo`, ~1 min more).
#
# Usage: deploy/image/build.sh [--tag NAME] [--rebuild-base] [--demo]
# Environment: DSTAR_DEBIAN_MIRROR (default: the first deb.debian.org-style URI of this machine's apt sources, else
# http://deb.debian.org/debian; a snapshot.debian.org URL pins the packages), DSTAR_IMAGE_WORK (scratch directory,
# default /var/tmp/dstar-image). Needs root (debootstrap), podman (with runc on machines where crun fails), and the
# .NET 10 SDK.
set -euo pipefail
cd "$(dirname "$0")/../.."

tag=localhost/dstar:latest
base=localhost/dstar-base:bookworm
rebuild_base=0
demo=0
while [ $# -gt 0 ]; do
  case "$1" in
    --tag) tag="$2"; shift 2 ;;
    --rebuild-base) rebuild_base=1; shift ;;
    --demo) demo=1; shift ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "build.sh: unknown argument '$1' (expected --tag NAME, --rebuild-base, --demo)" >&2; exit 2 ;;
  esac
done

for tool in podman dotnet; do
  command -v "$tool" >/dev/null || { echo "build.sh: '$tool' is not installed (apt-get install podman runc; the .NET 10 SDK for dotnet)" >&2; exit 2; }
done

work="${DSTAR_IMAGE_WORK:-/var/tmp/dstar-image}"
mkdir -p "$work"
seconds() { date +%s; }
started=$(seconds)

if [ "$rebuild_base" = 1 ] || ! podman image exists "$base"; then
  [ "$(id -u)" = 0 ] || { echo "build.sh: building the base root file system needs root (debootstrap)" >&2; exit 2; }
  command -v debootstrap >/dev/null || { echo "build.sh: 'debootstrap' is not installed (apt-get install debootstrap)" >&2; exit 2; }
  mirror="${DSTAR_DEBIAN_MIRROR:-}"
  if [ -z "$mirror" ]; then
    mirror=$(grep -hoE '(URIs:|deb) +https?://[^ ]+/debian/?( |$)' /etc/apt/sources.list /etc/apt/sources.list.d/* 2>/dev/null \
      | head -n1 | awk '{print $2}' || true)
    mirror="${mirror:-http://deb.debian.org/debian}"
  fi
  rootfs="$work/rootfs"
  rm -rf "$rootfs"
  echo "== base: debootstrap --variant=minbase bookworm from $mirror"
  debootstrap --variant=minbase --include=libssl3,libicu72,ca-certificates bookworm "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 \
    || { tail -20 "$work/debootstrap.log" >&2; echo "build.sh: debootstrap failed (log: $work/debootstrap.log)" >&2; exit 1; }
  # What a container never needs: package caches and lists, documentation, and the host-specific files debootstrap
  # copies in (the container runtime provides resolv.conf and hostname).
  rm -rf "$rootfs"/var/cache/apt/* "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/log/* "$rootfs"/usr/share/doc/* \
    "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* "$rootfs"/usr/share/locale/* "$rootfs"/tmp/* "$rootfs"/var/tmp/*
  : >"$rootfs/etc/resolv.conf"; : >"$rootfs/etc/hostname"
  epoch="${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct)}"
  tar --sort=name --mtime="@$epoch" --numeric-owner --xattrs -C "$rootfs" -cf "$work/rootfs.tar" .
  podman import --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' --change 'CMD ["/bin/bash"]' \
    "$work/rootfs.tar" "$base" >/dev/null 2>&1 || { echo "build.sh: podman import of the root file system failed" >&2; exit 1; }
  rm -rf "$rootfs" "$work/rootfs.tar"
  echo "== base: $base built in $(( $(seconds) - started )) s"
fi

echo "== publish: dotnet publish src/Dstar.Cli (self-contained, linux-x64)"
context="$work/context"
rm -rf "$context"
mkdir -p "$context"
dotnet publish src/Dstar.Cli -c Release -r linux-x64 --self-contained true -o "$context/app" -nologo -v quiet \
  -p:DebugType=None -p:DebugSymbols=false >"$work/publish.log" 2>&1 \
  || { tail -30 "$work/publish.log" >&2; echo "build.sh: dotnet publish failed (log: $work/publish.log)" >&2; exit 1; }

echo "== image: $tag"
podman build --pull=never -f deploy/image/Containerfile -t "$tag" "$context" >"$work/build.log" 2>&1 \
  || { tail -30 "$work/build.log" >&2; echo "build.sh: podman build failed (log: $work/build.log)" >&2; exit 1; }
rm -rf "$context"

podman run --rm "$tag" --help >/dev/null || { echo "build.sh: the image does not start: podman run --rm $tag --help failed" >&2; exit 1; }
if [ "$demo" = 1 ]; then
  echo "== smoke: dstar demo inside the image"
  podman run --rm "$tag" demo
fi
size=$(podman image inspect "$tag" --format '{{.Size}}')
echo "== done: $tag, $(( size / 1000000 )) MB, built in $(( $(seconds) - started )) s"
