HF_HOME = "/tmp/hf"; HF_HUB_CACHE = "/tmp/hf/hub"; HF_HUB_DISABLE_TELEMETRY = True; HF_HUB_OFFLINE = True
def __getattr__(name): return None
