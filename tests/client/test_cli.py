"""The `hearth` CLI (docs/cli.md) against a scripted fake broker written
with pyzmq: options, usage errors, exit codes per status, output formats.
Runs the built binary named by $HEARTH_CLI_BIN."""

import json
import os
import re
import subprocess
import threading
import time

import msgpack
import pytest
import zmq

CLI = os.environ.get("HEARTH_CLI_BIN", "hearth")


class FakeBroker:
    """A ROUTER on tcp://127.0.0.1:* in a thread. handler(service, meta,
    body) returns (status, meta dict, body bytes), None for no answer, or
    "vanish" to close the socket (the client's connection drops). Every
    request seen is kept in self.requests."""

    def __init__(self, handler):
        self.handler = handler
        self.requests = []
        self.ctx = zmq.Context()
        self.sock = self.ctx.socket(zmq.ROUTER)
        self.sock.linger = 0
        self.sock.bind("tcp://127.0.0.1:*")
        self.endpoint = self.sock.getsockopt_string(zmq.LAST_ENDPOINT)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        deadline = time.monotonic() + 120
        while not self.stop.is_set() and time.monotonic() < deadline:
            if not self.sock.poll(20):
                continue
            frames = self.sock.recv_multipart()
            if len(frames) != 8 or frames[2] != b"HEARTHC1" or frames[3] != b"\x01":
                continue
            ident, rid, service, meta, body = frames[0], frames[4], frames[5], frames[6], frames[7]
            meta = msgpack.unpackb(meta, raw=False) if meta else {}
            self.requests.append((service.decode(), meta, body))
            answer = self.handler(service.decode(), meta, body)
            if answer == "vanish":
                self.sock.close()
                return
            if answer is None:
                continue
            status, rmeta, rbody = answer
            packed = rmeta if isinstance(rmeta, bytes) else msgpack.packb(rmeta, use_bin_type=True)
            self.sock.send_multipart([ident, b"", b"HEARTHC1", b"\x02", rid,
                                      str(status).encode(), packed, rbody])

    def close(self):
        self.stop.set()
        self.thread.join(10)
        self.sock.close()
        self.ctx.term()


def echo(service, meta, body):
    return 200, {"worker": "w-1", "service": service, "run_ms": 3}, body


@pytest.fixture
def fake(request):
    brokers = []

    def make(handler=echo):
        b = FakeBroker(handler)
        brokers.append(b)
        return b
    yield make
    for b in brokers:
        b.close()


def run(*args, endpoint=None, input_data=None, env=None, timeout_s=30):
    argv = [CLI] + (["-b", endpoint] if endpoint else []) + [str(a) for a in args]
    return subprocess.run(argv, input=input_data if input_data is not None else b"",
                          capture_output=True, timeout=timeout_s, env=env)


# ---------------------------------------------------------------- usage

@pytest.mark.parametrize("args", [["--help"], ["-h"], ["call", "--help"],
                                  ["services", "--help"], ["ping", "--help"]])
def test_help_exit_0(args):
    out = run(*args)
    assert out.returncode == 0, out
    assert b"Usage: hearth" in out.stdout


def test_global_help_documents_exit_codes():
    text = run("--help").stdout.decode()
    for code in range(9):
        assert re.search(r"\b%d\b" % code, text.split("Exit status:")[1]), code


def test_version():
    out = run("--version")
    assert out.returncode == 0 and out.stdout.startswith(b"hearth 0.")


@pytest.mark.parametrize("args", [
    [], ["nope"], ["--nope"], ["-x", "ping"], ["--timeout"], ["--timeout", "0", "ping"],
    ["--timeout", "12x", "ping"], ["--broker"], ["call"], ["call", "a", "b", "c"],
    ["call", "--nope", "svc"], ["call", "x" * 256], ["services", "a", "b"],
    ["services", "--meta"], ["ping", "extra"], ["-b", "not-an-endpoint", "ping"],
])
def test_usage_errors_exit_2(args):
    out = run(*args)
    assert out.returncode == 2, out
    assert out.stderr.startswith(b"hearth: "), out.stderr
    assert out.stdout == b""


# ----------------------------------------------------------------- call

def test_call_prints_body_with_newline(fake):
    b = fake()
    out = run("call", "echo", "hello", endpoint=b.endpoint)
    assert out.returncode == 0, out
    assert out.stdout == b"hello\n"
    out = run("call", "echo", "two\n", endpoint=b.endpoint)
    assert out.stdout == b"two\n"


