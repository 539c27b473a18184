# The two commands:  `make demo`  runs the whole system on embedded services;  `make test`  runs the suite.
# Both create the virtual environment and install what is missing (system packages only when run as root).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
ASSETS := node_modules/.installed

.PHONY: demo test lint bench demo-packages test-packages apt-install clean

demo: demo-packages $(STAMP) $(ASSETS)
	$(BIN)/propwatch demo $(ARGS)

test: test-packages $(STAMP) $(ASSETS)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .

bench: $(STAMP) demo-packages
	$(BIN)/python -m benchmarks.ingest --duration 60 --json artifacts/bench-ingest.json

# A line per step, and pip's own lines per package (no --quiet): the first install takes a couple of minutes.
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || { echo "creating the virtual environment in $(VENV)"; $(PYTHON) -m venv $(VENV); }
	@echo "updating pip"
	@$(BIN)/python -m pip install --quiet --upgrade pip
	@echo "installing propwatch and its dependencies (about two minutes the first time)"
	@$(BIN)/python -m pip install -e '.[dev]'
	@touch $(STAMP)
	@echo "installed."

# Front-end assets the app serves itself (ECharts) and the accessibility scanner the browser tests inject
# (axe-core), exactly as package-lock.json pins them; control rooms run on closed networks, so no CDN.
$(ASSETS): package.json package-lock.json
	@echo "installing front-end assets (npm ci)"
	npm ci --no-audit --no-fund --loglevel=error
	touch $(ASSETS)

# System packages, installed only when missing and only when we are root with apt. Mosquitto is the broker of
# choice (an in-process Python broker is the fallback); npm installs the front-end assets above; Debian's
# Chromium drives the browser tests, and the WenQuanYi font lets their screenshots show Chinese.
DEMO_PACKAGES := mosquitto:/usr/sbin/mosquitto npm:/usr/bin/npm
TEST_PACKAGES := $(DEMO_PACKAGES) chromium:/usr/bin/chromium fonts-wqy-microhei:/usr/share/fonts/truetype/wqy/wqy-microhei.ttc

demo-packages:
	@$(MAKE) --no-print-directory apt-install PACKAGES="$(DEMO_PACKAGES)"

test-packages:
	@$(MAKE) --no-print-directory apt-install PACKAGES="$(TEST_PACKAGES)"

apt-install:
	@missing=""; \
	for entry in $(PACKAGES); do \
	  [ -e "$${entry#*:}" ] || missing="$$missing $${entry%%:*}"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing system packages:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else \
	    echo "note: missing system packages:$$missing (install them for the full suite)"; \
	  fi; \
	fi

clean:
	rm -rf $(VENV) node_modules .data .pytest_cache .ruff_cache
