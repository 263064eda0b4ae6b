# Compares a `dsl export` file with the reference of encoder_parity.py (stop 26; our own script): for image_embeds and
# dl.resid_post, the largest absolute difference and that difference over the reference's largest magnitude.
# Usage: PYTHONPATH=tests/oracles/offline_standins /usr/bin/python3 compare_export.py REFERENCE.safetensors EXPORT.safetensors
import sys
from safetensors.torch import load_file
ref, got = load_file(sys.argv[1]), load_file(sys.argv[2])
for key in ("image_embeds", "dl.resid_post"):
    a, b = ref[key].double(), got[key].double()
    assert a.shape == b.shape, f"{key}: reference {tuple(a.shape)}, export {tuple(b.shape)}"
    diff = (a - b).abs().max().item()
    print(f"{key} {tuple(a.shape)}: max abs diff {diff:.3e}, scaled {diff / a.abs().max().item():.3e}, reference absmax {a.abs().max().item():.4g}")
