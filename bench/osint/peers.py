"""The peer extractors on the benchmark's documents: iocextract (InQuest) and ioc-finder
(fhightower), run from their source trees. Reads {"docs": [{"id", "text"}]} on stdin and writes
{"tool": {"doc id": {"type": [values]}}, "seconds": {"tool": s}} on stdout, using the nine types
of tsunagi osint extract; a type a tool does not extract is left out."""
import json
import sys
import time


def run_iocextract(text):
    import iocextract

    return {
        "ipv4": list(iocextract.extract_ipv4s(text, refang=True)),
        "ipv6": list(iocextract.extract_ipv6s(text)),
        "url": list(iocextract.extract_urls(text, refang=True)),
        "md5": list(iocextract.extract_md5_hashes(text)),
        "sha1": list(iocextract.extract_sha1_hashes(text)),
        "sha256": list(iocextract.extract_sha256_hashes(text)),
    }


def run_ioc_finder(text):
    import ioc_finder

    found = ioc_finder.find_iocs(text)
    attack = []
    for key in ("attack_techniques",):
        value = found.get(key) or {}
        if isinstance(value, dict):
            for ids in value.values():
                attack.extend(ids)
        else:
            attack.extend(value)
    return {
        "ipv4": found.get("ipv4s", []),
        "ipv6": found.get("ipv6s", []),
        "domain": found.get("domains", []),
        "url": found.get("urls", []),
        "md5": found.get("md5s", []),
        "sha1": found.get("sha1s", []),
        "sha256": found.get("sha256s", []),
        "cve": found.get("cves", []),
        "attack": attack,
    }


def main():
    docs = json.load(sys.stdin)["docs"]
    out = {"results": {}, "seconds": {}, "errors": {}}
    for name, run in (("iocextract", run_iocextract), ("ioc-finder", run_ioc_finder)):
        results = {}
        start = time.perf_counter()
        try:
            for doc in docs:
                results[doc["id"]] = run(doc["text"])
        except ImportError as error:
            out["errors"][name] = "cannot import: %s" % error
            continue
        out["seconds"][name] = time.perf_counter() - start
        out["results"][name] = results
    json.dump(out, sys.stdout)


main()
