# shellcheck shell=bash disable=SC2034 # sourced: baseline.sh and floor.sh use the arrays
# Shared by baseline.sh and floor.sh: the same packages the roles install, the same
# Jupyter configuration (HTTPS, password hash, no token), started the same way.
# Runs inside a fresh container as root; WB_PASSWORD and WB_PORT come from the environment.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
# This machine's TLS-inspecting proxy: pip and uv must use the system CA bundle.
export PIP_CERT=/etc/ssl/certs/ca-certificates.crt SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
APT_PACKAGES=(git tmux htop curl wget unzip zip rsync less vim-tiny jq build-essential
  python3-venv ca-certificates openssl openssh-client sudo acl locales)
# What playbooks/configure.yml installs first (tools_packages_first), the rest overlapping.
APT_FIRST=(sudo python3-venv openssl)
# What the libs and jupyter roles install on a host without a GPU (xgboost-cpu there too).
# rfc3987 as the jupyter role adds it (it spares the server ~3 s of imports at each start).
PY_PACKAGES=(numpy pandas scipy scikit-learn matplotlib xgboost-cpu 'notebook>=7'
  'jupyterlab>=4' 'jupyter_server>=2' rfc3987)
VENV=/opt/venv

configure_and_start() {
  id ml >/dev/null 2>&1 || useradd -m -s /bin/bash ml
  mkdir -p /etc/jupyter /srv/ml
  openssl req -x509 -newkey rsa:2048 -nodes -days 825 -subj /CN=localhost \
    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
    -keyout /etc/jupyter/key.pem -out /etc/jupyter/cert.pem 2>/dev/null
  hash=$("$VENV/bin/python" -c 'import os; from jupyter_server.auth import passwd; print(passwd(os.environ["WB_PASSWORD"]))')
  cat >/etc/jupyter/jupyter_server_config.py <<CONF
c.ServerApp.ip = "0.0.0.0"
c.ServerApp.port = ${WB_PORT}
c.ServerApp.certfile = "/etc/jupyter/cert.pem"
c.ServerApp.keyfile = "/etc/jupyter/key.pem"
c.ServerApp.root_dir = "/srv/ml"
c.ServerApp.open_browser = False
c.IdentityProvider.token = ""
c.PasswordIdentityProvider.hashed_password = "${hash}"
CONF
  chmod 0600 /etc/jupyter/*; chown -R ml /etc/jupyter /srv/ml
  su ml -c "cd /srv/ml && nohup $VENV/bin/jupyter lab --config=/etc/jupyter/jupyter_server_config.py >/tmp/jupyter.log 2>&1 &"
}
