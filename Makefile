# mlbox.workbench: one entry point for people and CI. Every target sets itself up first
# (tests/setup/bootstrap.sh is idempotent and cached), so on a fresh Debian/Ubuntu machine
# `make demo` and `make test` are all there is to type.
SHELL := /bin/bash
VENV := $(CURDIR)/.venv
export PATH := $(VENV)/bin:$(PATH)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1

ROLES := tools git_keys data_disk libs jupyter
# Provider lifecycle suites: tests/integration/<cloud>/ (local on podman, the rest on doubles).
CLOUDS := $(patsubst tests/integration/%/,%,$(wildcard tests/integration/*/))
PYTHON_SOURCES := plugins roles scripts tests devtools bench
# Every suite runs through devtools/ci_timings.py: its wall time and the load it ran under land
# in test-reports/timings/, its tests' times in test-reports/junit/ (.ci/run prints the table).
TIMED := python devtools/ci_timings.py run
JUNIT = --junitxml=test-reports/junit/$(1).xml -o junit_family=xunit1

.PHONY: help setup demo demo-delete test test-podman test-doubles test-fast lint unit molecule $(addprefix molecule-,$(ROLES)) \
	integration $(addprefix integration-,$(CLOUDS)) scripts-test setup-azure bench build docs clean lint-checks timings ecosystem

help:
	@echo "make demo        a local workbench (podman) with an HTTPS notebook, from nothing"
	@echo "make demo-delete take the local workbench away (its data disk is kept)"
	@echo "make test        everything CI runs: lint, unit, molecule per role, lifecycle"
	@echo "make test-fast   lint + unit tests (seconds)"
	@echo "make ecosystem   ansible-test sanity and units, galaxy-importer, antsibull-docs/changelog lint"
	@echo "make molecule-ROLE  one role's molecule scenario ($(ROLES)) on Debian 12"
	@echo "make molecule-ROLE-SUITE  the same on Debian 11 or 13 ($(OTHER_SUITES))"
	@echo "make molecule-matrix  the matrix CI leaves out (nightly): other roles on 11 and 13"
	@echo "make integration-CLOUD  one provider's lifecycle suite ($(CLOUDS))"
	@echo "make scripts-test  the wrapper scripts' tests"
	@echo "make bench       the time-to-notebook benchmark (bench/results/)"
	@echo "make timings     each suite's wall time and load, the slowest tests (after make test)"
	@echo "make build       the collection tarball in build/"

setup:
	@bash tests/setup/bootstrap.sh

## The main job on the embedded default: a local workbench (podman) with an HTTPS notebook.
## The password is generated once, stored 0600 under ~/.config/mlbox/, and shown.
demo: setup
	python scripts/start_instance.py --cloud local --yes

demo-delete: setup
	python scripts/delete_instance.py --cloud local --yes

## Lint and unit tests: seconds, for iteration.
test-fast: lint unit

lint: setup
	@$(TIMED) lint -- $(MAKE) --no-print-directory lint-checks

lint-checks:
	ruff check $(PYTHON_SOURCES)
	ruff format --check $(PYTHON_SOURCES)
	ansible-lint --profile production
	python devtools/readme_vars.py --check
	@bash tests/check_build.sh

unit: setup
	@$(TIMED) unit -- pytest -q -n 2 $(call JUNIT,unit) tests/unit

## The Ansible ecosystem's own checkers, offline (tests/ecosystem.sh): ansible-test sanity
## (all tests; import/compile on every Python 3.8-3.13 found), ansible-test units, galaxy-importer
## on the built tarball, antsibull-docs and antsibull-changelog lint. Minutes, not seconds: CI
## runs it in the doubles stream, not in test-fast.
ecosystem: setup
	@$(TIMED) ecosystem -- bash tests/ecosystem.sh all

## One molecule scenario per role, in podman containers from the local image (Debian 12,
## bookworm). The same scenarios run on Debian 11 (bullseye, Python 3.9) and 13 (trixie,
## Python 3.13): molecule-ROLE-SUITE builds that suite's image when missing first. CI's
## `molecule` runs every role on bookworm and MATRIX_CI_ROLES on the other suites too;
## `molecule-matrix` (nightly-style) runs the rest of the matrix.
SUITES := bullseye bookworm trixie
OTHER_SUITES := $(filter-out bookworm,$(SUITES))
MATRIX_CI_ROLES := libs jupyter
MATRIX_ALL := $(foreach r,$(ROLES),$(foreach s,$(OTHER_SUITES),molecule-$(r)-$(s)))
MATRIX_CI := $(foreach r,$(MATRIX_CI_ROLES),$(foreach s,$(OTHER_SUITES),molecule-$(r)-$(s)))

.PHONY: molecule-matrix $(MATRIX_ALL) $(addprefix image-,$(OTHER_SUITES))

molecule: $(addprefix molecule-,$(ROLES)) $(MATRIX_CI)

molecule-matrix: $(filter-out $(MATRIX_CI),$(MATRIX_ALL))

$(addprefix molecule-,$(ROLES)): molecule-%: setup
	@$(TIMED) molecule-$* -- env MLBOX_DEBIAN_SUITE=bookworm molecule test -s $*

$(addprefix image-,$(OTHER_SUITES)): image-%: setup
	@MLBOX_DEBIAN_SUITE=$* bash scripts/local_image.sh

define matrix_rule
molecule-$(1)-$(2): image-$(2)
	@$$(TIMED) molecule-$(1)-$(2) -- env MLBOX_DEBIAN_SUITE=$(2) molecule test -s $(1)
endef
$(foreach r,$(ROLES),$(foreach s,$(OTHER_SUITES),$(eval $(call matrix_rule,$(r),$(s)))))

## Provider lifecycles: local on real podman, the clouds against their API doubles.
integration: $(addprefix integration-,$(CLOUDS))

$(addprefix integration-,$(CLOUDS)): integration-%: setup
	@$(TIMED) integration-$* -- pytest -q $(call JUNIT,integration-$*) tests/integration/$*

integration-azure: setup-azure

## Azure's SDK is large: its own install, only for the Azure provider.
setup-azure: setup
	@bash tests/setup/azure.sh

scripts-test: setup
	@$(TIMED) scripts -- pytest -q $(call JUNIT,scripts) tests/scripts

bench: setup
	python bench/run.py

## Everything: what CI runs. After lint and unit tests, two streams share the two cores:
## what runs on podman (molecule, the scripts' local lifecycle, cloud_local) and the cloud
## API doubles (aws, aliyun, azure: a server and ansible-playbook each). Each stream is
## serial; their outputs interleave line by line. The doubles stream ends with `ecosystem`
## (the ecosystem's own checkers: minutes, and nothing else waits on them).
DOUBLE_CLOUDS := $(filter-out local,$(CLOUDS))

test: setup
	@rm -rf test-reports/timings test-reports/junit
	$(MAKE) --no-print-directory test-fast
	$(MAKE) --no-print-directory -j2 -Oline test-podman test-doubles

## Where the time went: each suite's wall time, its load and the slowest tests.
timings:
	@python devtools/ci_timings.py report

test-podman: export MLBOX_CI_STREAM := podman
test-doubles: export MLBOX_CI_STREAM := doubles
test-fast: export MLBOX_CI_STREAM := fast

test-podman: setup
	$(MAKE) --no-print-directory -j1 molecule scripts-test $(filter integration-local,$(addprefix integration-,$(CLOUDS)))

test-doubles: setup
	$(MAKE) --no-print-directory -j1 $(addprefix integration-,$(DOUBLE_CLOUDS)) ecosystem

build: setup
	ansible-galaxy collection build --force --output-path build/

clean:
	rm -rf build .pytest_cache .ruff_cache

## Smoke tests on a real account (they bill it; never part of `make test` or CI): the
## lifecycle with the smallest instance and a 20 GB disk, its expected cost printed first,
## skipped without the cloud's credentials in the environment. See README, "Smoke test on a
## real account".
.PHONY: smoke-aws smoke-aliyun smoke-azure

smoke-aws smoke-aliyun: smoke-%: setup
	MLBOX_SMOKE=$* pytest -s -rs tests/smoke -m smoke_$*

smoke-azure: setup-azure
	MLBOX_SMOKE=azure pytest -s -rs tests/smoke -m smoke_azure
