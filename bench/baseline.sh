#!/usr/bin/env bash
# The seeds' way, by hand: apt, a venv, pip, openssl, a config file, start.
source /root/bench-common.sh
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${APT_PACKAGES[@]}" >/dev/null
python3 -m venv "$VENV"
"$VENV/bin/pip" install -q --disable-pip-version-check "${PY_PACKAGES[@]}"
configure_and_start
