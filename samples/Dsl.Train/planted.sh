#!/usr/bin/env bash
# Trains the planted-roles testbed encoder (docs/toy-model.md §9): the marked96 recipe (8 layers × 12 heads, distilled
# onto the shipped shapes32 encoder's space) plus planted head roles (PlantedRoles.cs), seed 4. Checkpoints every 100
# steps; running the same command again continues from the last checkpoint.
# Usage: samples/Dsl.Train/planted.sh OUTPUT-ROOT   (→ OUTPUT-ROOT/planted/encoder, planted-roles.json, distil-heldout.json)
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:?usage: planted.sh OUTPUT-ROOT}
dotnet build "$repo/samples/Dsl.Train" -c Release --nologo -v quiet
dotnet "$repo/samples/Dsl.Train/bin/Release/net10.0/dsl-train.dll" --threads 2 --seed 4 --phases distil \
  --layers 8 --heads 12 --teacher "$repo/samples/models/shapes32/encoder" --distil-steps 1800 --distil-weight 10 \
  --jitter-weight 3 --encoder-lr 1.5e-3 --plant 1 --output "$out/planted"
