# ssm.proxy developer entry points. `make test` and `make demo` set everything up themselves on a
# machine with Python 3.11+, make and git: virtualenvs, pinned packages, and ansible.windows /
# amazon.aws taken offline from the `ansible` wheel on PyPI (users take them from Galaxy).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

ROOT := $(CURDIR)
PYTHON ?= $(shell tests/tools/find-python 3.11)
PYTHON_NEWEST ?= $(shell tests/tools/find-python 3.12)
VENV ?= .venv
VENV_NEWEST ?= .venv-newest
CACHE := .cache
# ansible.windows and amazon.aws for tests and the demo: the collections inside this `ansible` wheel.
ANSIBLE_WHEEL_VERSION := 12.3.0
ANSIBLE_WHEEL_SHA256 := cd156f82fa87f7a899212b0efa9f7ca3a24d609212de9f78428a572eb01e5414
UPSTREAM := $(CACHE)/collections
# This checkout seen as ansible_collections/ssm/proxy (pytest and ansible-playbook import it from here).
SELF := $(CACHE)/self
SELF_LINK := $(SELF)/ansible_collections/ssm/proxy

export PYTHONDONTWRITEBYTECODE := 1
export ANSIBLE_COLLECTIONS_PATH := $(ROOT)/$(SELF):$(ROOT)/$(UPSTREAM)

.PHONY: help venv venv-newest collections self sim-env demo test sanity lint units integration pytest \
	pytest-newest constraints clean

help:
	@echo "make demo   - set up and run the configure playbook against two simulated Windows hosts (--diff)"
	@echo "make test   - set up and run everything: sanity, lint, unit and integration tests"
	@echo "make sanity | lint | pytest | pytest-newest - one part of the test run"

$(VENV)/.installed: tests/requirements.txt constraints/py311.txt
	@test -n "$(PYTHON)" || { echo "Python 3.11 not found: install it or pass PYTHON=/path/to/python3.11" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check -c constraints/py311.txt pip
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check -c constraints/py311.txt -r tests/requirements.txt
	touch $@
venv: $(VENV)/.installed

$(VENV_NEWEST)/.installed: tests/requirements-newest.txt constraints/py312.txt
	$(PYTHON_NEWEST) -m venv $(VENV_NEWEST)
	$(VENV_NEWEST)/bin/python -m pip install --quiet --disable-pip-version-check -c constraints/py312.txt pip
	$(VENV_NEWEST)/bin/python -m pip install --quiet --disable-pip-version-check -c constraints/py312.txt -r tests/requirements-newest.txt
	touch $@
venv-newest: $(VENV_NEWEST)/.installed

$(UPSTREAM)/.installed: tests/tools/upstream_collections.py Makefile | $(VENV)/.installed
	$(VENV)/bin/python tests/tools/upstream_collections.py --version $(ANSIBLE_WHEEL_VERSION) \
		--sha256 $(ANSIBLE_WHEEL_SHA256) --wheel-dir $(CACHE)/wheels --dest $(UPSTREAM)
	touch $@
collections: $(UPSTREAM)/.installed

$(SELF_LINK):
	mkdir -p $(dir $@)
	ln -sfn $(ROOT) $@
self: $(SELF_LINK)

# Everything tests/sim/playbook needs; it calls this target itself when something is missing.
sim-env: venv collections self

demo: sim-env
	tests/sim/demo/run

sanity: venv collections
	tests/tools/sanity

lint: sim-env
	tests/tools/lint

# Unit and integration tests (simulated Windows hosts) on ansible-core 2.19 / Python 3.11.
pytest: sim-env
	PYTHONPATH=$(ROOT)/$(SELF) $(VENV)/bin/python -m pytest tests/unit tests/integration tests/sim

# The same tests on the newest ansible-core, where Python 3.12 exists.
pytest-newest: sim-env
	@if [ -z "$(PYTHON_NEWEST)" ]; then echo "Python 3.12 not found: skipping the newest ansible-core run"; \
	else $(MAKE) --no-print-directory venv-newest && \
		SIM_VENV=$(ROOT)/$(VENV_NEWEST) PYTHONPATH=$(ROOT)/$(SELF) \
		$(VENV_NEWEST)/bin/python -m pytest -q tests/unit tests/integration tests/sim; fi

# The fleet benchmark (bench/run): ssm.proxy against the documented procedure on simulated fleets, ~30 min on
# 2 cores; not part of `make test`. Sizes etc. through BENCH_* (see bench/run); results in bench/results.
.PHONY: bench
bench: sim-env
	bench/run

# pytest runs last so that the run ends with its summary line.
test: sanity lint pytest-newest pytest

constraints:
	$(VENV)/bin/python -m pip freeze --all | grep -v -E '^(-e|setuptools|wheel)' > constraints/py311.txt.new
	@echo "review and move constraints/py311.txt.new into place"

clean:
	rm -rf $(VENV) $(VENV_NEWEST) $(CACHE) tests/output .pytest_cache .hypothesis
