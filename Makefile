# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export APHUB_DATA_DIR ?= .aphub

.PHONY: run test install lint typecheck pytest browser pgbouncer contracts bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml assets/package-lock.json
	$(BIN)/pip install --quiet -e '.[dev]'
	npm ci --prefix assets --no-audit --no-fund --loglevel=error
	touch $(STAMP)

install: $(STAMP)

# the demo's webhook subscription delivers to `aphub webhooks listen` on loopback
run: export APHUB_WEBHOOK_ALLOWLIST ?= 127.0.0.1
run: install
	$(BIN)/aphub migrate
	$(BIN)/aphub demo --if-empty
	$(BIN)/aphub serve

lint: install
	$(BIN)/ruff check src tests bench migrations
	$(BIN)/ruff format --check src tests bench migrations

typecheck: install
	$(BIN)/mypy

# PgBouncer for tests/test_pgbouncer.py where the machine lets us install it (Debian's
# package); otherwise that test is skipped, saying why
pgbouncer:
	@command -v pgbouncer >/dev/null || test -x /usr/sbin/pgbouncer || \
		(apt-get install -y -qq pgbouncer >/dev/null 2>&1 && echo "installed pgbouncer") || \
		echo "pgbouncer not installed: tests/test_pgbouncer.py will be skipped"

pytest: install pgbouncer
	$(BIN)/pytest

# The oversight page's browser test drives Debian's chromium (Playwright cannot download
# its own browser here); installed when missing and this machine lets us, else skipped.
browser:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
	  { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null 2>&1 && \
	    echo "installed chromium for the browser test"; } || \
	  echo "chromium is not installed: the browser test will be skipped (apt-get install chromium)"

test: lint typecheck browser pytest

# Hub vs bare reference on 100,000 children (bench/README.md); BENCH_ARGS="--workers 2" etc.
bench: install
	$(BIN)/python -m bench.run $(BENCH_ARGS)

contracts: install
	$(BIN)/aphub openapi --out openapi

clean:
	rm -rf $(VENV) assets/node_modules .mypy_cache .ruff_cache
