#!/usr/bin/env bash
# Stop 27: the ViT-B/16 forward rows of issue 15 (batch 1, fp32 and bf16, each process against its own GEMM floor),
# before (OLD build) and after (NEW build) quick_gelu ran in place on one tensor instead of three. Three rounds, the
# two builds interleaved, alone on the machine. Output: 2026-12-02-stop27-b16-quick-gelu.log.
set -u
old=${OLD:-/tmp/dsl36/dsl}; new=${NEW:-/tmp/dsl37/dsl}; models=${MODELS:-/work/full}
here="$(cd "$(dirname "$0")" && pwd)"; log="$here/2026-12-02-stop27-b16-quick-gelu.log"
: > "$log"
for round in 1 2 3; do
  for dtype in bfloat16 float32; do
    for build in old new; do
      dsl=$old; [[ $build == new ]] && dsl=$new
      printf '%s ' "$build" >> "$log"
      "$dsl" perf encoder-forward --encoder "$models/image_encoder_b16" --dtype "$dtype" --iterations 100 --warmup 10 2>&1 | grep '^{' >> "$log"
    done
  done
done
