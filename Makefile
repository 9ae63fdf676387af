# TinyTroupe Mesh: `make demo` runs a real study on the embedded model; `make test` runs the whole suite.
# Both set everything up first (virtualenv, pinned dependencies, buf, kubectl, llama.cpp's server) on a
# fresh machine.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
BUF := node_modules/.bin/buf
KUBECTL := .tools/kubectl/usr/bin/kubectl
PROMTOOL := .tools/prometheus/usr/bin/promtool
CHROMIUM := .tools/chromium/chromium
LLAMA_SERVER := .tools/llama-server/.installed
PYTEST_ARGS ?=

.DEFAULT_GOAL := help

.PHONY: help setup demo test check lint protos protos-check breaking baseline unit bench up clean

help:
	@echo "make demo    set up, start the local mesh on the embedded model, run an example study"
	@echo "make test    set up and run the whole suite (lint, contracts, stubs, unit, integration, e2e)"
	@echo "make bench   run the benchmarks against the fake LLM server"
	@echo "make protos  regenerate the Python stubs from protos/"

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip==25.3
	$(PIP) install --quiet -e '.[dev,embedded]'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

clients/node/node_modules/.installed: clients/node/package.json clients/node/package-lock.json
	npm ci --prefix clients/node --no-audit --no-fund --loglevel=error
	touch $@

clients/typescript/node_modules/.installed: clients/typescript/package.json clients/typescript/package-lock.json
	npm ci --prefix clients/typescript --no-audit --no-fund --loglevel=error
	touch $@

$(KUBECTL):
	bash scripts/install-kubectl.sh

# promtool (Debian's prometheus package, unpacked into .tools/) checks deploy/observability's alerts.
$(PROMTOOL):
	bash scripts/install-promtool.sh

# Headless Chromium (Debian's chromium package and the libraries this machine lacks, unpacked into .tools/, or
# the one already installed) renders `troupe report` pages in the tests.
$(CHROMIUM):
	bash scripts/install-chromium.sh

# llama.cpp's server for the embedded model, built once from the pinned llama-cpp-python sdist's sources
# (about 4 minutes on 2 cores); the script does nothing when the same version is already built.
$(LLAMA_SERVER): scripts/install-llama-server.sh $(VENV)/.installed
	bash scripts/install-llama-server.sh
	touch $@

setup: $(VENV)/.installed node_modules/.installed clients/node/node_modules/.installed \
	clients/typescript/node_modules/.installed $(LLAMA_SERVER)

protos: $(VENV)/.installed
	$(PY) scripts/gen_protos.py

protos-check: $(VENV)/.installed
	$(PY) scripts/gen_protos.py --check

lint: setup
	$(BUF) lint
	$(VENV)/bin/ruff check services tests bench scripts clients
	$(VENV)/bin/ruff format --check services tests bench scripts clients

# Contract changes must not break existing clients: compare with the published baseline image.
breaking: setup
	$(BUF) breaking protos --against protos/baseline.binpb

# Publishes the current contracts as the baseline (only for a deliberate, versioned API change).
baseline: setup
	$(BUF) build --exclude-source-info protos -o protos/baseline.binpb

check: lint protos-check breaking

test: setup $(KUBECTL) $(PROMTOOL) $(CHROMIUM) check
	$(VENV)/bin/pytest $(PYTEST_ARGS)

unit: setup
	$(VENV)/bin/pytest -m "not slow" $(PYTEST_ARGS)

demo: setup
	$(VENV)/bin/troupe demo

up: setup
	$(VENV)/bin/troupe up

bench: setup
	$(PY) -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) node_modules .tools .pytest_cache
