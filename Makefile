# zhongcao: `make demo` runs the baseline scenario, `make test` runs the tests.
# Both create .venv with the project installed if it is missing or out of date.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint format bench baseline clean

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "zhongcao needs Python >= 3.11; set PYTHON=python3.11")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

demo: $(STAMP)
	@out=$$($(BIN)/zhongcao run scenarios/baseline.yaml) || exit $$?; \
	printf '%s\n' "$$out"; \
	folder=$$(printf '%s\n' "$$out" | tail -n 1); \
	printf '\nResults are in %s\nPlots are in %s/figures\n' "$$folder" "$$folder"

test: $(STAMP)
	$(BIN)/python -m pytest

# Benchmarks are not part of the tests: they write BENCHMARKS.md (about 20 minutes): the
# platform's ratios at three sizes, the sellers doubled, and the consumers on 2 Dask workers.
bench: $(STAMP)
	$(BIN)/zhongcao bench --scenario scenarios/platform.yaml --consumers 100000 --consumers 1000000 --consumers 10000000 --sellers 1 --sellers 2 --dask local:2 --steps 3 --warmup 2 --mesa --out BENCHMARKS.md

# The pinned regression results (tests/baseline/*.json), recomputed on purpose: commit the
# refresh on its own and say in the message which change of behaviour it records.
baseline: $(STAMP)
	$(BIN)/python tests/baseline/regression.py --refresh

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) results .pytest_cache .ruff_cache .hypothesis
