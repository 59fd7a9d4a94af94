# Everything a fresh clone needs: `make demo` and `make test` install what they use.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
NODE_BIN := node_modules/.bin
SPEC := openapi/scaleapi.yaml
export REDOCLY_TELEMETRY := off
export REDOCLY_SUPPRESS_UPDATE_NOTICE := true

.PHONY: install generate check-generated lint lint-spec typecheck test pytest demo bench clean

install: $(VENV)/.installed node_modules/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $@

generate: $(VENV)/.installed
	$(PY) generator/generate.py

check-generated: $(VENV)/.installed
	$(PY) generator/generate.py --check

lint-spec: install
	$(PY) -m openapi_spec_validator $(SPEC)
	$(NODE_BIN)/spectral lint $(SPEC) --fail-severity=error --quiet
	$(NODE_BIN)/redocly lint $(SPEC) --format=summary

lint: install lint-spec
	$(VENV)/bin/ruff check scaleapi tests generator benchmarks
	$(VENV)/bin/ruff format --check scaleapi tests generator benchmarks

typecheck: install
	$(VENV)/bin/mypy --strict scaleapi
	$(NODE_BIN)/pyright scaleapi

# Every test, with the async client on its default transport (aiohttp: the dev extra
# installs it); then every test of the SDK's behaviour again on httpx: all but the
# sandbox's own tests, the contract's, the interop runs of the official SDK, and those
# of the generator and the typing, which no transport reaches. tests/test_transports.py
# also runs each of its tests on both transports by itself.
NOT_TRANSPORT := tests/sandbox tests/contract tests/interop tests/test_official_sdk.py \
	tests/test_regenerate.py tests/test_typing.py tests/test_generator_templates.py

pytest: install
	$(PY) -m pytest -q
	SCALE_ASYNC_TRANSPORT=httpx $(PY) -m pytest -q tests $(NOT_TRANSPORT:%=--ignore=%)

test: lint typecheck check-generated pytest

demo: install
	$(PY) -m scaleapi._demo

OFFICIAL_VENV := benchmarks/.venv-official

$(OFFICIAL_VENV)/.installed:
	test -x $(OFFICIAL_VENV)/bin/python || $(PYTHON) -m venv $(OFFICIAL_VENV)
	$(OFFICIAL_VENV)/bin/python -m pip install --quiet 'scaleapi>=2,<3'
	touch $@

# Rewrites BENCHMARKS.md and benchmarks/results.png (about 2 minutes).
bench: $(VENV)/.installed $(OFFICIAL_VENV)/.installed
	$(PY) -m benchmarks

clean:
	rm -rf $(VENV) node_modules .pytest_cache .mypy_cache .ruff_cache
