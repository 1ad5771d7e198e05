# Two commands on a fresh machine:
#   make        set up (pinned venv, Fashion-MNIST, WordNet) and run the whole DAG -> report/index.html
#   make test   set up and run the test suite (what CI runs)
VENV ?= .venv
CORES ?= all
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: all setup system-packages test-packages report slurm test dry-run clean

all: report

$(VENV)/.installed: requirements.txt pyproject.toml
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install -r requirements.txt
	$(VENV)/bin/pip install --no-deps -e .
	touch $@

system-packages:
	bash scripts/ensure-system-packages.sh dataset-fashion-mnist wordnet-base

test-packages:
	bash scripts/ensure-system-packages.sh dataset-fashion-mnist wordnet-base chromium

setup: $(VENV)/.installed system-packages

report: setup
	snakemake --cores $(CORES)
	@echo "Report: $(CURDIR)/report/index.html"

slurm: setup
	snakemake --workflow-profile profiles/slurm

dry-run: setup
	snakemake -n

test: $(VENV)/.installed test-packages
	python -m pytest -ra

clean:
	rm -rf results report .snakemake
