# Two commands on a fresh machine with python3 and make: `make run`, `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LOCK := requirements.lock
LOCKTOOLS := .venv-lock
PIP_TOOLS := 7.6.2
# --all-build-deps --allow-unsafe: setuptools (the build backend) is pinned too, since the package
# is built without isolation; --strip-extras: the lock is plain name==version lines.
COMPILE := --quiet --extra test --all-build-deps --allow-unsafe --strip-extras \
	--no-emit-index-url --no-emit-find-links --output-file $(LOCK)

.PHONY: run test lint bench clean lock lock-upgrade

# Dependencies come from the lock file (exact versions, made by pip-compile from pyproject.toml):
# a fresh machine next year installs what this commit was tested with. pip prints a line per
# package (no --quiet: a first install takes over a minute). The package itself comes last,
# without dependencies, so nothing unpinned slips in.
$(STAMP): $(LOCK) pyproject.toml
	@echo "== 1/3 virtual environment $(VENV) ($(PY))"
	$(PY) -m venv $(VENV)
	@echo "== 2/3 pinned dependencies from $(LOCK)"
	$(BIN)/python -m pip install --disable-pip-version-check --progress-bar off -r $(LOCK)
	@echo "== 3/3 narvard-sim itself (editable, --no-deps)"
	$(BIN)/python -m pip install --disable-pip-version-check --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

# Refresh the lock after editing the dependencies in pyproject.toml. Existing pins are kept
# (only what is new or no longer fits is resolved again); `make lock-upgrade` moves every pin
# to the newest release. pip-tools lives in a venv of its own so it never shifts the project's pins.
lock: $(LOCKTOOLS)/.installed
	$(LOCKTOOLS)/bin/pip-compile $(COMPILE) pyproject.toml

lock-upgrade: $(LOCKTOOLS)/.installed
	$(LOCKTOOLS)/bin/pip-compile --upgrade $(COMPILE) pyproject.toml

$(LOCKTOOLS)/.installed:
	$(PY) -m venv $(LOCKTOOLS)
	$(LOCKTOOLS)/bin/python -m pip install --disable-pip-version-check --quiet pip-tools==$(PIP_TOOLS)
	touch $@

run: $(STAMP)
	$(BIN)/narvard compare scenarios/default.toml --out results/default --force
	$(BIN)/narvard measure results/default

test: $(STAMP)
	$(BIN)/python -m pytest -n 2 -q

# Ruff, then the layer contract (.importlinter: layers import only downward, care only through the port).
lint: $(STAMP)
	$(BIN)/ruff check
	$(BIN)/lint-imports --no-cache

bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) $(LOCKTOOLS) results/*/
