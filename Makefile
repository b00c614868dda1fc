# Targets used by README.md and .ci/run. PYTHON may point at a virtual environment's interpreter.
PYTHON ?= python
PIP := $(PYTHON) -m pip

.PHONY: install install-all test test-fast lint format bench clean

install:  ## the core package: data, evaluation, CLI (no Spark, PyTorch or TensorFlow)
	$(PIP) install -e .

install-all:  ## everything the test suite needs; torch first, from the CPU wheel (a bare torch pulls CUDA)
	$(PIP) install "torch==2.13.0"
	$(PIP) install -e ".[all]"

test:  ## lint, type check, the whole test suite and the notebooks (real-data tests need MOVIELENS_DATA_DIR)
	$(PYTHON) -m ruff check src tests benchmarks
	$(PYTHON) -m mypy
	$(PYTHON) -m pytest --nbmake tests notebooks

test-fast:  ## skip the slow tests
	$(PYTHON) -m pytest -m "not slow"

lint:  ## ruff and the type checker
	$(PYTHON) -m ruff check src tests benchmarks
	$(PYTHON) -m mypy

format:
	$(PYTHON) -m ruff format src tests benchmarks

bench:  ## every benchmark under benchmarks/ in its quick variant (see benchmarks/README.md)
	$(PYTHON) benchmarks/bench_load.py --quick
	$(PYTHON) benchmarks/bench_metrics.py --users 20000 --test 600000
	$(PYTHON) benchmarks/bench_ease.py
	$(PYTHON) benchmarks/bench_implicit_wrappers.py --repeats 1

clean:
	rm -rf build dist .pytest_cache .ruff_cache src/*.egg-info
