# `make demo` and `make test` do all their own set-up: virtualenv, Python dependencies and the
# Prometheus / Alertmanager binaries (installed with apt-get when run as root on Debian/Ubuntu).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
UV := $(VENV)/bin/uv
PYTEST_ARGS ?=

.PHONY: demo test venv binaries lint bench clean

$(VENV)/.installed: pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@test -x $(UV) || $(PY) -m pip install --quiet uv
	$(UV) pip install --quiet -p $(PY) -e '.[test,demo]'
	@touch $@

venv: $(VENV)/.installed

binaries:
	@bash scripts/ensure-binaries.sh

demo: venv binaries
	$(VENV)/bin/mlcall-tui demo $(DEMO_ARGS)

lint: venv
	$(VENV)/bin/ruff check oncall_tui tests benchmarks
	$(VENV)/bin/mlcall-tui runbooks lint

test: venv binaries lint
	$(PY) -m pytest -q -p no:cacheprovider $(PYTEST_ARGS)

bench: venv binaries
	$(PY) benchmarks/run_all.py

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache
