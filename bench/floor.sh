#!/usr/bin/env bash
# The physical floor: the installers the roles use, as the roles use them, with no Ansible:
# one apt transaction (dpkg --force-unsafe-io) for what the Python side needs first, the rest
# in the background (niced, as the tools role does) while a venv (made without pip) gets uv
# from the OS's pip wheel and uv installs the packages and pip; then start.
source /root/bench-common.sh
UNSAFE=(-o Dpkg::Options::=--force-unsafe-io)
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${UNSAFE[@]}" "${APT_FIRST[@]}" >/dev/null
nice -n 10 apt-get install -y -qq --no-install-recommends "${UNSAFE[@]}" "${APT_PACKAGES[@]}" >/dev/null &
apt_job=$!
python3 -m venv --without-pip "$VENV"
pip_wheels=(/usr/share/python-wheels/pip-*.whl)
"$VENV/bin/python" "${pip_wheels[0]}/pip" install -q --disable-pip-version-check 'uv>=0.11'
UV_SYSTEM_CERTS=1 "$VENV/bin/uv" pip install -q --python "$VENV/bin/python" pip "${PY_PACKAGES[@]}"
configure_and_start
wait "$apt_job"
