# Two entry points (see README): `make demo` runs the main job, `make test` runs the tests.
# Each creates its own virtual environment in .venv; torch==2.13.0 is installed first so that
# no CUDA wheels are pulled on CPU machines.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
OUT ?= demo_out

.PHONY: venv demo test lint bench clean

$(BIN)/.installed: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e ".[all,test]"
	touch $@

venv: $(BIN)/.installed

demo: venv
	$(BIN)/vgbench demo --out $(OUT)

test: venv
	$(BIN)/ruff check . && $(BIN)/ruff format --check .
	$(BIN)/python -m pytest -q -p no:cacheprovider tests

lint: venv
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

bench: venv
	$(BIN)/python benchmarks/bench_evaluators.py

clean:
	rm -rf $(VENV) $(OUT)
