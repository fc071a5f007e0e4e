# Every target installs what it needs: a fresh machine with python3, git and npm is enough.
SHELL := /bin/bash
PYTHON ?= python3
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
UV_VERSION := 0.13.9
SYNC := $(UV) sync --locked --extra e2e --extra release --extra cdk --extra server
export UV_PROJECT_ENVIRONMENT := $(abspath $(VENV))

.PHONY: help install setup postgres chromium test lint typecheck unit demo e2e-example bench clean

help: ## List the targets.
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet "uv==$(UV_VERSION)"

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

install: $(UV) ## Install steward and its tools into .venv (locked versions).
	$(SYNC)

setup: install node_modules/.installed postgres chromium ## install, plus GitHub's published material, the CDK CLI, PostgreSQL and Chromium for tests.

# The server tests start their own PostgreSQL cluster from these binaries (no system service).
postgres: ## PostgreSQL's server binaries (Debian's package), installed only when absent.
	@if ! command -v pg_ctl >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends postgresql; \
	fi

# The maintainers' page is tested in a real headless browser: Debian's, never a download.
chromium: ## Debian's Chromium (package chromium), installed only when absent.
	@if ! command -v chromium >/dev/null 2>&1; then \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core; \
	fi

lint: setup ## ruff (lint and format check) and the import contracts (lint-imports).
	$(UV) run --no-sync ruff check src tests bench
	$(UV) run --no-sync ruff format --check src tests bench
	$(UV) run --no-sync lint-imports --no-cache

typecheck: setup ## mypy --strict on src/.
	$(UV) run --no-sync mypy

unit: setup ## The pytest suite.
	$(UV) run --no-sync pytest -n 2 --dist worksteal -q -p no:cacheprovider

test: lint typecheck unit ## Everything CI runs: lint, types, the whole test suite.

demo: install ## steward's main job, offline, on this repository.
	$(UV) run --no-sync steward release notes --from-git
	$(UV) run --no-sync steward version next
	$(UV) run --no-sync steward changelog --unreleased

e2e-example: install ## The E2E example project (examples/e2e) on a local AWS emulator.
	cd examples/e2e && ../../$(VENV)/bin/pytest -n 2

bench: setup ## Benchmarks (prints ratios against peers measured in the same run).
	$(SYNC) --group bench
	$(UV) run --no-sync python -m bench

clean: ## Remove installed environments and caches.
	rm -rf $(VENV) $(TOOLS) node_modules .mypy_cache .ruff_cache .pytest_cache
