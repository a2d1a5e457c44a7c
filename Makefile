# The two commands of the README: `make demo` (set up, then run the main job) and `make test`.
VENV ?= .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=

.PHONY: setup demo test test-fast lint bench clean

setup:
	@bash scripts/setup.sh

demo: setup
	$(BIN)/transferkit demo --out transferkit-demo

test: setup
	$(BIN)/pytest $(PYTEST_ARGS)

test-fast: setup
	$(BIN)/pytest -m "not integration" $(PYTEST_ARGS)

lint: setup
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy src/transferkit

bench: setup
	$(BIN)/python bench/bench_extraction.py

clean:
	rm -rf transferkit-demo transferkit-evaluation .pytest_cache
