# Stagegate: `make run` for a local instance with demo data, `make test` for the whole suite.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell sha1sum requirements.txt | cut -c1-12)

PORT ?= 8000
FAKE_GITLAB_PORT ?= 8929
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/stagegate
DEMO_ENV := DEBUG=1 \
	GITLAB_URL=http://127.0.0.1:$(FAKE_GITLAB_PORT) GITLAB_TOKEN=stagegate-bot-token \
	GITLAB_PROJECT=ai-group/proposals GITLAB_WEBHOOK_SECRET=demo-webhook-secret \
	GITLAB_OAUTH_CLIENT_ID=stagegate-oauth-app GITLAB_OAUTH_SECRET=stagegate-oauth-secret

.PHONY: install run test lint bench load chaos clean

$(STAMP): requirements.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	@rm -f $(VENV)/.installed-* && touch $@

# Test-only JavaScript (axe-core for the accessibility checks), pinned by package-lock.json.
NODE_STAMP := node_modules/.installed-$(shell sha1sum package-lock.json | cut -c1-12)

$(NODE_STAMP): package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

install: $(STAMP) $(NODE_STAMP)

run: install
	@.ci/services.sh redis || { echo "Stagegate needs Redis for its worker: see above."; exit 1; }
	$(DEMO_ENV) $(BIN)/python manage.py migrate --no-input -v0
	@$(DEMO_ENV) $(BIN)/python manage.py seed_demo
	@mkdir -p var
	@trap 'kill 0' EXIT INT TERM; \
	$(BIN)/python -m gitlab_fake --demo --port $(FAKE_GITLAB_PORT) \
		--hook-url http://127.0.0.1:$(PORT)/gitlab/webhook/ --hook-token demo-webhook-secret > var/fake-gitlab.log 2>&1 & \
	$(DEMO_ENV) $(BIN)/celery -A config worker --loglevel=INFO --concurrency=2 > var/worker.log 2>&1 & \
	$(DEMO_ENV) $(BIN)/celery -A config beat --loglevel=INFO --schedule var/celerybeat-schedule > var/beat.log 2>&1 & \
	echo; echo "Stagegate: http://127.0.0.1:$(PORT)/  (worker, beat and a demo GitLab at :$(FAKE_GITLAB_PORT) log to var/)"; echo; \
	$(DEMO_ENV) $(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

# The suite runs in two processes: most of it waits on browsers, the worker and GitLab round trips, not on a core.
test: install
	@.ci/services.sh postgres redis chromium
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} $(BIN)/pytest -n 2

lint: install
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

# Each script runs as a module of the bench package from the project root, so no script's name can
# shadow an installed package or an app. They make their own databases on BENCH_DATABASE_URL's server
# (sg_bench by default), never the test suite's; `python -m bench.<name> --help` says what each measures.
bench: install
	@.ci/services.sh postgres redis
	for script in pages markdown reviews dashboard sync; do \
		$(BIN)/python -m bench.$$script || exit 1; \
	done

load: install
	@.ci/services.sh postgres redis
	$(BIN)/python -m bench.load

chaos: install
	@.ci/services.sh postgres redis
	$(BIN)/python -m bench.chaos

clean:
	rm -rf $(VENV) var db.sqlite3 db.sqlite3-wal db.sqlite3-shm .pytest_cache .ruff_cache
