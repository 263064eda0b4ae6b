# Offline stand-in (this measurement only): diffusers imports these names; nothing here downloads.
__version__ = "0.20.3"
class _Dummy:
    def __init__(self, *a, **k): pass
    def __call__(self, *a, **k): raise RuntimeError("offline stand-in")
def __getattr__(name):
    return _Dummy
