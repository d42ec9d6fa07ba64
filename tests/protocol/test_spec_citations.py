"""Spec citations in the tests are true: every sentence a test quotes from
schemas/PROTOCOL.md appears in the section the test names.

A citation is a section number, a colon and a quoted sentence, as the tests
write them: `5.1: "A native request ... MUST get 404 at once"`, optionally
after "PROTOCOL.md" or "section", with alternatives as in `3.1 / 4.3:`;
further quotes joined to it by ";" or "," (`11: "..."; "..."`) cite the same
section. Where a quote says "...", each part must appear, in that order.
Text is compared with whitespace collapsed, markdown's backticks and
asterisks removed and the spec's typography in ASCII (x for the times sign,
- for the dash); a section includes its subsections (a quote cited as 9 may
sit in 9.1). Scanned: docstrings of
the Python tests (tests/, client/python/tests) and the comments of the C
tests (tests/)."""

import ast
import os
import re

import pytest

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
SPEC = os.path.join(ROOT, "schemas", "PROTOCOL.md")
SCANNED = [os.path.join(ROOT, "tests"), os.path.join(ROOT, "client", "python", "tests")]

SECTION = r"\d+(?:\.\d+)*"
# (?<!RFC ): "RFC 7: ..." cites another document. A few words may sit between
# the number and the colon ("3.1 as a property: ").
CITATION = re.compile(r'(?<![\w.])(?<!RFC )(?:PROTOCOL\.md\s+)?(?:section\s+)?(%s(?:\s*/\s*%s)*)'
                      r'(?:\s+[a-z]+){0,3}\s*:\s+"([^"]+)"' % (SECTION, SECTION))
MORE = re.compile(r'\s*[;,]\s*"([^"]+)"')
HEADING = re.compile(r"^#{2,}\s+(%s)\.?\s" % SECTION)


def normalise(text):
    for fancy, plain in (("`", ""), ("*", ""), ("\u00d7", "x"), ("\u2014", "-"), ("\u2013", "-")):
        text = text.replace(fancy, plain)
    return " ".join(text.split())


def spec_sections():
    """{number: normalised text}, each section with its subsections'."""
    own, number = {}, None
    with open(SPEC, encoding="utf-8") as f:
        for line in f:
            m = HEADING.match(line)
            if m:
                number = m.group(1)
                own[number] = []
            elif number:
                # A list item's "- " is layout, not text: a sentence may run on
                # into the list ("is dead: - the broker removes ...").
                own[number].append(re.sub(r"^\s*- ", "", line))
    return {n: normalise(" ".join(" ".join(own[s]) for s in own if s == n or s.startswith(n + ".")))
            for n in own}


def _docstrings(path):
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read(), path)
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                    and isinstance(body[0].value.value, str):
                yield body[0].lineno, body[0].value.value


def _comments(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    for m in re.finditer(r"/\*.*?\*/", text, re.S):
        yield text.count("\n", 0, m.start()) + 1, m.group(0)


def citations():
    """(where, sections, quote) for every citation in the scanned tests."""
    found = []
    for top in SCANNED:
        for folder, _, files in os.walk(top):
            for name in sorted(files):
                path = os.path.join(folder, name)
                if path == os.path.abspath(__file__):
                    continue            # its docstring shows the format
                if name.endswith(".py"):
                    texts = _docstrings(path)
                elif name.endswith((".c", ".h")):
                    texts = _comments(path)
                else:
                    continue
                for line, text in texts:
                    for m in CITATION.finditer(text):
                        where = "%s:%d" % (os.path.relpath(path, ROOT),
                                           line + text.count("\n", 0, m.start()))
                        numbers = re.split(r"\s*/\s*", m.group(1))
                        found.append((where, numbers, m.group(2)))
                        more, at = 1, m.end()
                        while True:
                            m2 = MORE.match(text, at)
                            if not m2:
                                break
                            more += 1
                            found.append(("%s#%d" % (where, more), numbers, m2.group(1)))
                            at = m2.end()
    return found


SECTIONS = spec_sections()
CITATIONS = citations()


def test_citations_found():
    """The scanner sees the tests' citations (it would pass vacuously if the
    format changed under it)."""
    assert len(CITATIONS) >= 60, CITATIONS


@pytest.mark.parametrize("where,numbers,quote", CITATIONS, ids=[c[0] for c in CITATIONS])
def test_quote_is_in_cited_section(where, numbers, quote):
    unknown = [n for n in numbers if n not in SECTIONS]
    assert not unknown, "%s cites section %s, which PROTOCOL.md does not have" % (where, unknown)
    parts = [normalise(p) for p in re.split(r"\.\.\.|\u2026", quote)]
    parts = [p for p in parts if p]
    assert parts, "%s: an empty quote" % where

    def found_in(text):
        at = 0
        for part in parts:
            # The quote may start mid-way through a spec sentence, or start
            # one the spec has mid-way: the case of its first letter is free.
            hit = text.find(part, at)
            if hit < 0:
                hit = text.find(part[0].swapcase() + part[1:], at)
            if hit < 0:
                return False
            at = hit + len(part)
        return True

    if any(found_in(SECTIONS[n]) for n in numbers):
        return
    # Where it is instead: the innermost sections that hold it.
    holding = [n for n in SECTIONS if found_in(SECTIONS[n])]
    elsewhere = [n for n in holding if not any(c.startswith(n + ".") for c in holding)]
    raise AssertionError("%s cites %s for %r, which is %s" % (
        where, " / ".join(numbers), quote,
        "in section %s" % ", ".join(sorted(elsewhere)) if elsewhere else "not in PROTOCOL.md at all"))
