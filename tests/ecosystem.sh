#!/usr/bin/env bash
# The Ansible ecosystem's own checkers on this collection, run offline (`make ecosystem`, in
# CI's doubles stream); what they need is installed by tests/setup/bootstrap.d/ecosystem.sh.
#   tests/ecosystem.sh all        what `make ecosystem` runs: each check below, in turn (units
#                                 on UNITS_SUBSET); fails at the end naming those that failed
#   tests/ecosystem.sh sanity     ansible-test sanity: every test, import/compile on every
#                                 Python 3.8-3.13 found here (pyenv's included)
#   tests/ecosystem.sh units [T]  ansible-test units on the venv's Python: tests/unit, or T
#   tests/ecosystem.sh galaxy     galaxy-importer on the built tarball (what Galaxy runs)
#   tests/ecosystem.sh docs       antsibull-docs lint-collection-docs (docs, RV()/O() links)
#   tests/ecosystem.sh changelog  antsibull-changelog lint (fragments and changelog.yaml)
#   tests/ecosystem.sh prime      set-up only: ansible-test's per-test venvs (downloads)
#   tests/ecosystem.sh pythons    the other Pythons found for ansible-test (set-up's stamp)
# ansible-test wants the collection at .../ansible_collections/mlbox/workbench: the files git
# knows (tracked, or new and not ignored) are copied to ~/.cache/mlbox-workbench/ first.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
venv=$root/.venv
lint_venv=$root/.venv-lint
# Outside the work tree: ansible-test (like antsibull-docs) lists a collection inside a git
# checkout with git, which would skip an ignored folder such as .cache/ whole.
cache=${XDG_CACHE_HOME:-$HOME/.cache}/mlbox-workbench/ansible-test/$(echo "$root" | sha256sum | cut -c1-12)
tree=$cache/ansible_collections/mlbox/workbench
export PATH=$venv/bin:$PATH
export ANSIBLE_LOCAL_TEMP=$cache/tmp

# The collection's files as they are in this work tree, in ansible-test's layout.
lay_out_tree() {
  if ! git -C "$root" rev-parse --git-dir >/dev/null 2>&1; then
    echo "ecosystem: $root is not a git checkout; ansible-test needs to know which files are the collection's" >&2
    exit 1
  fi
  rm -rf "$tree"
  mkdir -p "$tree"
  git -C "$root" ls-files -z --cached --others --exclude-standard \
    | while IFS= read -r -d '' file; do
      if [[ -e $file || -L $file ]]; then printf '%s\0' "$file"; fi
    done \
    | tar -C "$root" --null --no-recursion -T - -cf - | tar -C "$tree" -xf -
}

# ansible-test runs the import and compile tests on every supported Python it finds on PATH
# as pythonX.Y. pyenv's shims name them without running them, so the interpreters found
# (on PATH, or under pyenv's versions) are linked into one folder put at the end of PATH.
other_pythons() {
  local dir=$cache/pythons version candidate found pyenv_root
  pyenv_root=${PYENV_ROOT:-$HOME/.pyenv}
  rm -rf "$dir"
  mkdir -p "$dir"
  for version in 3.8 3.9 3.10 3.12 3.13; do
    found=""
    for candidate in "$(command -v "python$version" || true)" "$pyenv_root"/versions/"$version".*/bin/"python$version"; do
      if [[ -n $candidate && -x $candidate ]] && "$candidate" -c '' >/dev/null 2>&1; then
        found=$candidate
        break
      fi
    done
    if [[ -n $found ]]; then ln -s "$found" "$dir/python$version"; fi
  done
  echo "$dir"
}

# `make unit` runs all of tests/unit in the project's layout already; ansible-test units runs
# the part that depends on its layout: the plugins' tests (modules, module_utils, filters on
# the collection loader ansible-test sets up) and one controller test that runs
# ansible-playbook on ansible-test's copy of the collection.
UNITS_SUBSET=(tests/unit/plugins/ tests/unit/roles/test_argument_specs.py)

