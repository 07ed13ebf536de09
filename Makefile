# The commands people type. Every target uses .venv and creates it first when it is missing.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
STACK ?= dev
FORMAT ?= text
BUILD := .build
# The emulator's port. Given on the command line (or in the environment) it also reaches setup,
# seed and validate through their environment, which check it against the endpoint local-up
# recorded in .local/env; the default here is local-up's alone.
MOTO_PORT ?= 5000
# Where setup/seed/validate point (scripts/aws_target.py): AWS_ENDPOINT_URL when set, else the
# emulator local-up started; AWS itself only with TARGET=aws. TARGET=local ignores AWS_ENDPOINT_URL.
TARGET ?=
TARGET_ARGS = $(if $(filter-out local aws,$(TARGET)),$(error TARGET must be local or aws, got '$(TARGET)'),$(if $(TARGET),--target $(TARGET)))
# seed writes to anything but the local emulator only with FORCE=1 (never to production).
FORCE ?=
FORCE_ARGS = $(if $(filter 1,$(FORCE)),--force,$(if $(FORCE),$(error FORCE must be 1 or unset, got '$(FORCE)')))
# Only for the local emulator: dummy credentials, so no local step can use (or need) real ones.
LOCAL_ENV := env -u AWS_PROFILE -u AWS_DEFAULT_PROFILE -u AWS_SESSION_TOKEN -u AWS_ENDPOINT_URL \
             AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing

.DEFAULT_GOAL := help
.PHONY: help install plan gate preview isolation-check cost capacity diff diagram test lint \
        typecheck format docs bench consumer-layer invalidator-layer local local-up local-down local-status setup seed validate \
        drill clean audit-verify audit-report audit-digest audit-migrate offboard-clinic

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

gate: $(STAMP) ## Policy pack over a plan, as the CLI runs it: PLAN=plan.json STACK=dev [FORMAT=text|markdown|json|sarif OUTPUT=file]
	@$(PY) -m tools.gate $(if $(PLAN),--plan $(PLAN)) --stack $(STACK) --format $(FORMAT) $(if $(OUTPUT),--output $(OUTPUT))

preview: $(STAMP) ## Offline `pulumi preview --policy-pack`: plan STACK, then gate it [FORMAT=... OUTPUT=file]
	@$(PY) -m tools.gate --stack $(STACK) --save-plan $(BUILD)/plan-$(STACK).json --format $(FORMAT) $(if $(OUTPUT),--output $(OUTPUT))

cost: $(STAMP) ## Monthly cost of STACK per resource [PLAN=plan.json USAGE=file FORMAT=text|markdown|json]
	@$(PY) -m tools.cost --stack $(STACK) $(if $(PLAN),--plan $(PLAN)) $(if $(USAGE),--usage $(USAGE)) $(if $(filter-out text,$(FORMAT)),--format $(FORMAT))

capacity: $(STAMP) ## Partition load of STACK's table at fleet scale [CLINICS=n PLAN=... USAGE=... FORMAT=...]
	@$(PY) -m tools.capacity --stack $(STACK) $(if $(CLINICS),--clinics $(CLINICS)) $(if $(PLAN),--plan $(PLAN)) $(if $(USAGE),--usage $(USAGE)) $(if $(filter-out text,$(FORMAT)),--format $(FORMAT))

diff: $(STAMP) ## STACK's plan against the plan of BASE (git ref, default main) [PLAN=... FORMAT=...]
	@$(PY) -m tools.diff --stack $(STACK) --base $(or $(BASE),main) $(if $(PLAN),--plan $(PLAN)) $(if $(filter-out text,$(FORMAT)),--format $(FORMAT))

diagram: $(STAMP) ## STACK's architecture as a Mermaid diagram, from its plan [PLAN=plan.json]
	@$(PY) -m tools.diagram --stack $(STACK) $(if $(PLAN),--plan $(PLAN))

isolation-check: $(STAMP) ## Tenant-isolation case table over STACK's IAM policies: offline over the plan; TARGET=aws: iam:SimulateCustomPolicy
	@$(PY) -m tools.isolation --stack $(STACK) $(TARGET_ARGS)

test: $(STAMP) ## Run the test suite (no network, no AWS, no Pulumi CLI)
	$(PY) -m pytest -q

lint: $(STAMP) ## ruff check and format check; GitHub workflows against their schema and zizmor
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(VENV)/bin/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml
	$(VENV)/bin/check-jsonschema --builtin-schema vendor.dependabot .github/dependabot.yml
	$(VENV)/bin/zizmor --offline --no-progress --persona pedantic .github/workflows

typecheck: $(STAMP) ## mypy (strict) over the code
	$(PY) -m mypy components stackspec tools scripts datalayer bench auditlog functions __main__.py
	cd policies && ../$(PY) -m mypy --config-file ../pyproject.toml hipaa_guardrails __main__.py

format: $(STAMP) ## Apply ruff's formatting and safe fixes
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

seed: $(STAMP) ## Synthetic data (PHI encrypted) into STACK's table on the local emulator [CLINICS=N SEED=S TARGET=aws FORCE=1]
	@$(PY) -m scripts.seed_data --stack $(STACK) $(if $(CLINICS),--clinics $(CLINICS)) $(if $(SEED),--seed $(SEED)) $(TARGET_ARGS) $(FORCE_ARGS)

