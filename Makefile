# Albumen: `make run` starts the server on the embedded default; `make test` runs the tests.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
UV := $(BIN)/uv
STAMP := $(VENV)/.synced
FRONTEND := src/albumen/frontend
NODE_STAMP := $(FRONTEND)/node_modules/.installed

.PHONY: setup system run test check lint typecheck bench fuzz screenshots clean

setup: $(STAMP) $(NODE_STAMP)

$(STAMP): pyproject.toml uv.lock
	@command -v $(PYTHON) >/dev/null || { echo "needs $(PYTHON) (Debian: apt-get install python3 python3-venv)"; exit 1; }
	@test -x $(UV) || { $(PYTHON) -m venv $(VENV) && $(BIN)/pip install --quiet --disable-pip-version-check 'uv>=0.5'; }
	$(UV) sync --frozen --compile-bytecode --python $(VENV)/bin/python
	@touch $(STAMP)

# The web app's two browser packages (and axe-core for its tests), from the npm registry.
$(NODE_STAMP): $(FRONTEND)/package.json $(FRONTEND)/package-lock.json
	@command -v npm >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null \
		&& { apt-get install -y --no-install-recommends nodejs npm >/dev/null \
		|| { apt-get update >/dev/null && apt-get install -y --no-install-recommends nodejs npm >/dev/null; }; }; } \
		|| { echo "needs npm for the web app (Debian: apt-get install nodejs npm)"; exit 1; }
	cd $(FRONTEND) && npm ci --no-audit --no-fund --loglevel=error
	@touch $(NODE_STAMP)

# Debian packages some tests use: promtool checks the metrics and alert rules, Chromium runs the
# browser tests, redis-server backs the queue and cache tests, nginx is the edge cache's test.
# Installed where missing when run as root; otherwise one line says what to install (those
# tests are skipped, each saying why).
SYSTEM_PACKAGES := prometheus:promtool chromium:chromium redis-server:redis-server nginx:nginx
APT := apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends

system:
	@missing=""; for package in $(SYSTEM_PACKAGES); do \
		command -v "$${package#*:}" >/dev/null || missing="$$missing $${package%%:*}"; done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing$$missing for the tests"; \
		$(APT) $$missing >/dev/null 2>&1 || { apt-get update >/dev/null 2>&1 && $(APT) $$missing >/dev/null 2>&1; } \
		|| echo "could not install$$missing: the tests that need them are skipped"; \
	else echo "the tests that need them are skipped: install$$missing (Debian: apt-get install$$missing)"; fi

run: setup
	$(BIN)/albumen serve

test: setup system
	$(BIN)/pytest -q

lint: setup
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/lint-imports
	cd $(FRONTEND) && node_modules/.bin/biome ci --no-errors-on-unmatched .

typecheck: setup
	$(BIN)/mypy src tests

check: lint typecheck test

bench: setup
	$(BIN)/python -m bench

# The fuzzers and schemathesis at length, with new inputs every run (make check runs a bounded,
# repeatable pass of the same tests).
fuzz: setup
	ALBUMEN_FUZZ_EXAMPLES=5000 ALBUMEN_FUZZ_RANDOM=1 ALBUMEN_SCHEMA_EXAMPLES=300 \
		ALBUMEN_SCHEMA_RANDOM=1 $(BIN)/pytest -q tests/unit/test_fuzz.py tests/api/test_schema.py

# The browser tests, then the screenshots they took of each page into docs/screenshots/ (what
# docs/web.md shows).
screenshots: setup system
	$(BIN)/pytest -q tests/browser
	$(BIN)/python -m tests.browser.docs_screenshots

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache $(FRONTEND)/node_modules
