#!/usr/bin/env bash
# Trains the marked-shapes testbed encoders (8 layers × 12 heads = 96 heads) distilled onto the shipped shapes32
# encoder's embedding space, one per seed, so that the shipped decoder decodes them. Every run checkpoints every 100
# steps and continues from its last checkpoint when the same command is run again (bit for bit: step-seeded batches,
# step-driven schedule, saved optimiser state). Usage: samples/Dsl.Train/testbed.sh OUTPUT-ROOT [SEED ...]  (default 1 2 3)
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:?usage: testbed.sh OUTPUT-ROOT [SEED ...]}
shift
seeds=("$@")
[[ ${#seeds[@]} -eq 0 ]] && seeds=(1 2 3)
dotnet build "$repo/samples/Dsl.Train" -c Release --nologo -v quiet
for seed in "${seeds[@]}"; do
  dotnet "$repo/samples/Dsl.Train/bin/Release/net10.0/dsl-train.dll" --threads 2 --seed "$seed" --phases distil \
    --layers 8 --heads 12 --teacher "$repo/samples/models/shapes32/encoder" --distil-steps 1800 --distil-weight 10 \
    --jitter-weight 3 --encoder-lr 1.5e-3 --output "$out/seed$seed"
done
