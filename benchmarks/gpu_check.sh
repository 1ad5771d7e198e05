#!/usr/bin/env bash
# The prepared GPU check, as run on a bare GPU machine (bare: no venv, nothing downloadable):
#   bash benchmarks/gpu_check.sh --out "$OUT"          (extra arguments go to gpu_check.py)
# Wheels the machine lacks (gensim and what config validation imports) travel in .whl/, the
# word2vec corpus in .carry/corpus.txt.gz (built here by `dlrepro prepare-corpus`); without them
# the word2vec section uses a synthetic corpus and reports no WS353.
set -euo pipefail
cd "$(dirname "$0")/.."
if compgen -G ".whl/*.whl" > /dev/null; then
    python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/dlrepro-site .whl/*.whl
    export PYTHONPATH=/tmp/dlrepro-site${PYTHONPATH:+:$PYTHONPATH}
fi
corpus=results/data/corpus.txt
if [ -f .carry/corpus.txt.gz ] && [ ! -f "$corpus" ]; then
    mkdir -p results/data && gunzip -c .carry/corpus.txt.gz > "$corpus"
fi
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
# 8 minutes at most, set-up included (what one check on a borrowed GPU may take)
exec timeout 450 python3 -u benchmarks/gpu_check.py --corpus "$corpus" "$@"
