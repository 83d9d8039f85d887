# `make demo` and `make test` do all their own set-up: virtualenv, Python dependencies and the
# Prometheus / Alertmanager binaries (installed with apt-get when run as root on Debian/Ubuntu).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
UV := $(VENV)/bin/uv
UV_VERSION := 0.13.9
PYTEST_ARGS ?=
LOCK := requirements.lock

.PHONY: demo test venv binaries lint bench clean lock

# The venv, with uv $(UV_VERSION) in it (the version that writes and reads the lock).
define ensure_uv
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(UV) --version 2>/dev/null | grep -qx 'uv $(UV_VERSION)\( .*\)\?' || $(PY) -m pip install --quiet 'uv==$(UV_VERSION)'
endef

# Exactly the versions and hashes in requirements.lock (every extra), then the project itself, editable.
$(VENV)/.installed: pyproject.toml $(LOCK)
	$(ensure_uv)
	$(UV) pip install --quiet -p $(PY) --require-hashes -r $(LOCK)
	$(UV) pip install --quiet -p $(PY) --no-deps -e .
	@touch $@

# After changing the dependencies in pyproject.toml: `make lock`, then commit requirements.lock with the change.
lock:
	$(ensure_uv)
	$(UV) pip compile --quiet --universal --all-extras --generate-hashes pyproject.toml -o $(LOCK)

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
