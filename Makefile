# Two entry points, both self-installing from nothing but Python 3.11:
#   make reproduce   -> .venv, install, dvc repro (the default, CPU-sized profile; time per stage in results/stage_times.md)
#   make test        -> .venv, install, the test suite
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export PATH := $(abspath $(BIN)):$(PATH)
export DVC_NO_ANALYTICS := 1

.PHONY: install reproduce test lint gpu-check rehearsal search claims-extended tradeoffs benchmark benchmark-compare benchmark-reference clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

reproduce: $(STAMP)
	$(BIN)/python -m benchmark repro

test: $(STAMP)
	$(BIN)/python -m pytest

# ruff (lint and format, configured in pyproject.toml) and mypy ([tool.mypy]: the statistics layer, the
# contracts and the records at least); CI runs it before the tests
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# The pre-flight checks to run first on a GPU machine (README "Before a GPU run"): one PASS/FAIL/SKIP line
# per check; exit 1 when one failed. On a machine without CUDA the CUDA checks are SKIPped, saying why.
gpu-check: $(STAMP)
	$(BIN)/python -m benchmark doctor --device auto

# The paper path end to end on this CPU (README "The rehearsal"): the generated CYBORG-layout folder, the builds
# of its two variants, one run on the 7x data, the studies' rehearsal blocks swept and their statistics; each
# step's time and peak memory in results/rehearsal/rehearsal.md.
rehearsal: $(STAMP)
	$(BIN)/python -m benchmark rehearsal

# Hyperparameter searches (optional/dvc.yaml, outside `make reproduce`): every `searches:` entry of
# params.yaml; publishes results/search/NAME.json, which the studies' tuned items read (commit it).
search: $(STAMP)
	$(BIN)/dvc repro optional/dvc.yaml:search

# Every claims cell, the optional ones too (optional/dvc.yaml:claims-extended, outside `make reproduce`, 12.5
# minutes on 2 cores): trains the optional studies that extend a default one (params.yaml `extends:`) and
# writes results/claims_extended/PAPER.md; the default tables name those cells "not run by default".
claims-extended: $(STAMP)
	$(BIN)/dvc repro optional/dvc.yaml:claims-extended

# Guidance as a trade-off (optional/dvc.yaml:tradeoff, outside `make reproduce`): the guidance fronts on the
# decoy digits and the toy faces and the annotation budget and quality curves (README "Guidance as a trade-off").
tradeoffs: $(STAMP)
	$(BIN)/dvc repro optional/dvc.yaml:tradeoff

# Benchmarks (skipped by `make test`): every run is autosaved in .benchmarks/ (git-ignored).
# benchmark-compare fails when a median is over 10% slower than the committed reference, which
# benchmark-reference rewrites (run it on an idle machine, then commit the file). In this process, not in
# addopts' xdist workers: pytest-benchmark refuses to time under xdist.
BENCH := $(BIN)/python -m pytest tests/benchmarks --benchmark-only --benchmark-columns=min,median,mean,rounds -p no:cacheprovider -p no:xdist
REFERENCE := results/benchmarks/reference.json

benchmark: $(STAMP)
	$(BENCH) --benchmark-autosave

benchmark-compare: $(STAMP)
	$(BENCH) --benchmark-autosave --benchmark-compare=$(REFERENCE) --benchmark-compare-fail=median:10%

benchmark-reference: $(STAMP)
	mkdir -p $(dir $(REFERENCE))
	$(BENCH) --benchmark-json=$(REFERENCE)

clean:
	rm -rf $(VENV)
