# The commands people type. Every target uses .venv and creates it first when it is missing.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
STACK ?= dev
FORMAT ?= text
BUILD := .build

.DEFAULT_GOAL := help
.PHONY: help install plan gate preview test lint typecheck format docs bench \
        local local-up local-down setup seed validate clean

help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

$(STAMP): requirements.txt requirements-dev.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@touch $(STAMP)

install: $(STAMP) ## Create .venv and install every requirement

plan: $(STAMP) ## Offline plan of STACK under the Pulumi mock runtime [OUT=plan.json]
	@$(PY) -m tools.plan --stack $(STACK) $(if $(OUT),--out $(OUT))

test: $(STAMP) ## Run the test suite (no network, no AWS, no Pulumi CLI)
	$(PY) -m pytest -q

lint: $(STAMP) ## ruff check and format check
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

typecheck: $(STAMP) ## mypy (strict) over the code
	$(PY) -m mypy components tools __main__.py

format: $(STAMP) ## Apply ruff's formatting and safe fixes
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

bench: $(STAMP) ## Benchmarks: speed and cost goals, measured (not tests)
	@$(PY) -m bench

clean: ## Remove build output (keeps .venv)
	rm -rf $(BUILD) .pytest_cache .mypy_cache .ruff_cache
