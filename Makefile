# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export APHUB_DATA_DIR ?= .aphub

.PHONY: run test install lint typecheck pytest pgbouncer contracts bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml assets/package-lock.json
	$(BIN)/pip install --quiet -e '.[dev]'
	npm ci --prefix assets --no-audit --no-fund --loglevel=error
	touch $(STAMP)

install: $(STAMP)

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

test: lint typecheck pytest

# Hub vs bare reference on 100,000 children (bench/README.md); BENCH_ARGS="--workers 2" etc.
bench: install
	$(BIN)/python -m bench.run $(BENCH_ARGS)

contracts: install
	$(BIN)/aphub openapi --out openapi

clean:
	rm -rf $(VENV) assets/node_modules .mypy_cache .ruff_cache
