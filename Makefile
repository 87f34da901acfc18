# Two entry points do everything on a fresh machine with Python 3.10+:
#   make repro   set up .venv, then run the DVC pipeline on the embedded default
#   make test    set up .venv, then run the test suite
PYTHON ?= python3
VENV ?= .venv
# pip arguments for torch, unquoted so an index can follow: TORCH="torch==2.13.0 --index-url URL"
TORCH ?= torch==2.13.0
PY := $(VENV)/bin/python
PYTEST_ARGS ?=

.PHONY: setup repro test bench clean-venv help

help:
	@echo "make repro   - create $(VENV), install $(TORCH) and smhr[pipeline,notebooks,dev], run 'dvc repro'"
	@echo "make test    - same set-up, then pytest (PYTEST_ARGS='-m \"not slow\"' to narrow)"
	@echo "make bench   - run the speed/memory benchmarks into reports/bench/"
	@echo "Variables: PYTHON=$(PYTHON) VENV=$(VENV) TORCH=$(TORCH)"

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q $(TORCH)
	$(PY) -m pip install -q -e ".[pipeline,notebooks,dev]"
	touch $@

setup: $(VENV)/.installed

repro: setup
	PATH="$(abspath $(VENV))/bin:$$PATH" DVC_NO_ANALYTICS=1 dvc repro

test: setup
	$(PY) -m pytest $(PYTEST_ARGS)

bench: setup
	PATH="$(abspath $(VENV))/bin:$$PATH" smhr bench all

clean-venv:
	rm -rf $(VENV)
