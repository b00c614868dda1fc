# Targets used by README.md and .ci/run. PYTHON may point at a virtual environment's interpreter.
PYTHON ?= python
PIP := $(PYTHON) -m pip
# NO_MKDOCS_2_WARNING: mkdocs-material's banner about MkDocs 2.0, printed on every build
MKDOCS := NO_MKDOCS_2_WARNING=1 $(PYTHON) -m mkdocs

.PHONY: install install-all test test-fast lint format bench notebooks docs clean

install:  ## the core package: data, evaluation, CLI (no Spark, PyTorch or TensorFlow)
	$(PIP) install -e .

install-all:  ## everything the test suite needs; torch first, from the CPU wheel (a bare torch pulls CUDA)
	$(PIP) install "torch==2.13.0"
	$(PIP) install -e ".[all]"

test:  ## ruff, mypy, all tests (each notebook executed once; real data: MOVIELENS_DATA_DIR), the site
	$(PYTHON) -m ruff check src tests benchmarks hooks
	$(PYTHON) -m mypy
	$(PYTHON) -m pytest
	$(MKDOCS) build --strict

test-fast:  ## skip the slow tests
	$(PYTHON) -m pytest -m "not slow"

lint:  ## ruff and the type checker
	$(PYTHON) -m ruff check src tests benchmarks hooks
	$(PYTHON) -m mypy

format:
	$(PYTHON) -m ruff format src tests benchmarks hooks

bench:  ## every benchmark under benchmarks/ in its quick variant (see benchmarks/README.md)
	$(PYTHON) benchmarks/bench_load.py --quick
	$(PYTHON) benchmarks/bench_metrics.py --users 20000 --test 600000
	$(PYTHON) benchmarks/bench_ease.py
	$(PYTHON) benchmarks/bench_implicit_wrappers.py --repeats 1

# Each notebook's executed copy (rendered by the site): executed again when the notebook is newer.
# The notebook tests write them; `make test` executes every notebook anyway.
NOTEBOOKS := $(wildcard notebooks/*.ipynb)
EXECUTED_NOTEBOOKS := $(patsubst notebooks/%,build/notebooks/%,$(NOTEBOOKS))

notebooks: $(EXECUTED_NOTEBOOKS)  ## execute the notebooks whose executed copy is missing or stale

build/notebooks/%.ipynb: notebooks/%.ipynb
	$(PYTHON) -m pytest -q tests/test_notebooks.py -k "test_executes and $*.ipynb"

docs: notebooks  ## serve the documentation site on http://127.0.0.1:8000/ (needs the docs extra)
	$(MKDOCS) serve

clean:
	rm -rf build dist .pytest_cache .ruff_cache src/*.egg-info
