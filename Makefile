# One entry point for every gate. `make demo` and `make test` work on a fresh machine.
PY := .venv/bin/python
PIP := .venv/bin/pip
STAMP := .venv/.installed

.PHONY: demo test check lint format typecheck setup system-deps bench clean

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv .venv
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

system-deps:
	bash scripts/system-deps.sh

# The demo also saves its quality report and a screenshot of it into docs/ (for the README).
demo: setup
	WATCHKEEPER_DEMO_REPORT_DIR=docs .venv/bin/watchkeeper demo

test: setup system-deps
	bash scripts/start-services.sh
	$(PY) -m pytest -q -p no:cacheprovider -n 2 $(PYTEST_ARGS)

lint: setup
	.venv/bin/ruff format --check src tests bench
	.venv/bin/ruff check src tests bench

format: setup
	.venv/bin/ruff format src tests bench
	.venv/bin/ruff check --fix src tests bench

typecheck: setup
	.venv/bin/mypy src

check: lint typecheck test

bench: setup system-deps
	$(PY) bench/ingest_vs_alertmanager.py

clean:
	rm -rf .venv build *.egg-info
