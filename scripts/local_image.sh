#!/usr/bin/env bash
# Build the local "cloud image" that cloud=local instances and the tests run: Debian with
# systemd, sshd and python3, like a fresh cloud VM. No registry is needed: the root
# filesystem comes from debootstrap and is imported into podman. Built only when missing.
#
#   scripts/local_image.sh [IMAGE]      (default localhost/mlbox-debian:SUITE)
#   MLBOX_DEBIAN_SUITE picks the release: bullseye (Debian 11, Python 3.9), bookworm (12,
#   Python 3.11, the default everything uses) or trixie (13, Python 3.13); each suite is its
#   own cached image. MLBOX_IMAGE_REBUILD=1 forces a rebuild; MLBOX_DEBIAN_MIRROR picks the
#   mirror.
set -euo pipefail

suite=${MLBOX_DEBIAN_SUITE:-bookworm}
case $suite in
  bullseye | bookworm | trixie) ;;
  *) echo "error: MLBOX_DEBIAN_SUITE=$suite: give bullseye, bookworm or trixie" >&2; exit 2 ;;
esac
image=${1:-${MLBOX_IMAGE:-localhost/mlbox-debian:$suite}}
mirror=${MLBOX_DEBIAN_MIRROR:-http://deb.debian.org/debian}
cache=${XDG_CACHE_HOME:-$HOME/.cache}/mlbox
packages=python3,python3-apt,python3-venv,ca-certificates,sudo,systemd,systemd-sysv,dbus,iproute2,openssh-server,udev,e2fsprogs,util-linux

# The image carries the hash of this script: an image built by an older recipe is rebuilt.
recipe=$(sha256sum "${BASH_SOURCE[0]}" | cut -c1-16)
if [[ -z ${MLBOX_IMAGE_REBUILD:-} ]] && podman image exists "$image" &&
  [[ $(podman image inspect --format '{{ index .Labels "mlbox.recipe" }}' "$image") == "$recipe" ]]; then
  echo "image $image: present"
  exit 0
fi
old=$(podman image inspect --format '{{ .Id }}' "$image" 2>/dev/null || true)
for tool in podman debootstrap; do
  command -v "$tool" >/dev/null || { echo "error: $tool is missing: apt-get install podman runc debootstrap" >&2; exit 2; }
done
[[ $(id -u) == 0 ]] || { echo "error: debootstrap needs root: run this script as root (sudo)" >&2; exit 2; }

mkdir -p "$cache"
rootfs=$(mktemp -d "$cache/rootfs.XXXXXX")
trap 'rm -rf "$rootfs"' EXIT
log=$cache/debootstrap-$suite.log
echo "image $image: building Debian $suite with debootstrap from $mirror (about a minute)"
debootstrap --variant=minbase --include="$packages" "$suite" "$rootfs" "$mirror" >"$log" 2>&1 \
  || { tail -20 "$log" >&2; exit 1; }

# A cloud VM trusts what its provider's network trusts; the local one trusts what this host
# trusts, so package installs inside it work behind the same TLS-inspecting proxies.
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
  cp /usr/local/share/ca-certificates/*.crt "$rootfs/usr/local/share/ca-certificates/"
  chroot "$rootfs" update-ca-certificates >/dev/null
fi
# Like a cloud image: apt lists stripped, no machine id baked in, sshd host keys made at boot.
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin
: >"$rootfs/etc/machine-id"
rm -f "$rootfs"/etc/ssh/ssh_host_*
cat >"$rootfs/etc/systemd/system/ssh-keygen.service" <<'UNIT'
[Unit]
Description=Generate SSH host keys on first boot
Before=ssh.service
ConditionPathExists=!/etc/ssh/ssh_host_ed25519_key

[Service]
Type=oneshot
ExecStart=/usr/bin/ssh-keygen -q -t ed25519 -N "" -f /etc/ssh/ssh_host_ed25519_key

[Install]
WantedBy=multi-user.target
UNIT
chroot "$rootfs" systemctl enable ssh-keygen.service ssh.service >/dev/null 2>&1
# One host key, ed25519 (what the workbench pins): ssh-keygen -A would also make an RSA key,
# about a second of every first boot on this machine, for a key nobody checks.
echo "HostKey /etc/ssh/ssh_host_ed25519_key" >"$rootfs/etc/ssh/sshd_config.d/mlbox-host-key.conf"
# Units that cannot work inside a container only slow the boot down.
for unit in systemd-udevd.service systemd-udev-trigger.service getty@tty1.service \
  systemd-timesyncd.service apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer fstrim.timer \
  e2scrub_reap.service; do
  chroot "$rootfs" systemctl mask "$unit" >/dev/null 2>&1 || true
done

tar -C "$rootfs" -c . | podman import --change 'CMD ["/lib/systemd/systemd"]' \
  --change 'STOPSIGNAL SIGRTMIN+3' --change "LABEL mlbox.recipe=$recipe" \
  --change "LABEL mlbox.suite=$suite" - "$image" >/dev/null
# The image of the older recipe goes unless a container still runs from it.
if [[ -n $old ]]; then podman rmi "$old" >/dev/null 2>&1 || true; fi
echo "image $image: built"
