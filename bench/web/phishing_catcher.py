"""Scores host names with x0rz/phishing_catcher's own score_domain (its suspicious.yaml rules).

Run by bench/web/run.ts: python3 phishing_catcher.py CHECKOUT < hosts > {"cpuSeconds", "scores"}.
Nothing of phishing_catcher is copied here: this imports its catch_phishing module from the
checkout named on the command line and calls it. Its certstream import serves only the live
feed loop, so an empty stand-in is put in its place when the certstream package is missing.
"""
import importlib.util
import json
import os
import sys
import time
import types

checkout = sys.argv[1]
sys.path.insert(0, checkout)
try:
    import certstream  # noqa: F401
except ImportError:
    sys.modules["certstream"] = types.ModuleType("certstream")
# Said before stderr is silenced below, so a Python without the peer's modules says which.
_missing = [m for m in ("yaml", "Levenshtein", "tld", "termcolor", "tqdm") if importlib.util.find_spec(m) is None]
if _missing:
    print("missing Python modules: " + ", ".join(_missing), file=sys.stderr)
    sys.exit(3)
import yaml  # noqa: E402

sys.stderr = open(os.devnull, "w")  # its module-level tqdm bar draws on stderr
import catch_phishing  # noqa: E402

# The rule set as its __main__ loads it: suspicious.yaml, with external.yaml's additions.
with open(os.path.join(checkout, "suspicious.yaml")) as f:
    suspicious = yaml.safe_load(f)
with open(os.path.join(checkout, "external.yaml")) as f:
    external = yaml.safe_load(f)
if external.get("override_suspicious.yaml") is True:
    suspicious = external
else:
    if external.get("keywords"):
        suspicious["keywords"].update(external["keywords"])
    if external.get("tlds"):
        suspicious["tlds"].update(external["tlds"])
catch_phishing.suspicious = suspicious

hosts = [line.strip() for line in sys.stdin if line.strip()]
started = time.process_time()
scores = [catch_phishing.score_domain(host.lower()) for host in hosts]
cpu = time.process_time() - started
sys.stdout.write(json.dumps({"cpuSeconds": cpu, "scores": scores}))
