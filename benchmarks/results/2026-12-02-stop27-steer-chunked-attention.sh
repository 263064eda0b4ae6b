#!/usr/bin/env bash
# Stop 27, second run: the issue's steer row again after the UNet attention was chunked below 120 MiB of scores (and
# with the MoVQ decoding one picture at a time, as in 2026-12-02-stop27-steer-denoise-batch.log): --denoise-batch 4
# (one batched decode) and 1 (default), one run each, in this order, alone on the machine, with the kernel's
# compaction stalls and huge-page fallbacks during each run (/proc/vmstat deltas).
# Output: 2026-12-02-stop27-steer-chunked-attention.log.
set -u
dsl=${DSL:-/tmp/dsl36/dsl}; models=${MODELS:-/work/full}; out=${OUT:-/tmp/stop27-steer-chunked}
here="$(cd "$(dirname "$0")" && pwd)"; log="$here/2026-12-02-stop27-steer-chunked-attention.log"
vm() { grep -E "^(compact_stall|thp_fault_alloc|thp_fault_fallback) " /proc/vmstat | tr '\n' ' '; }
: > "$log"
for batch in 4 1; do
  echo "== --denoise-batch $batch" >> "$log"
  echo "vmstat before: $(vm)" >> "$log"
  { /usr/bin/time -v "$dsl" steer --encoder "$models/image_encoder" --decoder "$models/decoder" --targets L36H4,L47H14 \
      --steps 3 --size 512 --denoise-batch "$batch" --out "$out/batch-$batch"; } 2>&1 | grep -v NNPACK \
    | grep -E "^\[|done in|Elapsed|Maximum resident|Minor" >> "$log"
  echo "vmstat after: $(vm)" >> "$log"
  python3 - "$out/batch-$batch/results.json" >> "$log" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
for t in r["targets"]: print(f'{t["lens"]} {t["target"]} embedding {t["embeddingSimilarity"]:.6f} picture {t["imageSimilarity"]!r}')
PY
done
