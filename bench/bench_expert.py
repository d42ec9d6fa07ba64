#!/usr/bin/python3
"""bench_expert NAME - workers/examples/wordcount.py under another name.

The 3-stage pipeline of bench_experts.py needs three distinct services of
the users' style (a plain stdin/stdout JSON-lines script, no Hearth code).
Rather than three copies of wordcount.py, this runs its serve() loop with
the opinion stored under opinions.NAME:

    hearth-worker -s stage_a -- /usr/bin/python3 bench/bench_expert.py stage_a
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "workers", "examples"))
import wordcount  # noqa: E402  (the same expert, another name)


if __name__ == "__main__":
    if len(sys.argv) != 2 or not sys.argv[1]:
        print("usage: bench_expert.py NAME", file=sys.stderr)
        sys.exit(2)
    wordcount.serve(sys.argv[1])
