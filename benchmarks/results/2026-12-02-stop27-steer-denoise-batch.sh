#!/usr/bin/env bash
# Stop 27: dsl steer on full-size random bigG + Kandinsky 2.2 (the issue's steer row), with the DSL and DL pictures
# decoded in one pass, all four denoised as one UNet batch (--denoise-batch 4) and alone (default), now that the MoVQ
# decodes a batch one picture at a time. One run each, in this order, alone on the machine. Output: 2026-12-02-stop27-steer-denoise-batch.log.
set -u
dsl=${DSL:-/tmp/dsl35/dsl}; models=${MODELS:-/work/full}; out=${OUT:-/tmp/stop27-steer}
here="$(cd "$(dirname "$0")" && pwd)"; log="$here/2026-12-02-stop27-steer-denoise-batch.log"
: > "$log"
for batch in 4 1; do
  echo "== --denoise-batch $batch" >> "$log"
  { /usr/bin/time -v "$dsl" steer --encoder "$models/image_encoder" --decoder "$models/decoder" --targets L36H4,L47H14 \
      --steps 3 --size 512 --denoise-batch "$batch" --out "$out/batch-$batch"; } 2>&1 | grep -v NNPACK \
    | grep -E "^\[|done in|Elapsed|Maximum resident|Minor" >> "$log"
  python3 - "$out/batch-$batch/results.json" >> "$log" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
for t in r["targets"]: print(f'{t["lens"]} {t["target"]} embedding {t["embeddingSimilarity"]:.6f} picture {t["imageSimilarity"]!r}')
PY
done