docs: $(STAMP) ## Regenerate the generated docs (config reference, access patterns, POLICIES.md, architecture, README cost table)
	$(PY) -m tools.config_docs
	$(PY) -m tools.diagram --write-docs
	$(PY) -m tools.cost.readme
	$(PY) -m datalayer.docs
	PYTHONPATH=policies $(PY) -m hipaa_guardrails.docs

bench: $(STAMP) ## Benchmarks: speed and cost goals, measured (not tests)
	@$(PY) -m bench

local-up: $(STAMP) ## Start moto_server, PostgreSQL (audit) and the stream poller on 127.0.0.1 [MOTO_PORT=5000 AUDIT_PG_PORT=]
	@MOTO_PORT=$(MOTO_PORT) $(if $(AUDIT_PG_PORT),AUDIT_PG_PORT=$(AUDIT_PG_PORT)) scripts/start-local.sh

local-down: ## Stop what local-up started (and nothing else)
	@scripts/stop-local.sh

local-status: $(STAMP) ## What runs where: each local server, its pid, address and log
	@$(PY) -m scripts.local_servers status

# The audit trail (README "Audit trail"): local PostgreSQL by default, RDS with TARGET=aws.
AUDIT_ARGS = --stack $(STACK) $(TARGET_ARGS)
audit-verify: $(STAMP) ## Verify every audit chain and the latest digest: 0 intact, 1 broken (names the row), 2 usage [TARGET=aws]
	@$(PY) -m scripts.audit verify $(AUDIT_ARGS)

audit-report: $(STAMP) ## A patient's accounting of writes and reads: CLINIC=<id> PATIENT=<id> [FROM= TO= FORMAT=text|csv|json TARGET=aws]
	@$(PY) -m scripts.audit report $(AUDIT_ARGS) --clinic "$(CLINIC)" --patient "$(PATIENT)" \
		$(if $(FROM),--from "$(FROM)") $(if $(TO),--to "$(TO)") --format $(FORMAT)

audit-digest: $(STAMP) ## Write a digest of every chain head now and put it in the audit bucket (audit-chain/<stack>/)
	@$(PY) -m scripts.audit digest $(AUDIT_ARGS)

audit-migrate: $(STAMP) ## Apply the audit schema's pending migrations: local owner; TARGET=aws: RDS master secret, verify-full TLS, rds_iam roles
	@$(PY) -m scripts.audit_migrate $(AUDIT_ARGS)

setup: $(STAMP) ## Local emulator: create STACK; AWS (TARGET=aws): wait until its table is ACTIVE
	@$(PY) -m scripts.setup_database --stack $(STACK) --format $(FORMAT) $(TARGET_ARGS)

validate: $(STAMP) ## Compare the live environment with STACK's config, one row per check [FORMAT=json TARGET=aws]
	@$(PY) -m scripts.validate_setup --stack $(STACK) --format $(FORMAT) $(TARGET_ARGS)

drill: $(STAMP) ## Restore STACK's table into a scratch table and prove it [FROM=pitr|backup AT=time TARGET=aws FORMAT=json OUT=file]
	@$(PY) -m scripts.drill --stack $(STACK) --format $(FORMAT) $(TARGET_ARGS) \
		$(if $(FROM),--from $(FROM)) $(if $(AT),--at $(AT)) $(if $(OUT),--out $(OUT))

offboard-clinic: $(STAMP) ## Crypto-shred a clinic: schedule its PHI key's deletion, prove its PHI no longer decrypts, audit it: CLINIC=<id> [TARGET=aws CONFIRM=<id> CONFIRM_PRODUCTION=<stack>]
	@$(PY) -m scripts.offboard_clinic --stack $(STACK) --clinic "$(CLINIC)" $(TARGET_ARGS) \
		$(if $(CONFIRM),--confirm "$(CONFIRM)") $(if $(CONFIRM_PRODUCTION),--confirm-production "$(CONFIRM_PRODUCTION)")

consumer-layer: $(STAMP) ## Build the stream consumer's layer (psycopg for its runtime/arch, RDS CA bundle): needs the network; run before pulumi up
	@$(PY) -m scripts.consumer_layer --stack $(STACK)

invalidator-layer: $(STAMP) ## Build the cache invalidator's layer (valkey-py and the data layer's imports for its runtime/arch): needs the network; run before pulumi up
	@$(PY) -m scripts.invalidator_layer --stack $(STACK)

local: $(STAMP) ## The whole local environment: local-up, setup dev, seed, validate, audit rows verified
	@$(MAKE) --no-print-directory local-up MOTO_PORT=$(MOTO_PORT)
	@$(LOCAL_ENV) $(MAKE) --no-print-directory setup STACK=dev FORMAT=text TARGET=local
	@$(LOCAL_ENV) $(MAKE) --no-print-directory seed STACK=dev TARGET=local FORCE=
	@$(LOCAL_ENV) $(MAKE) --no-print-directory validate STACK=dev FORMAT=text TARGET=local
	@$(LOCAL_ENV) $(PY) -m scripts.local_servers audit-catch-up --stack dev
	@$(LOCAL_ENV) $(PY) -m scripts.setup_database --stack dev --connection-info --target local

clean: ## Remove build output (keeps .venv)
	rm -rf $(BUILD) .pytest_cache .mypy_cache .ruff_cache
