# Two commands: `make run` serves the app on SQLite with the sample glossary,
# `make test` runs the test suite. Both set up the virtual environment first.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
# Server processes; each handles one request at a time and holds at most one
# database connection for requests (plus one for a moment every 30 s, while it
# writes its usage counts), so WORKERS bounds the connections too.
WORKERS ?= $(shell $(PYTHON) -c 'import os; print(os.cpu_count() or 2)')
# Test processes; each gets its own test database (pytest-xdist).
TEST_WORKERS ?= auto

.PHONY: worker run serve dev test test-fast contract lint format setup clean new-term docs

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (set PYTHON=...)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.runtime

setup: $(VENV)/.runtime

# Migrate, load the sample glossary into an empty database (never over what
# users changed), then serve with the production server.
run: $(VENV)/.runtime
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py import_terms fixtures --if-empty
	$(MAKE) --no-print-directory serve

# The production server alone (manage.py serve, terms/supervisor.py): granian,
# WORKERS processes, access log, graceful shutdown on SIGTERM/SIGINT (requests
# in flight finish, for up to 30 s); beside it the process that keeps
# annotate's matcher and the similar-terms index for all of them (`manage.py
# derived`, on a Unix socket in .run/) and the task worker that delivers
# webhooks (WORKER=0 leaves it out). A process that dies is started again:
# granian respawns its workers, the supervisor the rest. Without
# DJANGO_SECRET_KEY one key is made for this run and shared by every worker
# (sessions then end when the server stops).
serve: $(VENV)/.runtime
	exec $(BIN)/python manage.py serve --host $(HOST) --port $(PORT) \
		--workers $(WORKERS) $(if $(filter 0,$(WORKER)),--no-worker)

# The task worker alone (make serve starts one): it delivers webhooks
# (terms/webhooks.py). Deliveries queue in the database while it is not running
# and go out, in order, once it is.
worker: $(VENV)/.runtime
	$(BIN)/python manage.py task_worker --interval 1

# Django's development server with autoreload (not for production).
dev: $(VENV)/.runtime
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py import_terms fixtures --if-empty
	DJANGO_DEBUG=$${DJANGO_DEBUG:-1} $(BIN)/python manage.py runserver $(HOST):$(PORT)

# A new term's YAML skeleton: make new-term NAME="data drift" [DIR=folder]
new-term: $(VENV)/.runtime
	@test -n "$(NAME)" || { echo 'usage: make new-term NAME="term name" [DIR=folder]'; exit 2; }
	$(BIN)/python manage.py new_term "$(NAME)" --dir "$(or $(DIR),.)"

test: $(VENV)/.dev
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

# The quick loop while working: everything but the tests marked slow (servers
# of their own, browsers, whole corpora); make test runs them all.
test-fast: $(VENV)/.dev
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile -m "not contract and not slow" $(PYTEST_ARGS)

# The API against its OpenAPI schema (Schemathesis, a few minutes; CI runs it).
contract: $(VENV)/.dev
	$(BIN)/pytest -n 2 -m contract $(PYTEST_ARGS)

# The documentation site (mkdocs.yml) into site/; --strict as CI builds it.
$(VENV)/.docs: requirements-docs.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-docs.txt
	touch $@

docs: $(VENV)/.docs
	$(BIN)/mkdocs build --strict

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles test-artifacts site
