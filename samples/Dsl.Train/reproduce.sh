#!/usr/bin/env bash
# Retrains the shipped toy model (samples/models/shapes32) from scratch with the exact commands that produced it and
# checks the result against the shipped SHA-256 sums. Step-driven schedules, seeded batches, 2 threads: ≈70 min on an
# idle 2-core machine. Usage: samples/Dsl.Train/reproduce.sh [output-folder]   (default: a new temporary folder)
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:-$(mktemp -d -t dsl-reproduce.XXXXXX)}
mkdir -p "$out"
dotnet build "$repo/samples/Dsl.Train" -c Release --nologo -v quiet
train() { dotnet "$repo/samples/Dsl.Train/bin/Release/net10.0/dsl-train.dll" --threads 2 --seed 1234 "$@"; }
head="$out/attribute-head.safetensors"   # stage 2 continues stage 1's attribute head as well as its encoder

# Encoder stage 1 (strong jitter weight), then stage 2 from it (a fresh optimiser, same batch seeds), then the decoder.
train --output "$out/stage1" --phases encoder --encoder-steps 543 --encoder-lr 1.5e-3 --jitter-weight 10 --head-file "$head"
train --output "$out/model" --phases encoder --encoder-init "$out/stage1/encoder" --encoder-steps 1005 --encoder-lr 1e-3 \
    --jitter-weight 3 --head-file "$head"
train --output "$out/model" --phases decoder --decoder-steps 2400

cd "$out/model"
sha256sum -c "$repo/samples/models/shapes32/SHA256SUMS"
echo "reproduced the shipped weights in $out/model"
