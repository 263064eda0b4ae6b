#!/usr/bin/env bash
# Stop 26: the two ViT-B/16 rows of issue 15 (fp32 and bf16 forward, batch 1, against the GEMM floor each process
# measures itself), three processes each, interleaved, alone on the machine. Output: 2026-12-01-stop26-b16-forward.log.
set -u
dsl=${DSL:-/tmp/dsl33/dsl}; models=${MODELS:-/work/full}
here="$(cd "$(dirname "$0")" && pwd)"; log="$here/2026-12-01-stop26-b16-forward.log"
: > "$log"
for round in 1 2 3; do
  for dtype in float32 bfloat16; do
    "$dsl" perf encoder-forward --encoder "$models/image_encoder_b16" --dtype "$dtype" --iterations 100 --warmup 10 2>&1 | grep '^{' >> "$log"
  done
done
