"""Profiles medallion's first GET page on its own (not a benchmark row; medallion-profile.ts runs it).

Loads medallion 3.0.0's memory backend from DATA_FILE (run from a medallion source tree, on
PYTHONPATH) and asks it for the first page of objects and the page after it, as its objects view
does (the same filter arguments and allowed filters), with nothing else on the process: no
Flask, no socket, no other request. Prints each call's wall and CPU seconds and, for the first
page, cProfile's costliest functions and how often the timestamp parser was called.

Run: python3 medallion-profile.py DATA_FILE API_ROOT COLLECTION_ID PAGE
"""
import cProfile
import io
import os
import pstats
import sys
import time

from medallion.backends.memory_backend import MemoryBackend

ALLOWED = ("id", "type", "version", "spec_version")


def timed(label, call):
    wall, cpu = time.perf_counter(), time.process_time()
    result = call()
    print(f"{label}: {time.perf_counter() - wall:.1f} s wall, {time.process_time() - cpu:.1f} s CPU", flush=True)
    return result


def main():
    data_file, api_root, collection, page = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    backend = MemoryBackend(filename=data_file, session_timeout=3600)
    objects = len(backend.data[api_root]["collections"][0]["objects"])
    print(f"medallion memory backend: {objects} objects, first page of {page}", flush=True)
    first_page = lambda: backend.get_objects(api_root, collection, {"limit": str(page)}, ALLOWED, page)
    resource, _ = timed("first page, quiet", first_page)
    timed(
        "next page, quiet",
        lambda: backend.get_objects(
            api_root, collection, {"limit": str(page), "next": resource["next"]}, ALLOWED, page
        ),
    )
    # cProfile slows every Python call, so its times are above the quiet ones: read it for shares.
    profile = cProfile.Profile()
    timed("first page again, under cProfile", lambda: profile.runcall(first_page))
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out)
    stats.sort_stats("tottime").print_stats(8)
    stats.sort_stats("cumulative").print_stats("sort_and_paginate|process_filter|find_att|string_to_datetime")
    print(out.getvalue())
    sys.stdout.flush()
    # The backend's session checker is a timer thread: end without waiting for it.
    os._exit(0)


main()
