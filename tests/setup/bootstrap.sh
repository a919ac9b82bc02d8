#!/usr/bin/env bash
# Everything the tests and the local demo need, on a fresh Debian/Ubuntu machine as root.
# Idempotent and cached: each step is skipped when its result is already there.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD

apt_packages=(podman runc debootstrap uidmap slirp4netns fuse-overlayfs python3-venv
  openssh-client make git chromium fonts-liberation e2fsprogs util-linux zstd tar)
missing=()
for p in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: apt-get install ${missing[*]}"
  sudo_cmd=""; [[ $(id -u) == 0 ]] || sudo_cmd=sudo
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Python environment: uv into a venv, requirements hashed into a stamp so edits reinstall.
venv=$root/.venv
stamp=$venv/.requirements.sha256
# requirements-azure.txt is the optional .venv-azure's (tests/setup/azure.sh), not this venv's.
requirements=()
for file in requirements*.txt; do [[ $file == requirements-azure.txt ]] || requirements+=("$file"); done
want=$(cat "${requirements[@]}" | sha256sum | cut -d' ' -f1)
if [[ ! -x $venv/bin/python ]]; then
  python3 -m venv "$venv"
fi
if [[ ! -f $stamp || $(cat "$stamp") != "$want" ]]; then
  echo "setup: installing Python requirements into .venv"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check 'uv>=0.4'
  "$venv/bin/uv" pip install -q --python "$venv/bin/python" -r requirements-test.txt
  # Bytecode once (where PYTHONDONTWRITEBYTECODE is set, nothing is ever cached and every
  # ansible-playbook and module start compiles ansible-core, boto3 ... again). The
  # collections are loaded by Ansible's own importer from source, so they are left out.
  "$venv/bin/python" -m compileall -q -j 0 -x '/ansible_collections/' \
    "$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_path("purelib"))')" >/dev/null 2>&1 || true
  echo "$want" >"$stamp"
fi

# The repo root is the collection: make it importable as mlbox.workbench.
link=$root/.ansible/collections/ansible_collections/mlbox/workbench
if [[ ! -L $link ]]; then
  mkdir -p "$(dirname "$link")"
  ln -sfn ../../../.. "$link"
fi

scripts/local_image.sh

# Per-provider set-up that comes with the main install (e.g. collections not on Galaxy here).
for hook in tests/setup/bootstrap.d/*.sh; do
  if [[ -e $hook ]]; then bash "$hook"; fi
done
