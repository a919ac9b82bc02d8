#!/usr/bin/env bash
# Azure's SDK for azure.azcollection (~60 packages, ~800 MB): its own venv, .venv-azure, so the
# main set-up stays small for everyone else. The modules run on the controller with this
# venv's python (ansible_python_interpreter); ansible itself stays in .venv.
# Hash-stamped like bootstrap.sh: a second run with unchanged requirements does nothing.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
uv=$root/.venv/bin/uv
venv=${MLBOX_AZURE_VENV:-$root/.venv-azure}
stamp=$venv/.requirements.sha256
# The stamp covers this script too: a change in how we install reinstalls.
want=$(cat requirements-azure.txt "$0" | sha256sum | cut -d' ' -f1)
if [[ -x $venv/bin/python && -f $stamp && $(cat "$stamp") == "$want" ]]; then
  exit 0
fi
if [[ ! -x $uv ]]; then
  echo "setup-azure: $uv is missing; run 'make setup' (or ./run setup) first" >&2
  exit 1
fi
if [[ ! -x $venv/bin/python ]]; then
  "$uv" venv -q --python "$root/.venv/bin/python" "$venv"
fi
echo "setup-azure: installing azure.azcollection's SDK into $venv (large, once)"
"$uv" pip install -q --python "$venv/bin/python" -r requirements-azure.txt
# Let this venv cache bytecode even under PYTHONDONTWRITEBYTECODE (set here and in many CI
# images): azure_rm_common imports ~40 SDK packages, ~16 s a run from source, ~6 s from
# .pyc. Each module is compiled once, on first import; compiling all of the SDK ahead
# would take minutes.
purelib=$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
cat >"$purelib/sitecustomize.py" <<'PY'
# Written by tests/setup/azure.sh: cache bytecode in this venv, whatever the environment says.
import sys

sys.dont_write_bytecode = False
PY
echo "$want" >"$stamp"
