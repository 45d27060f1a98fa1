# The targets CI runs are the ones developers run. `make check` is the README's test command.
PYTHON ?= python3

.PHONY: check test-env lint typecheck test test-fast demo bench bench-quick reference

check: test-env lint typecheck test

test-env:
	./scripts/test-env.sh

lint:
	$(PYTHON) -m ruff check townhall tests bench
	$(PYTHON) -m ruff format --check townhall tests bench

typecheck:
	$(PYTHON) -m mypy

# Two runs: Playwright's sync API keeps an event loop of its own, which must never share a
# process with the async tests.
test:
	$(PYTHON) -m pytest -m "not browser"
	$(PYTHON) -m pytest -m browser

# Everything but the browser and slow tests, for a quick loop while coding.
test-fast:
	$(PYTHON) -m pytest -m "not browser and not slow" -x -q

demo:
	$(PYTHON) -m pip install -e . && townhall serve --demo

bench:
	$(PYTHON) bench/run.py

bench-quick:
	$(PYTHON) bench/run.py --quick

reference:
	townhall config-reference > docs/config.md
