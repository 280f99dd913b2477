# Two commands do all the set-up: `make run` starts the line, `make test` runs the suite.
PYTHON ?= python3
VENV ?= .venv
BIN := $(CURDIR)/$(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
PYTEST_ARGS ?=

CATALOGS := $(patsubst %.po,%.mo,$(wildcard app/translations/*/LC_MESSAGES/messages.po))
KEYWORDS := -k _ -k _l -k lazy_gettext -k ngettext:1,2 -k lazy_ngettext:1,2

.PHONY: install run test lint migrate urls catalogs bench drills mutants clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@rm -f $(VENV)/.installed-*
	@touch $@

install: $(STAMP) $(CATALOGS)

# The compiled catalogs are built here from their .po files (git keeps only the .po).
%.mo: %.po $(STAMP)
	$(BIN)/pybabel compile --statistics -i $< -o $@

# After changing words in the code or templates: the template, then every catalog, updated.
catalogs: install
	$(BIN)/pybabel extract -F babel.cfg $(KEYWORDS) --no-location --sort-output \
	  --project=Mindfuse --copyright-holder=Mindfuse -o app/translations/messages.pot .
	$(BIN)/pybabel update -i app/translations/messages.pot -d app/translations \
	  --width=100 --no-fuzzy-matching  # the template has no locations, so neither do catalogs
	$(MAKE) install

migrate: install
	$(BIN)/flask --app app db upgrade

urls: install
	@$(BIN)/mindfuse urls

# Web, worker and scheduler on the embedded SQLite and a local Redis started here; without
# Twilio credentials, the offline twin stands in for Twilio (`mindfuse call` dials in). All of
# it runs in this one process tree: Ctrl-C (or SIGTERM) stops it whole. `.env` is read.
run: install
	@$(if $(PORT),PORT=$(PORT)) exec $(BIN)/mindfuse line

test: install
	$(BIN)/ruff check app workers twin tests bench
	$(BIN)/lint-imports --no-cache
	@scripts/ensure-chromium
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Benchmarks and fault drills print their figures and append them to bench/RESULTS.md. Point
# DATABASE_URL at PostgreSQL and REDIS_URL at a spare Redis db index to measure as in production:
#   DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test REDIS_URL=redis://127.0.0.1:6379/4 make bench
bench: install
	@command -v wrk >/dev/null || apt-get install -y --no-install-recommends wrk
	$(BIN)/python -m bench.wrk_webhooks
	$(BIN)/python -m bench.webhook_latency
	$(BIN)/python -m bench.profile_incoming
	$(BIN)/python -m bench.herd 2000 60
	$(BIN)/python -m bench.fusing_rotation 500 2000
	$(BIN)/python -m bench.simulated_day  # 3 volumes x 3 configurations, about 15 minutes
	$(BIN)/python -m bench.day_ceiling  # the same day's policy with no latency, 2 minutes

drills: install
	$(BIN)/python -m bench.drills.redis_restart
	$(BIN)/python -m bench.drills.worker_killed
	$(BIN)/python -m bench.drills.postgres_cut
	$(BIN)/python -m bench.drills.twilio_errors
	$(BIN)/python -m bench.drills.sentinel_failover
	@command -v nginx >/dev/null || apt-get install -y --no-install-recommends nginx-light
	$(BIN)/python -m bench.drills.hosts 2000 60 300

# Deliberate bugs in the pool, pairing, the signature check, SMS sending, the lineup and log
# redaction ([tool.mutmut] in pyproject.toml), each run against the tests that should catch it.
# Not part of CI; its last score is in bench/RESULTS.md. Point it at real servers as for bench.
mutants: install
	rm -rf mutants
	$(BIN)/mutmut run --max-children 2
	$(BIN)/mutmut results

# pip-audit looks every installed package up in PyPI's advisory data; a known vulnerability
# fails lint. One in a package the line cannot upgrade (pinned by another dependency, no fixed
# release yet) goes below as --ignore-vuln ID with the reason, and is looked at again each
# release; there is none today. A package the registry cannot be asked about is listed as
# skipped but does not fail lint, so lint still runs where PyPI's JSON API is out of reach.
lint: install
	$(BIN)/ruff check app workers twin tests bench
	$(BIN)/lint-imports --no-cache
	$(BIN)/ruff format --check app workers twin tests bench
	$(BIN)/pip-audit --skip-editable --progress-spinner off

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info mutants $(CATALOGS)
