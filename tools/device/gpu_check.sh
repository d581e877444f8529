#!/usr/bin/env bash
# The GPU checks of the capstone, as one script for a lent CUDA machine (its own python3 with torch).
# Writes its logs under $OUT (or ./gpu-out). Each part has its own time cap so that one hang costs only its share.
set -u
OUT=${OUT:-gpu-out}; mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 PYTHONPATH=$PWD
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$OUT/gpu.txt"
python3 -c "import torch, sacrebleu, tqdm; print('torch', torch.__version__, torch.cuda.get_device_name())" | tee -a "$OUT/gpu.txt"
echo "== CUDA tests"; timeout 150 python3 -m pytest -q -p no:cacheprovider tests/test_blocks.py -k cuda tests/test_training.py 2>&1 | tail -6 | tee "$OUT/tests.txt"
echo "== throughput"; timeout 120 python3 benchmarks/gpu_throughput.py 2>&1 | tee "$OUT/throughput.txt"
echo "== time to 99% (gpu preset)"; timeout 230 python3 -m course.train --preset gpu --task zh --target-exact 0.99 --minutes 3 --eval-interval 100 --no-progress --json "$OUT/gpu_zh.json" 2>&1 | tail -15 | tee "$OUT/train.txt"
echo "== torchrun, nccl"; timeout 60 torchrun --nproc_per_node=1 -m course.train --preset gpu --steps 30 --eval-interval 0 --no-progress --device cuda 2>&1 | tail -4 | tee "$OUT/torchrun.txt"
