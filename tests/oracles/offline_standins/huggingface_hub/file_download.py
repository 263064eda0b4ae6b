import re
REGEX_COMMIT_HASH = re.compile(r"^[0-9a-f]{40}$")
def __getattr__(name): return None
