# `make demo` and `make test` set themselves up on a fresh machine: a virtualenv in .venv,
# the project installed into it (again only when pyproject.toml changes), and a Chromium.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test bench verify chromium lint clean

demo: $(STAMP) chromium
	$(BIN)/goldwatch demo

test: $(STAMP) chromium
	$(BIN)/python -m pytest

bench: $(STAMP) chromium
	$(BIN)/python -m bench

verify: $(STAMP) chromium
	./verify.sh

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .

chromium: $(STAMP)
	@$(BIN)/python -m runner.chromium --install >/dev/null

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