def test_call_body_from_stdin(fake):
    b = fake()
    data = bytes(range(256)) * 40
    out = run("call", "echo", "-", endpoint=b.endpoint, input_data=data)
    assert out.returncode == 0, out
    assert out.stdout == data + b"\n"
    # BODY absent and stdin not a terminal: stdin is the body too
    out = run("call", "echo", endpoint=b.endpoint, input_data=b"piped")
    assert out.stdout == b"piped\n"
    # a BODY that starts with '-' after '--'
    out = run("call", "echo", "--", "-x", endpoint=b.endpoint)
    assert out.returncode == 0 and out.stdout == b"-x\n", out


def test_call_request_metadata(fake):
    b = fake()
    assert run("--timeout", "4321", "call", "--idempotent", "echo", "x",
               endpoint=b.endpoint).returncode == 0
    service, meta, body = b.requests[-1]
    assert service == "echo" and body == b"x"
    assert meta["deadline"] == 4321
    assert meta["idempotent"] is True
    assert meta["client"] == "hearth" and meta["client_version"]
    assert run("call", "echo", "y", endpoint=b.endpoint).returncode == 0
    meta = b.requests[-1][1]
    assert meta["deadline"] == 30000 and "idempotent" not in meta


def test_call_meta_json_to_stderr(fake):
    def handler(service, meta, body):
        return 200, {"worker": "w-1", "run_ms": 3, "nested": {"a": [1, None, True]},
                     "raw": b"\x00\x01", "neg": -5, "bad": "caf\u00e9"}, b"ok"
    b = fake(handler)
    out = run("call", "--meta", "svc", endpoint=b.endpoint)
    assert out.returncode == 0, out
    assert out.stdout == b"ok\n"
    lines = out.stderr.decode().strip().splitlines()
    assert len(lines) == 1, out.stderr
    meta = json.loads(lines[0])
    assert meta["worker"] == "w-1" and meta["run_ms"] == 3 and meta["neg"] == -5
    assert meta["nested"] == {"a": [1, None, True]}
    assert meta["raw"] == "AAE="          # binary as base64
    assert meta["bad"] == "caf\u00e9"


STATUS_EXIT = [(400, 8, "Bad Request"), (403, 8, "Forbidden"), (404, 5, "Not Found"),
               (413, 8, "Payload Too Large"), (500, 6, "Worker Error"),
               (501, 8, "Not Implemented"), (502, 6, "Worker Lost"),
               (503, 7, "Service Unavailable"), (504, 4, "Gateway Timeout")]


@pytest.mark.parametrize("status,code,text", STATUS_EXIT)
def test_call_status_exit_codes(fake, status, code, text):
    b = fake(lambda s, m, body: (status, {"error": "scripted\x1b[31m"}, b"no"))
    out = run("call", "svc", "x", endpoint=b.endpoint)
    assert out.returncode == code, out
    assert out.stdout == b""
    # the error text is sanitised: no escape byte reaches the terminal
    assert out.stderr == ("hearth: svc: %d %s: scripted?[31m\n" % (status, text)).encode()


def test_call_local_timeout_exit_4(fake):
    b = fake(lambda s, m, body: None)
    t0 = time.monotonic()
    out = run("--timeout", "200", "call", "svc", "x", endpoint=b.endpoint)
    assert out.returncode == 4, out
    assert time.monotonic() - t0 < 5
    assert b"504" in out.stderr and b"deadline exceeded" in out.stderr


def test_call_unreachable_exit_3():
    ctx = zmq.Context()
    s = ctx.socket(zmq.ROUTER)
    s.bind("tcp://127.0.0.1:*")
    endpoint = s.getsockopt_string(zmq.LAST_ENDPOINT)
    s.close()
    ctx.term()
    t0 = time.monotonic()
    out = run("call", "svc", "x", endpoint=endpoint)
    assert out.returncode == 3, out
    assert time.monotonic() - t0 < 5
    assert out.stderr == b"hearth: svc: broker unreachable\n"
    out = run("ping", endpoint=endpoint)
    assert out.returncode == 3, out


def test_call_broker_lost_exit_3(fake):
    b = fake(lambda s, m, body: "vanish")
    out = run("call", "svc", "x", endpoint=b.endpoint)
    assert out.returncode == 3, out
    assert b"broker connection lost" in out.stderr


