# Quick start targets: each sets up .venv on a fresh machine and then does its job.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup sample test lint bench

$(STAMP): pyproject.toml setup.py
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q -e '.[dev]'
	# an editable install leaves etl uncompiled; with PYTHONDONTWRITEBYTECODE set, every start
	# would compile it again (≈0.1-0.2 s of each command). A stale .pyc is only recompiled.
	$(BIN)/python -m compileall -q etl
	touch $(STAMP)

setup: $(STAMP)

## Run the main job on the bundled vendor-a sample: V2.1 files, rejects, findings, manifest.
## Exit 1 (blocking findings) is the expected result: the sample holds deliberately broken records.
sample: $(STAMP)
	$(BIN)/chukan run --vendor vendor-a --dump fixtures/vendor-a/sample --out out/sample --replace; \
	rc=$$?; if [ $$rc -eq 1 ]; then \
	  echo "blocking findings reported, as expected for this sample: see out/sample/findings.csv"; \
	  exit 0; fi; exit $$rc

## Lint, type-check, check the import contracts (pyproject.toml [tool.importlinter]) and run the
## test suite (pytest exit 5, "no tests", counts as failure).
test: $(STAMP)
	$(BIN)/ruff check etl tests fixtures benchmarks
	$(BIN)/ruff format --check etl tests fixtures benchmarks
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache
	$(BIN)/python -m pytest; rc=$$?; if [ $$rc -eq 5 ]; then echo "pytest collected no tests" >&2; exit 1; fi; exit $$rc

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_run.py
