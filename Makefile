# Manufacturing Copilot capstone kit. `make demo` and `make test` set everything up themselves.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# torch 2.13.0 (CPU build) is pinned first so that nothing resolves to a multi-GB CUDA build.
TORCH_SPEC ?= torch==2.13.0
STAMP := $(VENV)/.setup-stamp

.PHONY: setup system-deps demo test test-verify test-reference test-fast lint format bench clean

setup: $(STAMP) system-deps

$(STAMP): pyproject.toml reference_solution/pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q "$(TORCH_SPEC)"
	$(BIN)/python -m pip install -q -e '.[dev]' -e './reference_solution[dev]'
	@# Byte-compile what pip installed, on every core (pip compiles one file at a time, or not at all
	@# with PIP_COMPILE=0): the test workers then never compile the same module side by side. A few
	@# packages ship files that are not Python 3 (templates, test data); those fail to compile, harmlessly.
	@$(BIN)/python -m compileall -qq -j0 $(VENV)/lib || true
	@touch $(STAMP)

system-deps:
	@bash scripts/system-deps.sh

demo: setup
	$(BIN)/python scripts/demo.py

# The kit's suites on TEST_WORKERS workers, sharing one grade cache folder (the `grade_cache` fixture of
# tests/conftest.py, see ARCHITECTURE.md); then the full `capstone verify` test, after them, given the
# same folder (--cache-dir), so it reads the grades they made instead of grading every mutant again;
# then the reference solution's own suite from inside it, on two workers too (both test folders are
# packages named `tests`; its servers take free ports, one set per worker).
GRADE_CACHE := $(CURDIR)/.grade-cache
# Four workers on two cores: the kit's tests wait on student programs, servers, timeouts and pip often
# enough that two more keep both cores busy (measured: 1.94 of 2 cores busy over the whole run).
TEST_WORKERS ?= 4
VERIFY_TEST := tests/instructor/test_verify.py::test_capstone_verify_passes_on_this_kit
# Temporary files go to a fresh folder in memory where the machine has one (scripts/test-tmpdir.sh),
# removed at the end whatever the outcome.
test: setup
	rm -rf $(GRADE_CACHE)
	@tmp="$$(bash scripts/test-tmpdir.sh)"; trap 'rm -rf "$$tmp"' EXIT; export TMPDIR="$$tmp"; \
	echo "temporary files: $$tmp"; set -x; \
	CAPSTONE_TEST_GRADE_CACHE=$(GRADE_CACHE) $(BIN)/python -m pytest tests -q -n $(TEST_WORKERS) -p no:cacheprovider \
	  --durations=25 --deselect $(VERIFY_TEST) && \
	$(MAKE) --no-print-directory -j2 test-verify test-reference
	rm -rf $(GRADE_CACHE)

# After the kit's suites, side by side: the verify test (it reads the grades the suites made) and the
# reference solution's own suite.
test-verify:
	CAPSTONE_TEST_GRADE_CACHE=$(GRADE_CACHE) $(BIN)/python -m pytest $(VERIFY_TEST) -q -p no:cacheprovider --durations=1

test-reference:
	cd reference_solution && ../$(BIN)/python -m pytest -q -n 2 -p no:cacheprovider --durations=10

test-fast: setup
	$(BIN)/python -m pytest tests -q -n 2 -m "not slow"

lint: setup
	$(BIN)/ruff check graders tests benchmarks scripts reference_solution hooks
	$(BIN)/mypy

format: setup
	$(BIN)/ruff check --fix graders tests benchmarks scripts reference_solution hooks
	$(BIN)/ruff format graders tests benchmarks scripts hooks

bench: setup
	$(BIN)/python benchmarks/grading_bench.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .demo .grade-cache
