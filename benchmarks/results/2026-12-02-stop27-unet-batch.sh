#!/usr/bin/env bash
# Stop 27: why does one batched decode cost time and memory on this CPU? One full-size Kandinsky 2.2 UNet step (512 px, latent 64²,
# fp32) at 1, 2 and 4 pictures per call (UNet batch 2, 4, 8 with guidance), one process each, alone on the machine,
# with the process's page faults. Output: 2026-12-02-stop27-unet-batch.log.
set -u
dsl=${DSL:-/tmp/dsl33/dsl}; models=${MODELS:-/work/full}
here="$(cd "$(dirname "$0")" && pwd)"; log="$here/${LOG:-2026-12-02-stop27-unet-batch.log}"
: > "$log"
for batch in 1 4 2; do
  echo "== unet-step --batch $batch" >> "$log"
  { /usr/bin/time -v "$dsl" perf unet-step --decoder "$models/decoder" --batch "$batch" --iterations 3 --warmup 1; } 2>&1 \
    | grep -E '^\{|Elapsed|Maximum resident|Minor' >> "$log"
done
# The MoVQ decode of the same pictures, one and four per call (its peak memory is the other candidate for the batched
# decode's extra 3.7 GB).
for batch in 1 4; do
  echo "== movq-decode --batch $batch" >> "$log"
  { /usr/bin/time -v "$dsl" perf movq-decode --decoder "$models/decoder" --batch "$batch" --iterations 2 --warmup 1; } 2>&1 \
    | grep -E '^\{|Elapsed|Maximum resident|Minor' >> "$log"
done
