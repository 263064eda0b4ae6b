#!/usr/bin/env bash
# Issue-15 measurements of 2026-12-01 (stop 22): one script, run alone on the 2-core machine; raw JSON lines go to
# benchmarks/results/2026-12-01-dsl-perf.log. Timed ratios come from interleaved repeats (plain, all-heads, cache-all,
# plain, …) so a drift of the VM's speed hits both sides of a ratio alike; each line carries the GEMM rate its own
# process reached (gemm_gflops), so floor ratios are per process.
# Usage: benchmarks/results/2026-12-01-dsl-perf.sh DSL MODELS   (DSL = the built dsl binary, MODELS = a folder with
#   image_encoder_b16/, image_encoder/ (bigG) and decoder/{unet,movq,scheduler}/ from `dsl make-random`)
set -euo pipefail
dsl="$1"; models="$2"
log="$(dirname "$0")/2026-12-01-dsl-perf.log"
: > "$log"
run() { echo "# $*" >&2; "$dsl" perf "$@" | tee -a "$log"; }
run gemm --size 2048 --iterations 10
run gemm --size 2048 --iterations 10 --dtype bfloat16
for i in 1 2; do
  run encoder-forward   --encoder "$models/image_encoder_b16" --iterations 10 --warmup 2
  run dsl-all-heads     --encoder "$models/image_encoder_b16" --iterations 10 --warmup 2
  run encoder-cache-all --encoder "$models/image_encoder_b16" --iterations 10 --warmup 2
done
run encoder-forward --encoder "$models/image_encoder_b16" --iterations 10 --warmup 2 --dtype bfloat16
for i in 1 2; do
  run encoder-forward   --encoder "$models/image_encoder" --iterations 3 --warmup 1
  run dsl-all-heads     --encoder "$models/image_encoder" --iterations 3 --warmup 1
  run encoder-cache-all --encoder "$models/image_encoder" --iterations 3 --warmup 1
done
run load --encoder "$models/image_encoder"
run load --encoder "$models/image_encoder" --dtype bfloat16
run unet-step   --decoder "$models/decoder" --size 512 --iterations 3 --warmup 1
run movq-decode --decoder "$models/decoder" --size 512 --iterations 3 --warmup 1
