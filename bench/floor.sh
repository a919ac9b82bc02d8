#!/usr/bin/env bash
# The physical floor: only the installers the roles use (one apt transaction, uv), no Ansible.
source /root/bench-common.sh
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${APT_PACKAGES[@]}" >/dev/null
python3 -m venv "$VENV"
"$VENV/bin/pip" install -q --disable-pip-version-check 'uv>=0.11'
UV_SYSTEM_CERTS=1 UV_NATIVE_TLS=1 "$VENV/bin/uv" pip install -q --python "$VENV/bin/python" "${PY_PACKAGES[@]}"
configure_and_start
