# Every target sets up what it needs on a fresh machine: a virtual environment in .venv,
# rebuilt when pyproject.toml changes. `make demo` installs what Créneau needs to run;
# `make test` adds the development tools (test runners, type checker, the benchmarks'
# comparison packages).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
RUN    := $(VENV)/.installed-run
DEV    := $(VENV)/.installed-dev
DEMO   := .demo
PIP    := $(BIN)/python -m pip install --quiet --disable-pip-version-check

.PHONY: demo test bench lint catalogue schemas clean

$(RUN): pyproject.toml
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Créneau needs Python 3.11 or newer"'
	$(PYTHON) -m venv $(VENV)
	$(PIP) --upgrade pip
	$(PIP) -e .
	touch $(RUN)

$(DEV): $(RUN)
	$(PIP) -e '.[dev]'
	touch $(DEV)

demo: $(RUN)
	rm -rf $(DEMO) && mkdir -p $(DEMO)
	$(BIN)/creneau import examples/nec-metz-2023.toml --store $(DEMO)/metz.db --actor demo
	$(BIN)/creneau solve --store $(DEMO)/metz.db --actor demo --workers 2 --seed 1
	$(BIN)/creneau accept --store $(DEMO)/metz.db --actor demo
	$(BIN)/creneau programme --store $(DEMO)/metz.db
	$(BIN)/creneau report --store $(DEMO)/metz.db --html $(DEMO)/rapport.html
	$(BIN)/creneau export --store $(DEMO)/metz.db --format pdf --output $(DEMO)/programme.pdf
	$(BIN)/creneau export --store $(DEMO)/metz.db --format run-sheets --output $(DEMO)/fiches.pdf
	$(BIN)/creneau verify --store $(DEMO)/metz.db

test: $(DEV)
	$(BIN)/python -m pytest

bench: $(DEV)
	$(BIN)/python benchmarks/store_bench.py

lint: $(DEV)
	$(BIN)/ruff check .
	$(BIN)/mypy

# The words: extract the messages the source marks, merge them into the French and
# English catalogues, compile them (translate what is new in the French .po first).
catalogue: $(RUN)
	$(BIN)/python -m creneau.adapters.locale.catalogue

# The documents' JSON Schemas in docs/schema, from the types that read them.
schemas: $(RUN)
	$(BIN)/python -m creneau.adapters.schemas

clean:
	rm -rf $(VENV) $(DEMO) .pytest_cache .hypothesis .benchmarks *.egg-info
