# cnncourse: build the book, run the tests, grade the exercises.
# Every target creates or refreshes .venv from requirements.txt when needed.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST := $(BIN)/python -m pytest
IMPL ?= exercises
# pip's noise about this machine's extra package indexes is not ours to fix
PIP_QUIET := grep -v "^WARNING: Location 'file:" || true

.PHONY: help install test unit nbval book book-executed browser lab-check grade exercises bench lab clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'
	@echo "  (IMPL=path grades another folder: make grade IMPL=~/alice/exercises)"

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip 2>&1 | { $(PIP_QUIET); }
	$(BIN)/python -m pip install -q -r requirements.txt 2>&1 | { $(PIP_QUIET); }
	touch $@

install: $(STAMP) ## create or refresh .venv (also done by every other target)

test: $(STAMP) ## the whole suite: unit tests, grading, nbval, book build, browser checks
	$(MAKE) --no-print-directory unit nbval book-executed browser lab-check

unit: $(STAMP) ## unit tests of cnncourse, grading of solutions/, maintainer checks
	$(PYTEST) tests -n 2 -m "not browser and not lab"

nbval: $(STAMP) ## run every notebook top to bottom (quick profile, simulated CUDA device) and keep the results
	@# one notebook at a time: with two kernels each spinning two OpenMP threads on a
	@# 2-core machine, a CI cell passed the 300 s timeout in a notebook that runs in 46 s alone.
	@# CNNCOURSE_SIMULATE_CUDA: every notebook runs as on a GPU, so a misplaced tensor fails here
	@# (cnncourse/simcuda.py); the executed notebooks go to _build/executed for book-executed.
	@# CNNCOURSE_CACHE: the zoo's networks are trained once per clone, inside the build folder
	CNNCOURSE_SIMULATE_CUDA=1 CNNCOURSE_PROFILE=quick TQDM_DISABLE=1 CNNCOURSE_CACHE=$(CURDIR)/_build/zoo \
		$(PYTEST) notebooks --nbval-lax --nbval-current-env -p no:cacheprovider -p tests.book.executed_notebooks

book: $(STAMP) ## build the HTML book into _build/html, executing every notebook (warnings are errors)
	TQDM_DISABLE=1 $(BIN)/jupyter-book build . -W --keep-going

book-executed: $(STAMP) ## build the book from the notebooks `make nbval` executed (no second run)
	$(BIN)/python tools/build_book.py --executed _build/executed

browser: $(STAMP) ## check the built book in headless Chromium (skipped without Chromium)
	$(PYTEST) tests/book -m browser

lab-check: $(STAMP) ## open every notebook in a real JupyterLab in headless Chromium; run one
	$(PYTEST) tests/book -m lab

grade: $(STAMP) ## grade exercises/ (or IMPL=folder): score table and results.json
	rc=0; $(PYTEST) tests/grading --impl=$(IMPL) -p no:cacheprovider -q -rN --tb=line || rc=$$?; test $$rc -le 1

exercises: $(STAMP) ## regenerate exercises/ from solutions/ (maintainers)
	$(BIN)/python tools/generate_exercises.py

bench: $(STAMP) ## speed benchmarks (figures quoted in the issues and the book)
	$(BIN)/python benchmarks/kernels.py
	$(BIN)/python benchmarks/kernel_floors.py
	$(BIN)/python benchmarks/conv_memory.py
	$(BIN)/python benchmarks/conv2d.py
	$(BIN)/python benchmarks/pooling.py
	$(BIN)/python benchmarks/shapes.py
	$(BIN)/python benchmarks/models.py
	$(BIN)/python benchmarks/attribution.py
	$(BIN)/python benchmarks/synthesis.py
	$(BIN)/python benchmarks/render.py
	$(BIN)/python benchmarks/segmentation.py
	$(BIN)/python benchmarks/detection.py
	$(BIN)/python benchmarks/notebooks.py

lab: $(STAMP) ## open the notebooks in JupyterLab
	$(BIN)/jupyter lab notebooks

clean: ## remove the build (keeps .venv)
	rm -rf _build results.json
