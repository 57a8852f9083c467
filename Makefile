# 两条命令上手：make demo / make test
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# the python3 kernel of JupyterLab, registered inside the venv with the venv's Python as an absolute path
KERNEL := $(VENV)/.kernel
# JupyterLab's settings in the venv (its application settings folder): menus in Chinese, with the language pack of
# the `lab` extra; a file of its own in overrides.d, so that an overrides.json of the user's is left alone
LAB_SETTINGS := $(VENV)/share/jupyter/lab/settings/overrides.d/zhidang-analysis.json

.PHONY: demo test test-fast lint lab sample bench bench-loading bench-batch bench-distinct bench-report bench-province clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e ".[test,lab]"
	touch $(STAMP)

$(KERNEL): $(STAMP)
	$(BIN)/python -m ipykernel install --sys-prefix --name python3
	touch $(KERNEL)

$(LAB_SETTINGS): scripts/lab-overrides.json $(STAMP)
	mkdir -p $(dir $@)
	cp scripts/lab-overrides.json $@

demo: $(STAMP)
	$(BIN)/zhidang validate data/sample
	$(BIN)/zhidang batch --out reports --format html,docx

test: $(KERNEL) $(LAB_SETTINGS)
	-bash scripts/ensure-browser  # Chromium and CJK fonts for tests/test_browser.py; never fails the target
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check zhidang_analysis tests benchmarks notebooks data/make_sample.py data/make_second_county.py
	$(BIN)/lint-imports --no-cache  # the layers of docs/architecture.md ([tool.importlinter] in pyproject.toml)

test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not slow"

# kernels of the venv come before any registered in the user's home (~/.local/share/jupyter)
lab: $(KERNEL) $(LAB_SETTINGS)
	JUPYTER_PREFER_ENV_PATH=1 $(BIN)/jupyter lab notebooks/

sample: $(STAMP)
	$(BIN)/python data/make_sample.py

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_indicators.py
	$(BIN)/python benchmarks/bench_loading.py
	$(BIN)/python benchmarks/bench_report.py
	$(BIN)/python benchmarks/bench_province.py

bench-loading: $(STAMP)
	$(BIN)/python benchmarks/bench_loading.py

bench-batch: $(STAMP)
	$(BIN)/python benchmarks/bench_batch.py

bench-distinct: $(STAMP)
	$(BIN)/python benchmarks/bench_distinct.py

bench-report: $(STAMP)
	$(BIN)/python benchmarks/bench_report.py

bench-province: $(STAMP)
	$(BIN)/python benchmarks/bench_province.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
