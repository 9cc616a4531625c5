#!/usr/bin/env bash
# Makes a local libvirtd answer on qemu:///system, for the libvirt driver and its integration tests.
# Idempotent: installs libvirt-daemon-system, qemu-system-x86 and libvirt-clients only when virsh, libvirtd or
# qemu-system-x86_64 is missing (apt-get update only when a plain install fails), starts virtlogd and libvirtd
# only when they are not running, then waits until `virsh -c qemu:///system version` answers (about 12 s).
# Exits non-zero with the reason when libvirt does not answer in time. CI calls it before the tests.
set -euo pipefail

URI="${LIBVIRT_URI:-qemu:///system}"
WAIT_SECONDS="${LIBVIRT_WAIT_SECONDS:-60}"

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
say() { echo "ensure-libvirt: $*"; }

# Debian puts libvirtd and virtlogd in /usr/sbin, which a non-login PATH may lack.
export PATH="$PATH:/usr/sbin:/sbin"

missing=0
for tool in virsh libvirtd virtlogd qemu-system-x86_64; do
  command -v "$tool" >/dev/null 2>&1 || missing=1
done
if [ "$missing" -eq 1 ]; then
  packages=(libvirt-daemon-system qemu-system-x86 libvirt-clients)
  say "installing ${packages[*]}"
  install() {
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${packages[@]}" \
      >/tmp/ensure-libvirt-apt.log 2>&1
  }
  if ! install; then
    say "install failed; apt-get update, then again"
    as_root apt-get update -q >/dev/null
    if ! install; then
      tail -n 20 /tmp/ensure-libvirt-apt.log >&2
      exit 1
    fi
  fi
fi

# /dev/kvm without udev (containers, microVMs) is root:root 0600, where Debian's udev rule would make it group kvm.
# libvirt then probes QEMU as root (KVM works) but checks /dev/kvm as libvirt-qemu (it does not), decides "KVM
# was enabled when probing, but it is not available now" and re-probes QEMU on EVERY capabilities lookup: 4 s
# for `virsh version`, 4-35 s for each define/start/revert. Giving /dev/kvm to group kvm (libvirt-qemu is in it)
# applies the rule udev did not run. Only when the node is still root:root; SNAPDECK_KEEP_DEV_KVM=1 skips it.
if [ -c /dev/kvm ] && [ "${SNAPDECK_KEEP_DEV_KVM:-0}" != 1 ] && getent group kvm >/dev/null &&
  [ "$(stat -c %G /dev/kvm)" = root ]; then
  say "giving /dev/kvm to group kvm, mode 0660 (Debian's udev rule, absent here)"
  as_root chgrp kvm /dev/kvm
  as_root chmod 0660 /dev/kvm
fi

# Debian's packages expect systemd; without it (containers, CI) the daemons are started by hand.
if ! pgrep -x virtlogd >/dev/null 2>&1; then
  say "starting virtlogd"
  as_root virtlogd -d
fi
if ! pgrep -x libvirtd >/dev/null 2>&1; then
  say "starting libvirtd"
  as_root libvirtd -d
fi

for _ in $(seq 1 "$WAIT_SECONDS"); do
  if version=$(virsh -c "$URI" version 2>/dev/null); then
    say "$URI answers ($(echo "$version" | grep -m1 'hypervisor' | sed 's/^ *//'))"
    exit 0
  fi
  sleep 1
done
say "virsh -c $URI did not answer within ${WAIT_SECONDS} s" >&2
virsh -c "$URI" version >&2 || true
exit 1
