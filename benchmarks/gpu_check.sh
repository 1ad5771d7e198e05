#!/usr/bin/env bash
# The prepared GPU check in one command, as run on a bare GPU machine (no venv, nothing to
# download), within 8 minutes on one H100, set-up included:
#   bash benchmarks/gpu_check.sh --out "$OUT"                      # on the GPU
#   bash benchmarks/gpu_check.sh --device cpu --minutes 15 --out DIR   # the same on a CPU
#   bash benchmarks/gpu_check.sh --tiny --device cpu --out DIR     # the tests: the same code, small
# 1. benchmarks/gpu_check.py: step costs of every variant (the planner's GPU table), seeds
#    stacked vs one after another, processes sharing the device, word2vec at the large batch
#    beside gensim on the CPU, batched PSNR/SSIM;
# 2. benchmarks/gpu_dag.py: the smoke DAG end to end with `device: <device>` (every run.json
#    must name the device, except the declared CPU-only families), and a timed slice of the
#    default DAG beside the planner's CPU seconds for the same jobs.
# Both write dated records under --out. Other arguments go to gpu_check.py. What a bare machine
# lacks travels with the tree (benchmarks/gpu_bundle.py gathers it, in two calls' carries):
# wheels in .whl/ (installed into .gpu-site/, which a second call on the same machine finds),
# the word2vec corpus in .carry/corpus.txt.gz, Fashion-MNIST's idx files in .carry/fashion-mnist/.
set -euo pipefail
cd "$(dirname "$0")/.."
device=cuda tiny="" out=benchmarks/results install_only="" minutes=8 rest=()
while [ $# -gt 0 ]; do
    case "$1" in
        --device) device=$2; shift 2 ;;
        --out) out=$2; shift 2 ;;
        --minutes) minutes=$2; shift 2 ;;
        --tiny) tiny=--tiny; shift ;;
        --install-only) install_only=1; shift ;;
        *) rest+=("$1"); shift ;;
    esac
done
if ! python3 -c "import snakemake, gensim, lpips, jsonschema" 2>/dev/null && compgen -G ".whl/*.whl" > /dev/null; then
    # a bare machine: the carried wheels go where a next call on it finds them
    python3 -m pip install -q --no-index --no-deps --no-compile --upgrade --target .gpu-site .whl/*.whl
fi
if [ -d .gpu-site ]; then
    export PYTHONPATH=$PWD/.gpu-site${PYTHONPATH:+:$PYTHONPATH} PATH=$PWD/.gpu-site/bin:$PATH
fi
corpus=results/data/corpus.txt
if [ -f .carry/corpus.txt.gz ] && [ ! -f "$corpus" ]; then
    mkdir -p results/data && gunzip -c .carry/corpus.txt.gz > "$corpus"
fi
dag=()
[ -d .carry/fashion-mnist ] && dag+=(--fashion-mnist .carry/fashion-mnist)
if [ -n "$install_only" ]; then     # a first call: the wheels and the corpus stay for the next
    echo "installed: $(ls .gpu-site 2>/dev/null | wc -l) entries in .gpu-site; corpus: $(ls -l "$corpus" 2>/dev/null)" >&2
    exit 0
fi
[ "$device" = cuda ] && { nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true; }
started=$SECONDS
budget=$((minutes * 60 - 30))           # the set-up above, and a margin
status=0
if [ -n "$tiny" ]; then
    python3 -u benchmarks/gpu_check.py --tiny --device "$device" --corpus "$corpus" --out "$out" "${rest[@]}" || status=1
else
    # half the time; the word2vec section starts no new row after its own budget
    timeout $((budget / 2)) python3 -u benchmarks/gpu_check.py --device "$device" --corpus "$corpus" --out "$out" \
        --word2vec-batches 32768,default --word2vec-epochs 1 --word2vec-seconds 60 "${rest[@]}" || status=1
fi
timeout $((budget - (SECONDS - started))) python3 -u benchmarks/gpu_dag.py --device "$device" $tiny --out "$out" "${dag[@]}" || status=1
echo "gpu_check.sh: $((SECONDS - started)) s, status $status" >&2
exit $status
