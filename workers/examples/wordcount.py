#!/usr/bin/python3
"""wordcount - an expert in our users' style, served warm by hearth-worker.

Reads one JSON document per line on stdin, adds its opinion under
opinions.wordcount = {"words": N, "chars": N} (counted over every string
in the document except the opinions), and writes the document as one line
on stdout, flushing after each. Diagnostics go to stderr. No Hearth code:

    hearth-worker -s wordcount -- /usr/bin/python3 workers/examples/wordcount.py
"""
import json
import sys


def strings(value, skip_opinions=True):
    """Every string in a JSON value, depth first (opinions excluded)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from strings(item, False)
    elif isinstance(value, dict):
        for key, item in value.items():
            if not (skip_opinions and key == "opinions"):
                yield from strings(item, False)


def opinion(doc):
    texts = list(strings(doc))
    return {"words": sum(len(t.split()) for t in texts),
            "chars": sum(len(t) for t in texts)}


def add_opinion(doc, name, value):
    if not isinstance(doc, dict):
        doc = {"document": doc}
    opinions = doc.get("opinions")
    if not isinstance(opinions, dict):
        opinions = doc["opinions"] = {}
    opinions[name] = value
    return doc


def serve(name, stdin=sys.stdin, stdout=sys.stdout):
    for line in stdin:
        try:
            doc = json.loads(line)
            reply = add_opinion(doc, name, opinion(doc))
        except ValueError as e:
            # A bad document gets an error opinion, not a dead expert.
            print("%s: bad JSON: %s" % (name, e), file=sys.stderr, flush=True)
            reply = {"opinions": {name: {"error": "bad JSON: %s" % e}}}
        stdout.write(json.dumps(reply, separators=(",", ":")) + "\n")
        stdout.flush()


if __name__ == "__main__":
    serve("wordcount")
