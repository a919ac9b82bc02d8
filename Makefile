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
PYTHON_SOURCES := plugins scripts tests devtools

.PHONY: help setup demo test test-fast lint unit molecule $(addprefix molecule-,$(ROLES)) build docs clean

help:
	@echo "make demo        a local workbench (podman) with an HTTPS notebook, from nothing"
	@echo "make test        everything CI runs: lint, unit, molecule per role, lifecycle"
	@echo "make test-fast   lint + unit tests (seconds)"
	@echo "make molecule-ROLE  one role's molecule scenario ($(ROLES))"
	@echo "make build       the collection tarball in build/"

setup:
	@bash tests/setup/bootstrap.sh

## Lint and unit tests: seconds, for iteration.
test-fast: lint unit

lint: setup
	ruff check $(PYTHON_SOURCES)
	ruff format --check $(PYTHON_SOURCES)
	ansible-lint --profile production
	python devtools/readme_vars.py --check
	@bash tests/check_build.sh

unit: setup
	pytest -q tests/unit

## One molecule scenario per role, in podman containers from the local image.
molecule: $(addprefix molecule-,$(ROLES))

$(addprefix molecule-,$(ROLES)): molecule-%: setup
	molecule test -s $*

## Everything: what CI runs.
test: test-fast molecule

build: setup
	ansible-galaxy collection build --force --output-path build/

clean:
	rm -rf build .pytest_cache .ruff_cache
