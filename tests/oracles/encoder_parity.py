# Full-size encoder parity oracle (stop 26; our own script): transformers' CLIPVisionModelWithProjection on a model
# folder (e.g. the random bigG or ViT-B/16 from `dsl make-random`), fp32, on fixed random pixels (seed 0). Writes the
# pixels and the reference read-outs `dsl export` writes — image_embeds [B, P] and dl.resid_post [B, L, P] (the final
# LayerNorm and projection applied to every layer's CLS residual) — to one safetensors file; the comparison is
# `tests/oracles/compare_export.py`.
# Usage: PYTHONPATH=<transformers src>:tests/oracles/offline_standins[:<dist-info dir>] /usr/bin/python3 encoder_parity.py \
#   ENCODER_DIR OUT.safetensors [BATCH]
import json, os, sys, time
import torch
from safetensors.torch import load_file, save_file
from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection

folder, out = sys.argv[1], sys.argv[2]
batch = int(sys.argv[3]) if len(sys.argv) > 3 else 2
torch.set_num_threads(2)
config = CLIPVisionConfig.from_json_file(os.path.join(folder, "config.json"))
with torch.no_grad():
    model = CLIPVisionModelWithProjection(config).eval()
    model.load_state_dict({k: v.float() for k, v in load_file(os.path.join(folder, "model.safetensors")).items()}, strict=True)
    pixels = torch.randn(batch, 3, config.image_size, config.image_size, generator=torch.Generator().manual_seed(0))
    t0 = time.time()
    o = model(pixel_values=pixels, output_hidden_states=True)
    layers = [model.visual_projection(model.vision_model.post_layernorm(h[:, 0])) for h in o.hidden_states[1:]]
    print(f"forward {time.time() - t0:.1f} s, {len(layers)} layers, image_embeds absmax {o.image_embeds.abs().max():.4g}", flush=True)
    save_file({"pixel_values": pixels, "image_embeds": o.image_embeds, "dl.resid_post": torch.stack(layers, 1)}, out,
              {"generator": "transformers CLIPVisionModelWithProjection, torch " + torch.__version__})
print("wrote", out)