def test_broker_from_environment(fake):
    b = fake()
    env = dict(os.environ, HEARTH_BROKER=b.endpoint)
    out = run("call", "echo", "env", env=env)
    assert out.returncode == 0 and out.stdout == b"env\n", out


def test_verbose_logs_to_stderr(fake):
    b = fake()
    out = run("-v", "call", "echo", "x", endpoint=b.endpoint)
    assert out.returncode == 0 and out.stdout == b"x\n"
    assert b"200 OK" in out.stderr


# ------------------------------------------------------------- services

SERVICES = [
    {"name": "sentiment", "workers": 2, "mdp_workers": 0, "credit": 8, "in_flight": 1,
     "queued": 0, "descriptor": {"service": "sentiment", "version": "1.2.3",
                                 "description": "Scores text", "credit": 4}},
    {"name": "legacy\x07", "workers": 0, "mdp_workers": 1, "credit": 1, "in_flight": 0,
     "queued": 12, "descriptor": None},
]


def services_handler(listing):
    def handler(service, meta, body):
        if service != "hearth.services":
            return 404, {"error": "no"}, b""
        if body:
            chosen = [e for e in listing if e["name"] == body.decode()]
            if not chosen:
                return 404, {"error": "no service"}, b""
            return 200, {}, msgpack.packb(chosen)
        return 200, {}, msgpack.packb(listing)
    return handler


def test_services_table(fake):
    b = fake(services_handler(SERVICES))
    out = run("services", endpoint=b.endpoint)
    assert out.returncode == 0, out
    lines = out.stdout.decode().splitlines()
    assert lines[0].split() == ["SERVICE", "WORKERS", "MDP", "CREDIT", "IN-FLIGHT",
                                "QUEUED", "VERSION", "DESCRIPTION"]
    assert lines[1].split() == ["sentiment", "2", "0", "8", "1", "0", "1.2.3", "Scores", "text"]
    assert lines[2].split() == ["legacy?", "0", "1", "1", "0", "12", "-", "-"]
    # aligned: every column starts at the same offset on every line
    starts = [m.start() for m in re.finditer(r"\S+", lines[0])]
    for line in lines[1:]:
        assert [line[i - 1] == " " for i in starts[1:]] == [True] * 7, line
    assert b.requests[-1][2] == b""


def test_services_json_and_name(fake):
    b = fake(services_handler(SERVICES))
    out = run("services", "--json", endpoint=b.endpoint)
    assert out.returncode == 0, out
    assert json.loads(out.stdout) == SERVICES
    out = run("services", "--json", "sentiment", endpoint=b.endpoint)
    assert json.loads(out.stdout) == SERVICES[:1]
    assert b.requests[-1][2] == b"sentiment"
    out = run("services", "nothing", endpoint=b.endpoint)
    assert out.returncode == 5, out
    assert out.stderr.startswith(b"hearth: nothing: 404 Not Found")


@pytest.mark.parametrize("body", [b"", b"\xc1", msgpack.packb({"a": 1}),
                                  msgpack.packb([1, 2]), b"\x91"])
def test_services_malformed_answer_exit_1(fake, body):
    b = fake(lambda s, m, _: (200, {}, body))
    out = run("services", endpoint=b.endpoint)
    assert out.returncode == 1, out
    assert b"malformed" in out.stderr


# ----------------------------------------------------------------- ping

def test_ping(fake):
    b = fake()
    out = run("ping", endpoint=b.endpoint)
    assert out.returncode == 0, out
    assert re.fullmatch(r"pong from %s in \d+\.\d\d ms\n" % re.escape(b.endpoint),
                        out.stdout.decode()), out.stdout
    assert b.requests[-1][0] == "hearth.ping"


def test_ping_wrong_echo_exit_1(fake):
    b = fake(lambda s, m, body: (200, {}, b"something else"))
    out = run("ping", endpoint=b.endpoint)
    assert out.returncode == 1, out


def test_malformed_reply_metadata_is_dropped(fake):
    """A reply whose metadata is not a map is dropped by the library: the
    call then ends by its deadline (exit 4), it does not crash."""
    b = fake(lambda s, m, body: (200, b"\x93\x01", b"x"))
    out = run("--timeout", "200", "call", "svc", endpoint=b.endpoint)
    assert out.returncode == 4, out
