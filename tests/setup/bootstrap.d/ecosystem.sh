#!/usr/bin/env bash
# What tests/ecosystem.sh needs, so that `make ecosystem` runs the ecosystem's checkers offline:
# - shellcheck (Debian) for ansible-test sanity's shellcheck test;
# - .venv-lint: galaxy-importer, antsibull-docs, antsibull-changelog (their pins, attrs and
#   flake8 among them, must not move the main .venv), with the main venv's ansible-core and
#   ansible-lint versions, so that both judge the collection alike;
# - ansible-test's own per-test venvs under ~/.ansible/test/venv (pylint, validate-modules,
#   yamllint ... at the versions this ansible-test pins; one per Python found for the import
#   test), primed here, where PyPI is reachable; tests/setup/ansible_test_get_pip.py stands in
#   for the get-pip.py that ansible-test would download from elsewhere.
# Hash-stamped like bootstrap.sh: a second run with nothing changed does nothing.
set -euo pipefail
cd "$(dirname "$0")/../../.."
root=$PWD
uv=$root/.venv/bin/uv
python=$root/.venv/bin/python

if ! command -v shellcheck >/dev/null; then
  echo "setup: apt-get install shellcheck"
  sudo_cmd=""; [[ $(id -u) == 0 ]] || sudo_cmd=sudo
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends shellcheck >/dev/null
fi

versions=$("$python" - <<'PY'
import importlib.metadata as md
print(f"ansible-core=={md.version('ansible-core')} ansible-lint=={md.version('ansible-lint')}")
PY
)

lint_venv=$root/.venv-lint
stamp=$lint_venv/.requirements.sha256
want=$( (cat tests/setup/requirements-ecosystem.txt "$0"; echo "$versions") | sha256sum | cut -d' ' -f1)
if [[ ! -x $lint_venv/bin/python || ! -f $stamp || $(cat "$stamp") != "$want" ]]; then
  echo "setup: installing galaxy-importer, antsibull-docs and antsibull-changelog into .venv-lint"
  [[ -x $lint_venv/bin/python ]] || "$uv" venv -q --python "$python" "$lint_venv"
  # shellcheck disable=SC2086 # two requirement specifiers
  "$uv" pip install -q --python "$lint_venv/bin/python" -r tests/setup/requirements-ecosystem.txt $versions
  echo "$want" >"$stamp"
fi

# ansible-test's sanity venvs: keyed by ansible-test itself on its pinned requirements, so
# the stamp only needs what decides which ones exist: ansible-test's version and the Pythons.
pip_version=$("$python" - <<'PY'
from ansible_test._internal.host_configs import NativePythonConfig
from ansible_test._internal.python_requirements import get_venv_packages

print(get_venv_packages(NativePythonConfig(version="3.11", path=""))["pip"])
PY
)
cache=$HOME/.ansible/test/cache
get_pip=$cache/get_pip_${pip_version//./_}.py
mkdir -p "$cache"
if [[ ! -f $cache/pip-$pip_version-py3-none-any.whl ]]; then
  "$python" -m pip download -q --disable-pip-version-check --no-deps --only-binary=:all: \
    -d "$cache" "pip==$pip_version"
fi
cmp -s tests/setup/ansible_test_get_pip.py "$get_pip" || cp tests/setup/ansible_test_get_pip.py "$get_pip"

pythons=$(tests/ecosystem.sh pythons)
prime_stamp=$HOME/.ansible/test/venv/.mlbox-primed
want=$( (echo "$versions $pip_version $pythons"; cat "$0" tests/setup/ansible_test_get_pip.py) | sha256sum | cut -d' ' -f1)
if [[ ! -f $prime_stamp || $(cat "$prime_stamp") != "$want" ]]; then
  echo "setup: preparing ansible-test's sanity venvs (Pythons: $pythons)"
  tests/ecosystem.sh prime >/dev/null
  echo "$want" >"$prime_stamp"
fi
