# Oracle for tests/.../Fixtures/golden/pipeline/reference_float64.safetensors (our own script; diffusers itself is not in the repo).
# Re-runs the golden KandinskyV22Pipeline cases with diffusers v0.27.2 in float32 (prints how far that lands from the stored
# float32 outputs on this machine) and in float64, and writes the float64 outputs as a fixture.
# Usage: PYTHONPATH=<diffusers v0.27.2>/src:<offline stand-ins for huggingface_hub, safetensors> /usr/bin/python3 \
#          pipeline_float64.py <golden root> <out.safetensors> [x: also print the float32 re-run per tensor]
import sys, json, struct, numpy as np
import torch
import diffusers.schedulers.scheduling_ddpm as ddpm_mod
from diffusers import UNet2DConditionModel, VQModel, DDPMScheduler
from safetensors.torch import load_file

G = sys.argv[1]  # golden root (with unet/, movq/, pipeline/)
OUT = sys.argv[2]
torch.set_num_threads(2)
cases = load_file(f'{G}/pipeline/cases.safetensors')
with open(f'{G}/pipeline/cases.safetensors', 'rb') as f:
    n = struct.unpack('<Q', f.read(8))[0]; meta = json.loads(f.read(n)).get('__metadata__', {})

def load(cls, folder, wfile):
    cfg = json.load(open(f'{folder}/config.json'))
    m = cls.from_config(cfg); m.load_state_dict(load_file(f'{folder}/{wfile}')); return m.eval()

unet0 = load(UNet2DConditionModel, f'{G}/unet', 'diffusion_pytorch_model.safetensors')
movq0 = load(VQModel, f'{G}/movq', 'diffusion_pytorch_model.safetensors')

def run(case, dtype):
    p = case + '.'
    unet = unet0.to(dtype); movq = movq0.to(dtype)
    sched = DDPMScheduler.from_config(json.load(open(f"{G}/pipeline/{meta.get(p + 'scheduler_config_file', 'scheduler_config.json')}")))
    steps = int(cases[p + 'num_inference_steps']); g = float(cases[p + 'guidance_scale'])
    noises = [cases[f'{p}step{i}.variance_noise'].to(dtype) for i in range(steps)]
    calls = {'i': 0}
    def fake_randn(shape, generator=None, device=None, dtype=None, **k):
        t = noises[calls['i']]; calls['i'] += 1; assert tuple(t.shape) == tuple(shape); return t.clone()
    ddpm_mod.randn_tensor = fake_randn
    emb = cases[p + 'image_embeds'].to(dtype); neg = cases[p + 'negative_image_embeds'].to(dtype)
    cond = torch.cat([neg, emb]) if g > 1 else emb
    lat = cases[p + 'initial_latents'].to(dtype) * sched.init_noise_sigma
    sched.set_timesteps(steps)
    with torch.no_grad():
        for i, t in enumerate(sched.timesteps):
            calls['i'] = i
            x = torch.cat([lat] * 2) if g > 1 else lat
            out = unet(sample=x, timestep=t, encoder_hidden_states=None, added_cond_kwargs={'image_embeds': cond}, return_dict=False)[0]
            if g > 1:
                out, var = out.split(lat.shape[1], dim=1)
                u, c = out.chunk(2); _, vc = var.chunk(2)
                out = torch.cat([u + g * (c - u), vc], dim=1)
            if not (hasattr(sched.config, 'variance_type') and sched.config.variance_type in ['learned', 'learned_range']):
                out, _ = out.split(lat.shape[1], dim=1)
            lat = sched.step(out, t, lat, generator=None).prev_sample
        raw = movq.decode(lat, force_not_quantize=True).sample
    image = (raw * 0.5 + 0.5).clamp(0, 1)
    return lat, raw, image

out = {}
for case in sorted({k.split('.')[0] for k in cases}):
    l32, r32, i32 = run(case, torch.float32)
    same = all(torch.equal(a, cases[f'{case}.{n}']) for a, n in [(l32, 'final_latents'), (r32, 'decoded_raw'), (i32, 'image')])
    d32 = max((a - cases[f'{case}.{n}']).abs().max().item() for a, n in [(l32, 'final_latents'), (r32, 'decoded_raw'), (i32, 'image')])
    l64, r64, i64 = run(case, torch.float64)
    print(case, 'float32 rerun identical:', same, f'(max abs {d32:.3e})',
          f'| fp32 vs fp64: final_latents {(l64 - cases[case + ".final_latents"].double()).abs().max():.3e}',
          f'decoded_raw {(r64 - cases[case + ".decoded_raw"].double()).abs().max():.3e}',
          f'image {(i64 - cases[case + ".image"].double()).abs().max():.3e}')
    out[f'{case}.final_latents'] = l64; out[f'{case}.decoded_raw'] = r64; out[f'{case}.image'] = i64

def write(path, tensors, metadata):
    header = {'__metadata__': metadata}; blobs = []; off = 0
    for k in sorted(tensors):
        a = tensors[k].contiguous().numpy().astype('<f8').tobytes()
        header[k] = {'dtype': 'F64', 'shape': list(tensors[k].shape), 'data_offsets': [off, off + len(a)]}; blobs.append(a); off += len(a)
    h = json.dumps(header, separators=(',', ':')).encode(); h += b' ' * ((8 - len(h) % 8) % 8)
    with open(path, 'wb') as f: f.write(struct.pack('<Q', len(h))); f.write(h); [f.write(b) for b in blobs]
write(OUT, out, {'generator': 'diffusers v0.27.2 (b69fd990) KandinskyV22Pipeline loop, torch ' + torch.__version__ + ', float64 weights and inputs, stored variance noises; scheduler schedule tensors left in float32 as diffusers keeps them',
                 'note': 'float64 outputs of the pipeline cases in cases.safetensors'})
print('wrote', OUT)
if len(sys.argv) > 3:
    for case in sorted({k.split('.')[0] for k in cases}):
        l32, r32, i32 = run(case, torch.float32)
        print(case, 'ref32 on this machine vs stored ref32:', ', '.join(f"{n} {(a - cases[f'{case}.{n}']).abs().max():.3e}" for a, n in [(l32, 'final_latents'), (r32, 'decoded_raw'), (i32, 'image')]))
