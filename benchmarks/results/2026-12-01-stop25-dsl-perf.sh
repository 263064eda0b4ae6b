#!/usr/bin/env bash
# Issue-15 measurements of stop 25 (2026-12-01, evening): one script, run alone on the 2-core machine, after memory reuse
# (TorchNativeLoader.EnableMemoryReuse), the dsl tool's work on its first thread and encoders built on meta. Raw JSON
# lines go to 2026-12-01-stop25-dsl-perf.log; the steer run's log and /usr/bin/time output to 2026-12-01-stop25-steer.log.
# Encoder ops run as interleaved repeats (plain, all-heads, cache-all, plain, …) so a drift of the VM's speed hits both
# sides of a ratio alike; every line carries the GEMM rate its own process reached (gemm_gflops).
# Usage: benchmarks/results/2026-12-01-stop25-dsl-perf.sh DSL MODELS PYTHONPATH
#   DSL = the built dsl binary; MODELS = a folder with image_encoder_b16/, image_encoder/ (bigG) and
#   decoder/{unet,movq,scheduler}/ from `dsl make-random`; PYTHONPATH = transformers' src, tests/oracles/offline_standins
#   and a folder with dist-info stubs for them (see tests/oracles/encoder_speed.py). Needs /usr/bin/python3 with Debian's
#   python3-torch and libopenblas0-pthread.
set -euo pipefail
dsl="$1"; models="$2"; pypath="$3"
here="$(cd "$(dirname "$0")" && pwd)"
log="$here/2026-12-01-stop25-dsl-perf.log"; steerlog="$here/2026-12-01-stop25-steer.log"
: > "$log"
run() { echo "# $*" >&2; "$dsl" perf "$@" | tee -a "$log"; }
run gemm --size 2048 --iterations 10
run gemm --size 2048 --iterations 10 --dtype bfloat16
for i in 1 2; do
  run encoder-forward   --encoder "$models/image_encoder_b16" --iterations 10 --warmup 2
  run dsl-all-heads     --encoder "$models/image_encoder_b16" --iterations 10 --warmup 2
  run encoder-cache-all --encoder "$models/image_encoder_b16" --iterations 10 --warmup 2
done
for coretype in Cooperlake ""; do
  PYTHONPATH="$pypath" OPENBLAS_CORETYPE="$coretype" /usr/bin/python3 "$here/../../tests/oracles/encoder_speed.py" \
    "$models/image_encoder_b16" 10 2 | tee -a "$log"
done
run encoder-forward --encoder "$models/image_encoder_b16" --iterations 10 --warmup 2 --dtype bfloat16
for i in 1 2; do
  run encoder-forward   --encoder "$models/image_encoder" --iterations 3 --warmup 1
  run dsl-all-heads     --encoder "$models/image_encoder" --iterations 3 --warmup 1
  run encoder-cache-all --encoder "$models/image_encoder" --iterations 3 --warmup 1
done
run encoder-forward --encoder "$models/image_encoder" --iterations 3 --warmup 1 --dtype bfloat16
run load --encoder "$models/image_encoder"
run load --encoder "$models/image_encoder" --dtype bfloat16
run unet-step   --decoder "$models/decoder" --size 512 --iterations 3 --warmup 1
run movq-decode --decoder "$models/decoder" --size 512 --iterations 3 --warmup 1
out="$(mktemp -d)"
{ /usr/bin/time -v "$dsl" steer --encoder "$models/image_encoder" --decoder "$models/decoder" --targets L36H4,L47H14 \
    --steps 3 --size 512 --out "$out/steer"; } > "$steerlog" 2>&1
grep -E "done in|Elapsed|Maximum resident" "$steerlog"