case ${1:-} in
  all)
    failed=()
    for check in sanity units galaxy docs changelog; do
      echo "== ecosystem: $check"
      start=$SECONDS
      if [[ $check == units ]]; then
        "$0" units "${UNITS_SUBSET[@]}" || failed+=("$check")
      else
        "$0" "$check" || failed+=("$check")
      fi
      echo "== ecosystem: $check took $((SECONDS - start)) s"
    done
    if ((${#failed[@]})); then
      echo "ecosystem: failed: ${failed[*]}" >&2
      exit 1
    fi
    echo "ecosystem: sanity, units, galaxy-importer, antsibull-docs and antsibull-changelog are clean"
    ;;
  pythons)
    found=()
    for link in "$(other_pythons)"/python*; do [[ -e $link ]] && found+=("${link##*/}"); done
    echo "${found[*]}"
    ;;
  prime)
    lay_out_tree
    extra=$(other_pythons)
    cd "$tree"
    PATH=$PATH:$extra ansible-test sanity --prime-venvs --local --color no
    ;;
  sanity)
    lay_out_tree
    extra=$(other_pythons)
    cd "$tree"
    # PIP_NO_INDEX: a test whose venv was not primed at set-up fails instead of downloading.
    PIP_NO_INDEX=1 PATH=$PATH:$extra ansible-test sanity --local --color no "${@:2}"
    ;;
  units)
    lay_out_tree
    cd "$tree"
    PIP_NO_INDEX=1 ansible-test units --local --python "$("$venv/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')" --color no "${@:2}"
    ;;
  galaxy)
    out=$cache/build
    rm -rf "$out"
    mkdir -p "$out" "$ANSIBLE_LOCAL_TEMP"
    ansible-galaxy collection build --force --output-path "$out" . >/dev/null
    tarballs=("$out"/mlbox-workbench-*.tar.gz)
    tarball=${tarballs[0]}
    log=$out/galaxy-importer.log
    # galaxy-importer runs ansible-doc and ansible-lint from its own venv, with
    # ANSIBLE_COLLECTIONS_PATH set to the unpacked tarball alone. ansible-core also looks for
    # ansible_collections/ on sys.path: the dependencies of galaxy.yml (from the main venv's
    # ansible package, alibaba.alicloud from set-up's .ansible/collections) are linked into
    # one folder that PYTHONPATH adds, with nothing else in it to shadow .venv-lint's packages.
    deps=$cache/galaxy-deps
    rm -rf "$deps"
    "$venv/bin/python" - "$root" "$deps" <<'PY'
import os
import sys
import sysconfig

import yaml

root, deps = sys.argv[1:]
wanted = yaml.safe_load(open(os.path.join(root, "galaxy.yml")))["dependencies"]
places = [os.path.join(root, ".ansible", "collections"), sysconfig.get_path("purelib")]
for name in wanted:
    namespace, collection = name.split(".")
    found = [
        os.path.join(place, "ansible_collections", namespace, collection)
        for place in places
        if os.path.isdir(os.path.join(place, "ansible_collections", namespace, collection))
    ]
    if not found:
        sys.exit(f"galaxy-importer: dependency {name} (galaxy.yml) is installed nowhere here")
    link = os.path.join(deps, "ansible_collections", namespace, collection)
    os.makedirs(os.path.dirname(link), exist_ok=True)
    os.symlink(found[0], link)
PY
    (cd "$out" && GALAXY_IMPORTER_CONFIG=$root/tests/ecosystem/galaxy-importer.cfg PATH=$lint_venv/bin:$PATH \
      PYTHONPATH=$deps "$lint_venv/bin/python" -m galaxy_importer.main "$tarball") >"$log" 2>&1 || {
      cat "$log" >&2
      echo "galaxy-importer: the import of $(basename "$tarball") failed" >&2
      exit 1
    }
    if grep -E '^(WARNING|ERROR)' "$log" >&2; then
      echo "galaxy-importer: $(basename "$tarball") imports, with the findings above (full log: $log)" >&2
      exit 1
    fi
    echo "galaxy-importer: $(basename "$tarball") imports cleanly"
    ;;
  docs)
    # antsibull-docs copies the collection (the files git tracks) and the collections it
    # depends on (galaxy.yml) to a temporary tree, and looks up references to them: the
    # dependencies come from the main venv's ansible package and .ansible/collections.
    purelib=$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_path("purelib"))')
    ANSIBLE_COLLECTIONS_PATH=$root/.ansible/collections:$purelib PATH=$lint_venv/bin:$PATH \
      antsibull-docs lint-collection-docs --plugin-docs --skip-rstcheck \
      --validate-collection-refs dependent --disallow-unknown-collection-refs "$root"
    echo "antsibull-docs: the collection's docs are clean"
    ;;
  changelog)
    "$lint_venv/bin/antsibull-changelog" lint
    "$lint_venv/bin/antsibull-changelog" lint-changelog-yaml changelogs/changelog.yaml
    ;;
  *)
    sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
    ;;
esac
