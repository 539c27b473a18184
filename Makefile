# The two commands:  `make demo`  runs the whole system on embedded services;  `make test`  runs the suite.
# Both create the virtual environment and install what is missing (system packages only when run as root).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint bench system-packages clean

demo: $(STAMP) system-packages
	$(BIN)/propwatch demo $(ARGS)

test: $(STAMP) system-packages
	$(BIN)/ruff check .
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .

bench: $(STAMP) system-packages
	$(BIN)/python -m benchmarks.ingest --duration 60 --json artifacts/bench-ingest.json

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Mosquitto is the project's broker of choice (an in-process Python broker is the fallback) and Debian's
# Chromium drives the browser tests. Installed only when missing and only when we are root with apt.
system-packages:
	@missing=""; \
	command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || missing="$$missing mosquitto"; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing system packages:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else \
	    echo "note: missing system packages:$$missing (install them for the full suite)"; \
	  fi; \
	fi

clean:
	rm -rf $(VENV) .data .pytest_cache .ruff_cache
