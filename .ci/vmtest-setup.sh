#!/usr/bin/env bash
# vmtest-setup.sh prepares the emulated arm64 test rig of internal/vmtest:
#   - qemu-system-aarch64 (Debian package qemu-system-arm), mosquitto (host-side MQTT broker for tests),
#     kmod (depmod, to write modules.dep, which Debian's kernel package does not ship);
#   - Debian's arm64 kernel package, downloaded with apt-get (dpkg architecture arm64 added) and unpacked to
#     $EDGEINFER_CACHE/vmtest/<package>/{vmlinuz,lib/modules/<version>/}, with
#     $EDGEINFER_CACHE/vmtest/current pointing at it (the default kernel dir of internal/vmtest).
# Idempotent: a second run installs and downloads nothing. Prints the kernel dir on its last line, for
#   export EDGEINFER_VMTEST_KERNEL_DIR="$(bash .ci/vmtest-setup.sh | tail -n1)"
# Environment:
#   EDGEINFER_CACHE              cache root (default $HOME/.cache/edgeinfer)
#   EDGEINFER_VMTEST_KERNEL_PKG  kernel package (default below). Debian's security archive keeps only the
#                                newest build of each ABI; when the pinned one is gone, the newest
#                                linux-image-6.1.0-N-arm64 is taken instead, with a warning.
set -euo pipefail

pkg="${EDGEINFER_VMTEST_KERNEL_PKG:-linux-image-6.1.0-56-arm64}"
cache="${EDGEINFER_CACHE:-${HOME:-/root}/.cache/edgeinfer}/vmtest"
log() { echo "vmtest-setup: $*" >&2; }

updated=0
apt_update() {
	if [ "$updated" = 0 ]; then
		log "apt-get update"
		apt-get update -qq >&2
		updated=1
	fi
}

# Host tools.
missing=()
command -v qemu-system-aarch64 >/dev/null || missing+=(qemu-system-arm)
command -v mosquitto >/dev/null || [ -x /usr/sbin/mosquitto ] || missing+=(mosquitto)
command -v depmod >/dev/null || [ -x /usr/sbin/depmod ] || [ -x /sbin/depmod ] || missing+=(kmod)
if [ "${#missing[@]}" -gt 0 ]; then
	apt_update
	log "installing ${missing[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi
# mosquitto's package starts a system broker on port 1883; the tests start their own on free ports, so
# this one is left as the package set it up.

# Kernel.
mkdir -p "$cache"
dir="$cache/$pkg"
if [ ! -f "$dir/.complete" ]; then
	if ! dpkg --print-foreign-architectures | grep -qx arm64; then
		log "dpkg --add-architecture arm64"
		dpkg --add-architecture arm64
		updated=0
	fi
	apt_update
	if ! apt-cache show "$pkg:arm64" >/dev/null 2>&1; then
		newest="$(apt-cache search --names-only '^linux-image-6\.1\.0-[0-9]+-arm64$' | awk '{print $1}' | sort -V | tail -n1)"
		if [ -z "$newest" ]; then
			log "error: $pkg:arm64 is not in the apt index, and no linux-image-6.1.0-N-arm64 is"
			exit 1
		fi
		log "warning: $pkg:arm64 is no longer in the apt index; using $newest (update the pin in .ci/vmtest-setup.sh)"
		pkg="$newest"
		dir="$cache/$pkg"
	fi
fi
if [ ! -f "$dir/.complete" ]; then
	work="$(mktemp -d "$cache/.tmp.XXXXXX")"
	dl="$(mktemp -d)"
	trap 'rm -rf "$work" "$dl"' EXIT
	# apt-get download drops privileges to _apt, which must be able to write there.
	if id _apt >/dev/null 2>&1; then chown _apt "$dl"; fi
	log "apt-get download $pkg:arm64"
	(cd "$dl" && apt-get download -q "$pkg:arm64" >&2)
	deb="$(ls "$dl"/*.deb)"
	mkdir "$work/x" "$work/out"
	dpkg-deb -x "$deb" "$work/x"
	vmlinuz="$(ls "$work"/x/boot/vmlinuz-* | head -n1)"
	kver="${vmlinuz##*/vmlinuz-}"
	mods="$work/x/lib/modules/$kver"
	[ -d "$mods" ] || mods="$work/x/usr/lib/modules/$kver"
	[ -d "$mods" ] || { log "error: no modules for $kver in $deb"; exit 1; }
	mv "$vmlinuz" "$work/out/vmlinuz"
	cp "$work"/x/boot/config-"$kver" "$work/out/config" 2>/dev/null || true
	mkdir -p "$work/out/lib/modules"
	mv "$mods" "$work/out/lib/modules/$kver"
	PATH="$PATH:/usr/sbin:/sbin" depmod -b "$work/out" "$kver"
	echo "$pkg $(dpkg-deb -f "$deb" Version) $kver" >"$work/out/.complete"
	rm -rf "$dir"
	mv "$work/out" "$dir"
	log "kernel $kver unpacked to $dir"
fi
ln -sfn "$(basename "$dir")" "$cache/current"
echo "$cache/current"
