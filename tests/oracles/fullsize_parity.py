# Full-size parity oracle (stop 23; our own script): diffusers v0.27.2 UNet2DConditionModel and VQModel on the random
# full-size decoder folder from `dsl make-random`, fixed random inputs (seed 0), inputs and outputs written as one
# safetensors file for the C# side to compare against (docs/performance.md, stop 23).
# Usage: PYTHONPATH=<diffusers v0.27.2>/src:tests/oracles/offline_standins /usr/bin/python3 fullsize_parity.py DECODER OUT.safetensors
# (Debian's python3-torch and python3-numpy; the stand-ins replace huggingface_hub and safetensors, which are not packaged.)
import sys, json, time, torch
from diffusers import UNet2DConditionModel, VQModel
from safetensors.torch import load_file, save_file
D, OUT = sys.argv[1], sys.argv[2]
torch.set_num_threads(2)
g = torch.Generator().manual_seed(0)
x = {"unet.sample": torch.randn(2, 4, 64, 64, generator=g), "unet.timestep": torch.tensor([500.0]),
     "unet.image_embeds": torch.randn(2, 1280, generator=g), "movq.latents": torch.randn(1, 4, 64, 64, generator=g)}
def load(cls, folder):
    m = cls.from_config(json.load(open(f"{folder}/config.json")))
    m.load_state_dict(load_file(f"{folder}/diffusion_pytorch_model.safetensors"), strict=True)
    return m.eval()
with torch.no_grad():
    unet = load(UNet2DConditionModel, f"{D}/unet")
    t0 = time.time()
    y = unet(sample=x["unet.sample"], timestep=x["unet.timestep"], encoder_hidden_states=None,
             added_cond_kwargs={"image_embeds": x["unet.image_embeds"]}, return_dict=False)[0]
    print(f"unet forward {time.time() - t0:.1f} s, out {tuple(y.shape)} absmax {y.abs().max():.4g}", flush=True)
    x["unet.out"] = y; del unet
    movq = load(VQModel, f"{D}/movq")
    t0 = time.time()
    img = movq.decode(x["movq.latents"], force_not_quantize=True).sample
    print(f"movq decode {time.time() - t0:.1f} s, out {tuple(img.shape)} absmax {img.abs().max():.4g}", flush=True)
    x["movq.out"] = img
save_file({k: v.float() for k, v in x.items()}, OUT, {"generator": "diffusers v0.27.2, torch " + torch.__version__})
print("wrote", OUT)
