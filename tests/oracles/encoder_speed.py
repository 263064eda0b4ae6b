# Python reference for `dsl perf encoder-forward` (issue 15; our own script): transformers' CLIPVisionModelWithProjection
# on the same folder (e.g. the random ViT-B/16 from `dsl make-random`), fp32, batch 1, the same warm-up and iteration
# counts, plus the GEMM rate this torch reaches on a 2048² matmul. Prints one JSON line per measurement.
# Usage: PYTHONPATH=<transformers src>:tests/oracles/offline_standins[:<dist-info dir>] OPENBLAS_CORETYPE=Cooperlake \
#   /usr/bin/python3 encoder_speed.py ENCODER_DIR [ITERATIONS WARMUP]
# (Debian's python3-torch 1.13, which runs matmuls through OpenBLAS; the stand-ins replace huggingface_hub and safetensors.)
import json, os, statistics, sys, time
import torch
from safetensors.torch import load_file
from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection

folder = sys.argv[1]
iterations = int(sys.argv[2]) if len(sys.argv) > 2 else 10
warmup = int(sys.argv[3]) if len(sys.argv) > 3 else 2
torch.set_num_threads(2)
torch.manual_seed(0)

def timed(body, n, w):
    for _ in range(w):
        body()
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        body()
        times.append((time.perf_counter() - t0) * 1000)
    return times

def line(op, times, **extra):
    print(json.dumps({"op": op, "median_ms": round(statistics.median(times), 3), "min_ms": round(min(times), 3),
                      "max_ms": round(max(times), 3), "iterations": len(times), "threads": torch.get_num_threads(),
                      "torch": torch.__version__, "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE"), **extra}), flush=True)

with torch.no_grad():
    a, b = torch.randn(2048, 2048), torch.randn(2048, 2048)
    gemm = timed(lambda: torch.mm(a, b), 5, 1)
    line("python-gemm", gemm, size=2048, gflops=round(2 * 2048 ** 3 / (statistics.median(gemm) / 1000) / 1e9, 1))
    config = CLIPVisionConfig.from_json_file(os.path.join(folder, "config.json"))
    model = CLIPVisionModelWithProjection(config).eval()
    state = {k: v.float() for k, v in load_file(os.path.join(folder, "model.safetensors")).items()}
    model.load_state_dict(state, strict=True)
    pixels = torch.randn(1, 3, config.image_size, config.image_size)
    forward = timed(lambda: model(pixel_values=pixels).image_embeds, iterations, warmup)
    line("python-encoder-forward", forward, batch=1, image_size=config.image_size, layers=config.num_hidden_layers)
