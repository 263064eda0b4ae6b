def validate_hf_hub_args(f): return f
def is_jinja_available(): return False
class _Err(Exception): pass
def __getattr__(name):
    if name.endswith("Error") or name.endswith("Enabled"): return _Err
    return lambda *a, **k: None
