# porta25 — `make run` and `make test` work on a fresh clone (see README.md).
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test bench lint translations messages install install-test system-libs clean

# WeasyPrint renders the PDF records with Pango and subsets fonts with HarfBuzz:
# Debian's packages, installed when missing (as root; otherwise it says what to install).
SYSTEM_LIBS := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0
system-libs:
	@dpkg -s $(SYSTEM_LIBS) >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ]; then \
			(apt-get install -y -qq --no-install-recommends $(SYSTEM_LIBS) >/dev/null 2>&1 || \
			 (apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
			  apt-get install -y -qq --no-install-recommends $(SYSTEM_LIBS))); \
		else echo "porta25 needs: sudo apt-get install $(SYSTEM_LIBS)"; exit 1; fi; }

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check pip==26.3

# Dependency groups of pyproject.toml; the stamp re-installs when the pins change.
$(VENV)/.app: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --group app
	touch $@

$(VENV)/.test: pyproject.toml $(VENV)/.app
	$(BIN)/pip install --quiet --group test
	touch $@

install: $(VENV)/.app translations system-libs
install-test: $(VENV)/.test translations system-libs

# Message catalogues are compiled at install, never committed. Message ids are the
# Portuguese texts; translations/en holds the English ones.
translations: $(VENV)/.app
	$(BIN)/pybabel compile -d translations --statistics

# After changing user-visible text: extract and merge, then translate the new entries.
messages: $(VENV)/.app
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --no-location --sort-output \
		--ignore-dirs='.* _* tests bench migrations' -o translations/messages.pot .
	$(BIN)/pybabel update -i translations/messages.pot -d translations --no-fuzzy-matching --ignore-obsolete

# The portal, the delivery worker and the demo enforcement receiver, together;
# Ctrl-C stops all three. Approve a demo case and watch instance/enforcer/state.json.
# Without AUDIT_SIGNING_KEY the worker signs checkpoints with the demo's development key.
run: install
	$(BIN)/flask --app app db upgrade
	$(BIN)/flask --app app demo
	@echo
	@echo "porta25 is at http://localhost:$(PORT)/  (Ctrl-C stops everything)"
	@echo "demo receiver: 127.0.0.1:8025, state in instance/enforcer/state.json"
	@set -a; . instance/enforcer-demo.env; \
	if [ -z "$$AUDIT_SIGNING_KEY" ] && [ -f instance/audit-demo.env ]; then \
		. instance/audit-demo.env; fi; set +a; \
	export ENFORCER_ALLOWLIST_URL=http://127.0.0.1:$(PORT)/api/v1/enforcement/allowlist \
		ENFORCER_STATE_DIR=instance/enforcer ENFORCER_RESYNC_INTERVAL=30; \
	trap 'kill $$(jobs -p) 2>/dev/null' EXIT INT TERM; \
	$(BIN)/flask --app app worker & \
	$(BIN)/python -m enforcer & \
	SESSION_COOKIE_SECURE=$${SESSION_COOKIE_SECURE:-false} \
		$(BIN)/flask --app app run --host $(HOST) --port $(PORT)

lint: $(VENV)/.test
	$(BIN)/ruff check .

# Two processes, each taking whole test files (module fixtures stay shared): about two
# thirds of the serial time on a 2-core machine. `.venv/bin/pytest tests/…` runs serially.
test: install-test lint
	$(BIN)/pytest -n auto --maxprocesses=2 --dist loadfile

bench: install-test
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache
