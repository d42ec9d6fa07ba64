"""py_expert - an expert written with the Python library `hearth`.

Adds opinions.keywords: the most frequent words of doc["text"] that are not
stop words, most frequent first (ties in order of first appearance).

Serve it (from this directory, with client/python on PYTHONPATH):

    /usr/bin/python3 -m hearth serve py_expert:keywords -b tcp://127.0.0.1:5555
    /usr/bin/python3 py_expert.py -b tcp://127.0.0.1:5555      # the same

Call it:

    hearth call keywords '{"text": "the cat sat on the cat mat"}'
"""

import argparse
import logging
import re
import sys
from collections import Counter

import hearth

VERSION = "1.0.0"
TOP = 5
#   A small list is enough to keep articles and pronouns out of the top.
STOP_WORDS = frozenset("""
a an and are as at be but by for from has have he her his i if in into is it
its me my no not of on or our she so that the their them then there these they
this to was we were what when which who will with you your
""".split())
WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")

INPUT_SCHEMA = {
    "type": "object",
    "properties": {"text": {"type": "string"}},
    "required": ["text"],
}
OUTPUT_SCHEMA = {
    "type": "object",
    "properties": {"opinions": {"type": "object", "properties": {
        "keywords": {"type": "array", "items": {"type": "string"}}}}},
}


def top_words(text, top=TOP):
    """The `top` most frequent non-stop words of text, lower-cased."""
    words = [w for w in (m.group(0).lower() for m in WORD.finditer(text))
             if w not in STOP_WORDS]
    counts = Counter(words)
    first = {}
    for index, word in enumerate(words):
        first.setdefault(word, index)
    return sorted(counts, key=lambda w: (-counts[w], first[w]))[:top]


@hearth.expert("keywords", version=VERSION,
               description="top words of doc.text in opinions.keywords",
               input_schema=INPUT_SCHEMA, output_schema=OUTPUT_SCHEMA,
               example={"text": "the cat sat on the mat with another cat"},
               idempotent=True)
def keywords(doc):
    if not isinstance(doc, dict) or not isinstance(doc.get("text"), str):
        raise hearth.BadRequest("expected a JSON object with a string 'text'")
    opinions = doc.setdefault("opinions", {})
    if not isinstance(opinions, dict):
        raise hearth.BadRequest("'opinions' must be an object")
    opinions["keywords"] = top_words(doc["text"])
    return doc


def main(argv=None):
    parser = argparse.ArgumentParser(description="keywords expert (Python library example)")
    parser.add_argument("-b", "--broker", help="broker endpoint (default $HEARTH_BROKER)")
    parser.add_argument("-n", "--concurrency", type=int, default=1)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s py_expert %(levelname)s %(message)s")
    try:
        hearth.serve_workers([hearth.worker_for(keywords, args.broker,
                                                concurrency=args.concurrency)])
    except hearth.HearthError as exc:
        print("py_expert: %s" % exc, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
