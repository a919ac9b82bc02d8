#!/usr/bin/env bash
# The collection builds into a clean tarball, and ansible-doc shows every module's docs.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
ansible-galaxy collection build --force --output-path "$out" . >/dev/null
tarball=$(ls "$out"/mlbox-workbench-*.tar.gz)
unwanted=$(tar -tzf "$tarball" | grep -E '^(tests|bench|\.ci|\.venv[^/]*|\.ansible|extensions/molecule)/|__pycache__|\.pyc$' || true)
if [[ -n $unwanted ]]; then
  echo "collection tarball contains files it should not:" >&2
  echo "$unwanted" | head -20 >&2
  exit 1
fi
for module in plugins/modules/*.py; do
  name=$(basename "$module" .py)
  ansible-doc "mlbox.workbench.$name" >/dev/null || { echo "ansible-doc failed for $name" >&2; exit 1; }
done
echo "build: $(basename "$tarball") is clean; ansible-doc works for $(find plugins/modules -name "*.py" | wc -l) modules"
