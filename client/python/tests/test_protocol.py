"""Unit tests without a broker: wire constants, route expressions, error
mapping (against the C library's own table), body encoding, the type
hints' marker."""

import inspect
import os
import re
import subprocess
import typing

import pytest

from conftest import PYROOT, REPO

import hearth
from hearth import errors as E
from hearth import protocol as P
from hearth.client import decode_body, encode_doc, unpack_meta
from hearth.errors import class_for_status, error_for

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
    (400, hearth.BadRequest), (403, hearth.Forbidden), (413, hearth.TooLarge),
    (501, hearth.Unimplemented), (404, hearth.NoSuchService), (500, hearth.WorkerError),
    (502, hearth.WorkerLost), (503, hearth.Unavailable), (504, hearth.Timeout),
    (418, hearth.BadRequest), (599, hearth.WorkerError), (302, hearth.UnknownStatus),
    (600, hearth.UnknownStatus), (0, hearth.UnknownStatus)])
def test_error_for_status(status, cls):
    error = error_for(status, {"error": "why", "extra": 1})
    assert type(error) is cls
    assert isinstance(error, hearth.HearthError)
    assert error.status == status and error.error == "why" and error.meta["extra"] == 1
    assert str(error) == "%d why" % status


def test_finer_classes_are_caught_as_before():
    # 403, 413 and 501 were BadRequest before they had classes of their own.
    for status in (403, 413, 501):
        assert isinstance(error_for(status, {}), hearth.BadRequest)
    assert isinstance(error_for(501, {}), NotImplementedError)
    assert issubclass(hearth.BrokerLost, hearth.BrokerUnreachable)
    assert isinstance(hearth.BadReply("x"), ValueError)


def test_every_2xx_is_a_success_and_not_an_error():
    for status in (200, 201, 299):
        assert class_for_status(status) is None
        with pytest.raises(ValueError):
            error_for(status, {})


def c_table():
    """(status -> C error name, C error name -> strerror text), printed by
    tests/python/status_table.c through the C library itself."""
    binary = os.environ.get("HEARTH_STATUS_TABLE_BIN")
    assert binary, "HEARTH_STATUS_TABLE_BIN is not set (ctest sets it: python.protocol)"
    out = subprocess.run([binary], capture_output=True, text=True, timeout=30, check=True).stdout
    statuses, texts = {}, {}
    for line in out.splitlines():
        kind, key, value = line.split(" ", 2)
        if kind == "status":
            statuses[int(key)] = value
        else:
            texts[key] = value
    assert len(statuses) == 1000 and "HEARTH_ETIMEOUT" in texts
    return statuses, texts


def test_every_status_maps_to_the_class_of_the_c_error():
    statuses, _ = c_table()
    for status, c_name in statuses.items():
        cls = class_for_status(status)
        ours = "HEARTH_OK" if cls is None else cls.code
        assert ours == c_name, "status %03d: C says %s, Python %s" % (status, c_name,
                                                                       cls.__name__)
        if cls is not None:
            assert type(error_for(status, {})) is cls


def every_error_class():
    return [v for v in vars(E).values()
            if isinstance(v, type) and issubclass(v, hearth.HearthError)]


def test_each_class_has_the_c_name_and_text_of_its_error():
    _, texts = c_table()
    named = {}
    for cls in every_error_class():
        if cls.code is None:
            continue            # HearthError itself and BadReply: no C error
        assert cls.code in texts, "%s: %s is not a C error" % (cls.__name__, cls.code)
        assert cls.description == texts[cls.code], cls.__name__
        assert cls.code not in named, "%s and %s share %s" % (cls.__name__,
                                                               named.get(cls.code), cls.code)
        named[cls.code] = cls.__name__
        assert cls in vars(hearth).values(), "hearth does not export %s" % cls.__name__
    # Every C error a call can end with has its class; the rest are a C
    # caller's own mistakes or local failures Python raises as ValueError,
    # MemoryError or OSError.
    local = {"HEARTH_OK", "HEARTH_EINVAL", "HEARTH_ENOMEM", "HEARTH_ESYS"}
    assert set(named) == set(texts) - local


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
    assert decode_body(b"[1]", True) == b"[1]"
    assert decode_body(b"not json", True) == b"not json"


@pytest.mark.parametrize("body", [b"not json", b"", b"{\"a\":", b"\xff\xfe\x00"])
def test_a_body_that_should_be_json_and_is_not_raises_bad_reply(body):
    with pytest.raises(hearth.BadReply) as info:
        decode_body(body, False, 200, {"service": "svc"})
    assert info.value.body == body and info.value.status == 200
    assert info.value.meta == {"service": "svc"} and "svc" in info.value.error
    assert "not JSON" in str(info.value)


def test_the_package_ships_its_type_hints():
    # PEP 561: without py.typed a type checker ignores the package's hints.
    assert os.path.isfile(os.path.join(PYROOT, "hearth", "py.typed"))
    # Every parameter of every public function is annotated (python.mypy
    # checks the rest, strictly).
    for obj in [getattr(hearth, name) for name in hearth.__all__]:
        functions = [obj] if inspect.isfunction(obj) else \
            [f for n, f in vars(obj).items() if inspect.isfunction(f)
             and (not n.startswith("_") or n == "__init__")] if inspect.isclass(obj) else []
        for function in functions:
            hints = typing.get_type_hints(function)
            for name in inspect.signature(function).parameters:
                assert name == "self" or name in hints, (function.__qualname__, name)
            assert "return" in hints, function.__qualname__


def test_metadata_with_bad_utf8_keeps_its_error_text():
    # A peer (an old worker, a C program) may put Latin-1 in "error".
    frame = b"\x81\xa5error\xa4caf\xe9"
    assert unpack_meta(frame) == {"error": "caf\ufffd"}
    assert unpack_meta(b"\x93\x01\x02\x03") == {}       # not a map
    assert unpack_meta(b"\xc1") == {}                   # not msgpack
