# mlbox.workbench: one entry point for people and CI. Every target sets itself up first
# (tests/setup/bootstrap.sh is idempotent and cached), so on a fresh Debian/Ubuntu machine
# `make demo` and `make test` are all there is to type.
SHELL := /bin/bash
VENV := $(CURDIR)/.venv
export PATH := $(VENV)/bin:$(PATH)
export CONTAINERS_CONF := $(CURDIR)/tests/setup/containers.conf
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1

ROLES := tools git_keys data_disk libs jupyter
# Provider lifecycle suites: tests/integration/<cloud>/ (local on podman, the rest on doubles).
CLOUDS := $(patsubst tests/integration/%/,%,$(wildcard tests/integration/*/))
PYTHON_SOURCES := plugins roles scripts tests devtools bench

.PHONY: help setup demo demo-delete test test-podman test-doubles test-fast lint unit molecule $(addprefix molecule-,$(ROLES)) \
	integration $(addprefix integration-,$(CLOUDS)) scripts-test setup-azure bench build docs clean \
	galaxy-check units-ansible-test

help:
	@echo "make demo        a local workbench (podman) with an HTTPS notebook, from nothing"
	@echo "make demo-delete take the local workbench away (its data disk is kept)"
	@echo "make test        everything CI runs: lint, unit, molecule per role, lifecycle"
	@echo "make test-fast   lint + unit tests (seconds)"
	@echo "make molecule-ROLE  one role's molecule scenario ($(ROLES))"
	@echo "make integration-CLOUD  one provider's lifecycle suite ($(CLOUDS))"
	@echo "make scripts-test  the wrapper scripts' tests"
	@echo "make bench       the time-to-notebook benchmark (bench/results/)"
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
	ruff check $(PYTHON_SOURCES)
	ruff format --check $(PYTHON_SOURCES)
	ansible-lint --profile production
	python devtools/readme_vars.py --check
	@bash tests/check_build.sh
	@bash tests/ecosystem.sh sanity
	@bash tests/ecosystem.sh docs
	@bash tests/ecosystem.sh changelog

## The ecosystem checks not yet in lint (tests/ecosystem.sh): galaxy-importer on the built
## tarball still has ansible-lint findings of its own; ansible-test units runs tests/unit.
galaxy-check: setup
	@bash tests/ecosystem.sh galaxy

units-ansible-test: setup
	@bash tests/ecosystem.sh units

unit: setup
	pytest -q tests/unit

## One molecule scenario per role, in podman containers from the local image.
molecule: $(addprefix molecule-,$(ROLES))

$(addprefix molecule-,$(ROLES)): molecule-%: setup
	molecule test -s $*

## Provider lifecycles: local on real podman, the clouds against their API doubles.
integration: $(addprefix integration-,$(CLOUDS))

$(addprefix integration-,$(CLOUDS)): integration-%: setup
	pytest -q tests/integration/$*

integration-azure: setup-azure

## Azure's SDK is large: its own install, only for the Azure provider.
setup-azure: setup
	@bash tests/setup/azure.sh

scripts-test: setup
	pytest -q tests/scripts

bench: setup
	python bench/run.py

## Everything: what CI runs. After lint and unit tests, two streams share the two cores:
## what runs on podman (molecule, the scripts' local lifecycle, cloud_local) and the cloud
## API doubles (aws, aliyun, azure: a server and ansible-playbook each). Each stream is
## serial; their outputs interleave line by line.
DOUBLE_CLOUDS := $(filter-out local,$(CLOUDS))

test: test-fast
	$(MAKE) --no-print-directory -j2 -Oline test-podman test-doubles

test-podman: setup
	$(MAKE) --no-print-directory -j1 molecule scripts-test $(filter integration-local,$(addprefix integration-,$(CLOUDS)))

test-doubles: setup
	$(MAKE) --no-print-directory -j1 $(addprefix integration-,$(DOUBLE_CLOUDS))

build: setup
	ansible-galaxy collection build --force --output-path build/

clean:
	rm -rf build .pytest_cache .ruff_cache
