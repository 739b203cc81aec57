# `make demo` and `make test` set themselves up on a fresh machine: a virtualenv in .venv,
# the project installed into it (again only when pyproject.toml changes), and a Chromium.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test bench verify chromium promtool lint clean

demo: $(STAMP) chromium
	$(BIN)/goldwatch demo

test: $(STAMP) chromium promtool
	$(BIN)/python -m pytest

# `make bench` (all five, about 14 min on 2 cores) or `make bench BENCH="flows noise"`; writes
# reports/bench-<timestamp>.md. Pure Python (load generator included): nothing else to install.
BENCH ?=
bench: $(STAMP) chromium
	$(BIN)/python -m bench $(BENCH)

verify: $(STAMP) chromium
	./verify.sh

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .

chromium: $(STAMP)
	@$(BIN)/python -m runner.chromium --install >/dev/null

# promtool (Debian's prometheus package) checks the /metrics output in the suite.
promtool:
	@command -v promtool >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "goldwatch: installing promtool (Debian package prometheus)" >&2; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq prometheus) >/dev/null \
	    || echo "goldwatch: promtool could not be installed; its test will be skipped" >&2; \
	  else echo "goldwatch: no promtool; its test will be skipped" >&2; fi; }

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv \
	    && rm -rf $(VENV) && $(PYTHON) -m venv $(VENV); \
	  else echo "goldwatch: python3 -m venv failed: install python3-venv" >&2; exit 1; fi; }
	$(BIN)/python -m pip install -q --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

clean:
	rm -rf $(VENV) build *.egg-info
