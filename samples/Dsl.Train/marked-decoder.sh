#!/usr/bin/env bash
# Fine-tunes the testbed's shared decoder (samples/models/marked96/decoder): the shipped shapes32 decoder, trained on
# for 800 steps on marked-shapes images embedded by the four shipped marked96 encoders (seed1, seed2, seed3, planted),
# each with a quarter of every batch (docs/toy-model.md §8, "The shared decoder"). Checkpoints every 100 steps; running
# the same command again continues from the last checkpoint, bit for bit. Writes OUTPUT-ROOT/decoder/{unet,scheduler}.
# Usage: samples/Dsl.Train/marked-decoder.sh OUTPUT-ROOT
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:?usage: marked-decoder.sh OUTPUT-ROOT}
models="$repo/samples/models"
encoders="$models/marked96/seed1/encoder,$models/marked96/seed2/encoder,$models/marked96/seed3/encoder,$models/marked96/planted/encoder"
dotnet build "$repo/samples/Dsl.Train" -c Release --nologo -v quiet
dotnet "$repo/samples/Dsl.Train/bin/Release/net10.0/dsl-train.dll" --threads 2 --seed 1 --phases decoder-finetune \
  --decoder-init "$models/shapes32/decoder" --condition-encoders "$encoders" --decoder-steps 800 --decoder-lr 2e-4 \
  --output "$out"
