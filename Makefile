# SCoPe developer and demo entry points. `make demo` and `make test` do all set-up themselves.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP_FLAGS ?= -q --disable-pip-version-check

.PHONY: install demo test test-fast bench clean

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install $(PIP_FLAGS) --upgrade pip
	$(PY) -m pip install $(PIP_FLAGS) -e ".[train,features,dev]"
	touch $@

install: $(VENV)/.installed

## The main job on the built-in demo sky (writes into ./demo)
demo: install
	PATH="$(abspath $(VENV))/bin:$$PATH" bash scripts/run_demo.sh demo

## The test suite (offline)
test: install
	$(PY) -m pytest -q

## Tests without the slow end-to-end ones
test-fast: install
	$(PY) -m pytest -q -m "not slow"

## Period-search benchmark (see bench/README.md)
bench: install
	$(PY) bench/bench_periodsearch.py

clean:
	rm -rf demo .pytest_cache build dist *.egg-info
