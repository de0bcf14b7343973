# Nudge: `make run` starts the bot, `make test` runs the tests. Everything else is optional.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint typecheck bench check install clean fake-telegram browser

run: $(STAMP)  ## set up everything and start the bot (SQLite, web chat on http://127.0.0.1:8080/)
	$(BIN)/nudge db upgrade
	$(BIN)/nudge run --no-migrate

test: $(STAMP) browser  ## the whole test suite (SQLite + the local PostgreSQL + headless Chromium)
	$(BIN)/pytest -q

lint: $(STAMP)  ## ruff and mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy bot

typecheck: $(STAMP)
	$(BIN)/mypy bot

bench: $(STAMP)  ## throughput figures (see bench/README.md)
	$(BIN)/python bench/inbound.py
	$(BIN)/python bench/outbound.py
	$(BIN)/python bench/kb.py

check: $(STAMP)  ## validate config.yaml and templates
	$(BIN)/nudge check

fake-telegram: $(STAMP)  ## a fake Telegram Bot API on http://127.0.0.1:8081 (token 123456:TEST)
	$(BIN)/nudge fake-telegram --port 8081 --token 123456:TEST

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Headless Chromium for the browser tests comes from Debian (a `playwright install` download
# is not needed): installed only when missing and when we are allowed to install packages.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing Debian's chromium for the browser tests"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	      || echo "could not install chromium: the browser tests will be skipped"; \
	  else echo "chromium is missing: the browser tests will be skipped"; fi; }

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache *.egg-info
