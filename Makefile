# Two commands on a fresh machine:
#   make run    installs what the app needs and starts it on http://localhost:8501
#   make test   installs the test needs and runs the whole suite (browser tests included)
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# torch goes in first, pinned to a CPU build, so nothing later pulls a multi-GB CUDA wheel.
# Elsewhere (no local wheel), add:  TORCH_INDEX="--index-url https://download.pytorch.org/whl/cpu"
TORCH ?= torch==2.13.0
TORCH_INDEX ?=
PORT ?= 8501

.PHONY: run test install install-test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install --quiet $(TORCH_INDEX) "$(TORCH)"
	$(BIN)/pip install --quiet -e .

install-test: install
	$(BIN)/pip install --quiet -e ".[test]"

run: install
	$(BIN)/streamlit run app.py --server.port $(PORT)

lint: install-test
	$(BIN)/ruff check .

test: install-test
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

bench: install
	$(BIN)/python benchmarks/trainer.py

clean:
	rm -rf $(VENV) test-artifacts .pytest_cache
