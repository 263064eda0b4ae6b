# Offline stand-in: reads the safetensors format (8-byte header length, JSON header, raw little-endian data).
import json, struct, numpy as np, torch
_NP = {"F32": np.float32, "F16": np.float16, "F64": np.float64, "I64": np.int64, "I32": np.int32}
def load_file(path, device="cpu"):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]; header = json.loads(f.read(n)); base = 8 + n
    data = np.memmap(path, dtype=np.uint8, mode="r")
    out = {}
    for k, v in header.items():
        if k == "__metadata__": continue
        b, e = v["data_offsets"]
        arr = np.frombuffer(data[base + b: base + e], dtype=_NP[v["dtype"]]).reshape(v["shape"])
        out[k] = torch.from_numpy(arr.copy())
    return out
def save_file(tensors, path, metadata=None):
    header = {"__metadata__": metadata or {}}; blobs = []; off = 0
    for k in sorted(tensors):
        a = tensors[k].detach().contiguous().numpy().astype("<f4").tobytes()
        header[k] = {"dtype": "F32", "shape": list(tensors[k].shape), "data_offsets": [off, off + len(a)]}; blobs.append(a); off += len(a)
    h = json.dumps(header).encode(); h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h))); f.write(h); [f.write(b) for b in blobs]
# transformers' pytorch_utils imports these two (for tied-weight checks when saving; unused when only loading).
def storage_ptr(tensor):
    return tensor.storage().data_ptr()
def storage_size(tensor):
    return tensor.storage().size() * tensor.element_size()
