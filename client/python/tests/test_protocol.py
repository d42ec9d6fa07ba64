"""Unit tests without a broker: wire constants, route expressions, error
mapping, body encoding."""

import re

import pytest

from conftest import REPO

import hearth
from hearth import protocol as P
from hearth.client import decode_body, encode_doc, unpack_meta
from hearth.errors import error_for

PROTO_H = REPO + "/include/hearth/hearth_proto.h"


def header_defines():
    define = re.compile(r"^\s*#define\s+(HEARTH_\w+)\s+(.+?)\s*(/\*.*)?$")
    values = {}
    with open(PROTO_H, encoding="utf-8") as f:
        for line in f:
            m = define.match(line)
            if m:
                values[m.group(1)] = m.group(2).strip()
    return values


def test_every_header_constant_is_mirrored_with_its_value():
    defines = header_defines()
    assert len(defines) > 60
    for name, text in defines.items():
        if name == "HEARTH_PROTO_H_INCLUDED":
            continue
        assert hasattr(P, name), "protocol.py lacks %s" % name
        ours = getattr(P, name)
        if text.startswith('"'):
            expected = text.strip('"')
            assert (ours.decode() if isinstance(ours, bytes) else ours) == expected, name
        else:
            assert ours == int(eval(text, {}, {})), name  # noqa: S307 - our header


def test_route_expression():
    assert hearth.route_expression(["a", "b", "c"]) == "a,b,c"
    assert hearth.route_expression(["a", ["b", "c"], "d"]) == "a,[b,c],d"
    assert hearth.route_expression(("a", ("b",))) == "a,[b]"
    assert hearth.route_expression("single") == "single"
    for bad in ([], ["a", []], ["a,b"], ["a b"], ["[x]"], [""], [3]):
        with pytest.raises(ValueError):
            hearth.route_expression(bad)


@pytest.mark.parametrize("status,cls", [
    (400, hearth.BadRequest), (403, hearth.BadRequest), (413, hearth.BadRequest),
    (501, hearth.BadRequest), (404, hearth.NoSuchService), (500, hearth.WorkerError),
    (502, hearth.WorkerLost), (503, hearth.Unavailable), (504, hearth.Timeout),
    (418, hearth.BadRequest), (599, hearth.HearthError)])
def test_error_for_status(status, cls):
    error = error_for(status, {"error": "why", "extra": 1})
    assert type(error) is cls
    assert isinstance(error, hearth.HearthError)
    assert error.status == status and error.error == "why" and error.meta["extra"] == 1
    assert str(error) == "%d why" % status


def test_error_without_text_names_the_status():
    assert error_for(503, {}).error == "status 503"
    assert isinstance(error_for(504, {}), TimeoutError)
    assert isinstance(hearth.BrokerUnreachable("x"), ConnectionError)
    assert hearth.BrokerUnreachable("x").status is None


def test_body_encoding():
    assert encode_doc(b"\x00raw") == b"\x00raw"
    body = encode_doc({"text": "line\nbreak", "n": 1, "u": "\u00e9"})
    assert b"\n" not in body
    assert decode_body(body, False) == {"text": "line\nbreak", "n": 1, "u": "\u00e9"}
    assert decode_body(b"not json", False) == b"not json"
    assert decode_body(b"[1]", True) == b"[1]"


def test_metadata_with_bad_utf8_keeps_its_error_text():
    # A peer (an old worker, a C program) may put Latin-1 in "error".
    frame = b"\x81\xa5error\xa4caf\xe9"
    assert unpack_meta(frame) == {"error": "caf\ufffd"}
    assert unpack_meta(b"\x93\x01\x02\x03") == {}       # not a map
    assert unpack_meta(b"\xc1") == {}                   # not msgpack
