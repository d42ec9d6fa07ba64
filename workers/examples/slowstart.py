#!/usr/bin/python3
"""slowstart - an expert whose model takes a while to load, as a TensorFlow
model would. Sleeps --load-seconds (default 3) before printing the ready
line READY on stdout, then behaves like wordcount under opinions.slowstart:

    hearth-worker -s slowstart --ready-line READY -- \\
        /usr/bin/python3 workers/examples/slowstart.py --load-seconds 3
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wordcount  # noqa: E402  (the same opinion, another name)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--load-seconds", type=float, default=3.0)
    args = parser.parse_args()
    print("slowstart: loading the model (%.1f s)" % args.load_seconds,
          file=sys.stderr, flush=True)
    time.sleep(args.load_seconds)
    print("READY", flush=True)
    wordcount.serve("slowstart")


if __name__ == "__main__":
    main()
