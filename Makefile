# Every target sets up what it needs on a fresh machine: a virtual environment in .venv
# with Créneau and its development tools installed, rebuilt when pyproject.toml changes.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEMO   := .demo

.PHONY: demo test bench lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Créneau needs Python 3.11 or newer"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	rm -rf $(DEMO) && mkdir -p $(DEMO)
	$(BIN)/creneau import examples/nec-metz-2023.toml --store $(DEMO)/metz.db --actor demo
	$(BIN)/creneau solve --store $(DEMO)/metz.db --actor demo --workers 2 --seed 1
	$(BIN)/creneau accept --store $(DEMO)/metz.db --actor demo
	$(BIN)/creneau programme --store $(DEMO)/metz.db
	$(BIN)/creneau report --store $(DEMO)/metz.db --html $(DEMO)/rapport.html
	$(BIN)/creneau verify --store $(DEMO)/metz.db

test: $(STAMP)
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python benchmarks/store_bench.py

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

clean:
	rm -rf $(VENV) $(DEMO) .pytest_cache .hypothesis .benchmarks *.egg-info
