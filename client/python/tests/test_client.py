"""hearth.Client against the real broker (and, where the broker cannot be
made to misbehave, against a scripted ROUTER): round trips, typed errors,
local deadlines, many calls in flight, threads sharing one client, what a
call returns (the caller's choice, never the reply's), the one shared
ZeroMQ context and fork."""

import os
import select
import sys
import threading
import time

import msgpack
import pytest
import zmq

from conftest import python_env, thread_worker, wait_workers

import hearth
import hearthtest
from hearth import _context


def echo(doc):
    doc.setdefault("opinions", {})["echo"] = True
    return doc


def test_call_round_trip(broker, client):
    with thread_worker(broker.endpoint, "echo", echo, version="2.1"):
        assert client.call("echo", {"text": "hi"}) == {"text": "hi", "opinions": {"echo": True}}
        reply = client.request("echo", {"n": 1})
        assert reply.status == 200
        assert reply.meta["service"] == "echo" and reply.meta["version"] == "2.1"
        assert reply.doc == {"n": 1, "opinions": {"echo": True}}
        #   bytes in, bytes out: the caller decides the decoding
        assert client.call("echo", b'{"b":1}') == b'{"b":1,"opinions":{"echo":true}}'


def test_ping_and_services(broker, client):
    assert 0 < client.ping() < 5
    with thread_worker(broker.endpoint, "svc", echo, description="desc", concurrency=2,
                       credit=3, idempotent=True, input_schema={"type": "object"},
                       example={"text": "x"}):
        [svc] = client.services("svc")
        assert svc["name"] == "svc" and svc["workers"] == 1 and svc["credit"] == 3
        d = svc["descriptor"]
        assert d["description"] == "desc" and d["concurrency"] == 2 and d["idempotent"] is True
        assert d["input_schema"] == '{"type":"object"}' and d["example"] == '{"text":"x"}'
        assert "svc" in [s["name"] for s in client.services()]


def test_404_no_such_service(client):
    with pytest.raises(hearth.NoSuchService) as info:
        client.call("nobody-serves-this", {})
    assert info.value.status == 404 and "nobody-serves-this" in info.value.error
    assert info.value.meta["error"] == info.value.error


def test_500_worker_error_carries_the_exception_text(broker, client):
    def broken(doc):
        raise KeyError("no such field: %s" % doc["want"])
    with thread_worker(broker.endpoint, "broken", broken):
        with pytest.raises(hearth.WorkerError) as info:
            client.call("broken", {"want": "colour"})
    assert info.value.status == 500
    assert "KeyError" in info.value.error and "no such field: colour" in info.value.error


def test_400_from_handler_and_from_a_body_that_is_not_json(broker, client):
    calls = []

    def picky(doc):
        calls.append(doc)
        raise hearth.BadRequest("need a text field")
    with thread_worker(broker.endpoint, "picky", picky):
        with pytest.raises(hearth.BadRequest) as info:
            client.call("picky", {"x": 1})
        assert info.value.status == 400 and info.value.error == "need a text field"
        with pytest.raises(hearth.BadRequest) as info:
            client.call("picky", b"{not json")
        assert info.value.status == 400 and "not JSON" in info.value.error
    assert calls == [{"x": 1}]          # the bad body never reached the handler


def test_504_from_the_broker(broker, client):
    release = threading.Event()

    def slow(doc):
        release.wait(10)
        return doc
    with thread_worker(broker.endpoint, "slow", slow):
        start = time.monotonic()
        with pytest.raises(hearth.Timeout) as info:
            client.call("slow", {}, timeout=0.3)
        elapsed = time.monotonic() - start
        release.set()
    assert info.value.status == 504 and info.value.meta.get("error")   # the broker's answer
    assert 0.25 <= elapsed < 0.3 + hearth.client.LOCAL_GRACE


def test_502_worker_lost_when_the_worker_process_dies(broker, client):
    code = ("import sys, time, hearth\n"
            "hearth.Worker('doomed', lambda d: time.sleep(60), broker=sys.argv[1]).run()\n")
    worker = hearthtest.Process([sys.executable, "-c", code, broker.endpoint],
                                name="doomed", env=python_env())
    try:
        wait_workers(client, "doomed", 1)
        future = client.submit("doomed", {}, timeout=20)
        hearthtest.wait_until(lambda: client.services("doomed")[0]["in_flight"] == 1,
                              what="request held by the worker")
        worker.kill()
        with pytest.raises(hearth.WorkerLost) as info:
            future.result(timeout=15)
        assert info.value.status == 502
    finally:
        worker.kill()


@pytest.fixture
def scripted_broker():
    """A bare ROUTER standing in for the broker: (socket, endpoint). It
    answers nothing unless the test makes it."""
    ctx = zmq.Context()
    router = ctx.socket(zmq.ROUTER)
    router.linger = 0
    router.bind("tcp://127.0.0.1:*")
    try:
        yield router, router.getsockopt_string(zmq.LAST_ENDPOINT)
    finally:
        router.close()
        ctx.term()


def test_local_deadline_fires_when_nothing_answers(scripted_broker):
    router, endpoint = scripted_broker
    with hearth.Client(endpoint) as client:
        start = time.monotonic()
        with pytest.raises(hearth.Timeout) as info:
            client.call("swallowed", {"a": 1}, timeout=0.2)
        elapsed = time.monotonic() - start
        assert info.value.status == 504 and info.value.meta == {}
        assert 0.2 <= elapsed < 0.2 + hearth.client.LOCAL_GRACE + 2
        #   the request did reach the broker side, with its deadline
        identity, *frames = router.recv_multipart(zmq.NOBLOCK)
        assert frames[4] == b"swallowed"
        assert msgpack.unpackb(frames[5])["deadline"] == 200
        future = client.submit("swallowed", {}, timeout=0.2)
        with pytest.raises(hearth.Timeout):
            future.result(timeout=10)


def test_route_expression_travels_as_the_service_frame(scripted_broker):
    router, endpoint = scripted_broker
    with hearth.Client(endpoint) as client:
        future_thread = []
        t = threading.Thread(target=lambda: future_thread.append(
            client.pipeline(["a", ["b", "c"], "d"], {"x": 1}, timeout=5, trace=True)))
        t.start()
        assert router.poll(5000)
        identity, *frames = router.recv_multipart()
        assert frames[4] == b"a,[b,c],d"
        trace = [{"stage": 0, "service": "a"}]
        router.send_multipart([identity, b"", b"HEARTHC1", b"\x02", frames[3], b"200",
                               msgpack.packb({"trace": trace}), b'{"x":2}'])
        t.join(10)
        assert future_thread == [({"x": 2}, trace)]


def test_broker_unreachable_without_a_connection():
    with _closed_port() as port:
        with hearth.Client("tcp://127.0.0.1:%d" % port, connect_timeout=0.3) as client:
            start = time.monotonic()
            with pytest.raises(hearth.BrokerUnreachable) as info:
                client.call("x", {}, timeout=10)
            assert time.monotonic() - start < 3
            assert info.value.status is None and "no connection" in info.value.error


class _closed_port:
    """A port nothing listens on: bound, read, and closed again."""

    def __enter__(self):
        import socket
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        return port

    def __exit__(self, *exc):
        return False


def test_broker_unreachable_when_the_connection_drops(broker):
    with hearth.Client(broker.endpoint, connect_timeout=1.0) as client:
        client.ping()
        future = client.submit("hearth.ping", b"x", timeout=30)   # answered: harmless
        future.result(10)
        release = threading.Event()
        with thread_worker(broker.endpoint, "hang", lambda d: release.wait(20) and d):
            pending = client.submit("hang", {}, timeout=30)
            hearthtest.wait_until(lambda: client.services("hang")[0]["in_flight"] == 1,
                                  what="request in flight")
            broker.kill()
            with pytest.raises(hearth.BrokerUnreachable):
                pending.result(timeout=15)
            release.set()


def test_submit_and_call_many_with_200_in_flight_keep_order(broker, client):
    seen = []

    def tag(doc):
        seen.append(doc["i"])
        if doc["i"] == 7:
            raise ValueError("seven")
        doc["double"] = doc["i"] * 2
        return doc
    with thread_worker(broker.endpoint, "tag", tag, concurrency=4, credit=250):
        futures = [client.submit("tag", {"i": i}) for i in range(200)]
        results = [f.result(timeout=30) if i != 7 else f.exception(timeout=30)
                   for i, f in enumerate(futures)]
        assert isinstance(results[7], hearth.WorkerError)
        assert [r["double"] for i, r in enumerate(results) if i != 7] == \
            [2 * i for i in range(200) if i != 7]
        #   200 were in flight at once: the worker got them without waiting
        assert max(s["in_flight"] for s in client.services("tag")) <= 250

        docs = [{"i": i} for i in range(1000)]
        results = client.call_many("tag", docs, window=200)
        assert len(results) == 1000
        assert isinstance(results[7], hearth.WorkerError) and "seven" in results[7].error
        assert all(results[i]["double"] == 2 * i for i in range(1000) if i != 7)
        with pytest.raises(hearth.WorkerError):
            client.call_many("tag", docs[:20], window=5, return_exceptions=False)
    assert sorted(seen).count(3) == 3       # each document ran once per batch


def test_eight_threads_share_one_client(broker, client):
    with thread_worker(broker.endpoint, "echo", echo, concurrency=2, credit=8):
        errors = []

        def caller(k):
            try:
                for i in range(150):
                    doc = client.call("echo", {"k": k, "i": i})
                    assert doc == {"k": k, "i": i, "opinions": {"echo": True}}, doc
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
        threads = [threading.Thread(target=caller, args=(k,)) for k in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert not any(t.is_alive() for t in threads)
        assert errors == []


def test_sync_calls_beside_futures_and_a_slow_caller(broker, client):
    # Exercises the hand-over between a caller reading for itself and the
    # I/O thread: a lone caller, futures in flight, a second caller that
    # waits long, and callers coming and going.
    def handler(doc):
        if doc.get("slow"):
            time.sleep(0.3)
        return doc
    with thread_worker(broker.endpoint, "mixed", handler, concurrency=4, credit=8):
        assert client.call("mixed", {"i": -1}) == {"i": -1}     # alone: reads itself
        futures = [client.submit("mixed", {"f": i}) for i in range(40)]
        slow = threading.Thread(target=lambda: client.call("mixed", {"slow": 1}))
        slow.start()
        for i in range(100):
            assert client.call("mixed", {"i": i}) == {"i": i}
        assert [f.result(timeout=30) for f in futures] == [{"f": i} for i in range(40)]
        slow.join(30)
        assert not slow.is_alive()
        assert client.call("mixed", {"i": 100}) == {"i": 100}


def test_close_fails_a_waiting_call_promptly(broker):
    client = hearth.Client(broker.endpoint)
    with thread_worker(broker.endpoint, "stall", lambda doc: time.sleep(5) or doc):
        outcome = []

        def caller():
            try:
                client.call("stall", {}, timeout=30)
            except hearth.HearthError as exc:
                outcome.append(exc)
        t = threading.Thread(target=caller)
        t.start()
        hearthtest.wait_until(lambda: client._sync_waiters == 1, what="call waiting")
        start = time.monotonic()
        client.close()
        t.join(10)
        assert not t.is_alive() and len(outcome) == 1, outcome
        assert time.monotonic() - start < 5, "the call waited for its reply"


def test_closed_client_refuses_calls(broker):
    client = hearth.Client(broker.endpoint)
    client.close()
    client.close()
    with pytest.raises(hearth.HearthError):
        client.call("hearth.ping", b"x")


def test_default_endpoint_from_environment(monkeypatch):
    monkeypatch.setenv("HEARTH_BROKER", "tcp://127.0.0.1:1")
    with hearth.Client(connect_timeout=0.1) as client:
        assert client.broker == "tcp://127.0.0.1:1"


def test_pipeline_through_the_broker_with_a_group_and_a_failing_stage(broker, client):
    def stage(name):
        def handler(doc):
            if doc.get("fail") == name:
                raise RuntimeError("%s refuses" % name)
            doc.setdefault("opinions", {})[name] = len(doc["opinions"]) if "opinions" in doc else 0
            return doc
        return handler
    with thread_worker(broker.endpoint, "first", stage("first")), \
            thread_worker(broker.endpoint, "left", stage("left")), \
            thread_worker(broker.endpoint, "right", stage("right")), \
            thread_worker(broker.endpoint, "last", stage("last")):
        doc, trace = client.pipeline(["first", ["left", "right"], "last"], {"text": "x"},
                                     trace=True)
        assert doc == {"text": "x", "opinions": {"first": 0, "left": 1, "right": 1, "last": 3}}
        assert sorted((t["stage"], t["service"]) for t in trace) == \
            [(0, "first"), (1, "left"), (1, "right"), (2, "last")]
        with pytest.raises(hearth.WorkerError) as info:
            client.pipeline(["first", "last"], {"text": "y", "fail": "last"})
        assert info.value.meta["stage"] == 1 and "last refuses" in info.value.error
        assert hearth.client.decode_body(info.value.body, False)["opinions"] == {"first": 0}


# ---------------------------------------------------------------- what call returns


def exchange(router, call, status=b"200", meta=b"", body=b""):
    """Runs call() in a thread while the scripted broker answers its one
    request with (status, meta, body). Returns ("ok", value) or ("raised",
    exception)."""
    outcome = []

    def run():
        try:
            outcome.append(("ok", call()))
        except BaseException as exc:  # noqa: BLE001 - returned to the test
            outcome.append(("raised", exc))
    thread = threading.Thread(target=run)
    thread.start()
    assert router.poll(5000), "no request came"
    identity, *frames = router.recv_multipart()
    router.send_multipart([identity, b"", b"HEARTHC1", b"\x02", frames[3], status, meta, body])
    thread.join(10)
    assert not thread.is_alive() and len(outcome) == 1
    return outcome[0]


JSON_BODY = b'{"a":[1,2]}'


@pytest.mark.parametrize("doc,raw,body,expected", [
    ({"q": 1}, None, JSON_BODY, {"a": [1, 2]}),     # a document in, a document out
    (b"q", None, JSON_BODY, JSON_BODY),             # bytes in, bytes out
    ({"q": 1}, True, JSON_BODY, JSON_BODY),         # asked for bytes
    (b'{"q":1}', False, JSON_BODY, {"a": [1, 2]}),  # asked for JSON
    ({"q": 1}, True, b"\xff not json", b"\xff not json"),
    (b"q", None, b"", b""),
    (["list"], None, b"3", 3),
])
def test_call_returns_what_the_caller_asked_for(scripted_broker, doc, raw, body, expected):
    router, endpoint = scripted_broker
    with hearth.Client(endpoint, timeout=5) as client:
        kind, value = exchange(router, lambda: client.call("svc", doc, raw=raw), body=body)
        assert kind == "ok" and value == expected and type(value) is type(expected)
        kind, value = exchange(router, lambda: client.submit("svc", doc, raw=raw).result(10),
                               body=body)
        assert kind == "ok" and value == expected and type(value) is type(expected)


@pytest.mark.parametrize("body", [b"plain text", b"", b'{"cut":', b"\xff\xfe"])
def test_a_reply_that_should_be_json_and_is_not_raises_bad_reply(scripted_broker, body):
    router, endpoint = scripted_broker
    meta = msgpack.packb({"service": "svc", "worker": "w1"})
    with hearth.Client(endpoint, timeout=5) as client:
        for call in (lambda: client.call("svc", {"q": 1}),
                     lambda: client.call("svc", b"q", raw=False),
                     lambda: client.submit("svc", {"q": 1}).result(10),
                     lambda: client.call_many("svc", [{"q": 1}])[0],
                     lambda: client.pipeline(["svc"], {"q": 1}),
                     lambda: client.request("svc", {"q": 1}).doc):
            kind, error = exchange(router, call, meta=meta, body=body)
            if kind == "ok":            # call_many puts the error in its place
                error = error if isinstance(error, BaseException) else None
            assert isinstance(error, hearth.BadReply), (call, error)
            assert isinstance(error, ValueError) and isinstance(error, hearth.HearthError)
            assert error.status == 200 and error.body == body
            assert error.meta["worker"] == "w1" and "not JSON" in error.error
        #   The bytes are still there for a caller that asks.
        kind, reply = exchange(router, lambda: client.request("svc", {"q": 1}), body=body)
        assert kind == "ok" and reply.body == body and reply.raw is False


def test_any_2xx_is_a_success_and_a_bad_status_frame_a_protocol_error(scripted_broker):
    # As the C library: hearth_error_from_status gives HEARTH_OK for any 2xx.
    router, endpoint = scripted_broker
    with hearth.Client(endpoint, timeout=5) as client:
        kind, reply = exchange(router, lambda: client.request("svc", {}), status=b"201",
                               body=b"{}")
        assert kind == "ok" and reply.status == 201 and reply.doc == {}
        kind, error = exchange(router, lambda: client.call("svc", {}), status=b"2x0")
        assert kind == "raised" and type(error) is hearth.ProtocolError
        kind, error = exchange(router, lambda: client.call("svc", {}), status=b"403",
                               meta=msgpack.packb({"error": "reserved"}))
        assert kind == "raised" and type(error) is hearth.Forbidden
        assert isinstance(error, hearth.BadRequest) and error.error == "reserved"


def test_a_worker_that_answers_text_to_a_json_caller(broker, client):
    with thread_worker(broker.endpoint, "plain", lambda body: b"just text", raw=True):
        with pytest.raises(hearth.BadReply) as info:
            client.call("plain", {"text": "hi"})
        assert info.value.meta["service"] == "plain" and info.value.body == b"just text"
        assert client.call("plain", {"text": "hi"}, raw=True) == b"just text"
        assert client.call("plain", b"hi") == b"just text"


# ---------------------------------------------------------------- one shared context


def test_clients_and_workers_share_one_context_and_close_only_their_own(broker):
    before = _context.open_sockets()
    first = hearth.Client(broker.endpoint, timeout=10)
    second = hearth.Client(broker.endpoint, timeout=10)
    try:
        shared = _context.shared()
        assert first._dealer.context is second._dealer.context is shared
        assert _context.open_sockets() == before + 4        # a DEALER and a monitor each
        with thread_worker(broker.endpoint, "ctx", echo) as worker:
            assert worker._io.sock.context is shared
            assert first.call("ctx", {"n": 1}) == {"n": 1, "opinions": {"echo": True}}
            first.close()
            assert not shared.closed and _context.shared() is shared
            assert _context.open_sockets() == before + 3
            #   The other client and the worker go on.
            assert second.call("ctx", {"n": 2}) == {"n": 2, "opinions": {"echo": True}}
            with pytest.raises(hearth.HearthError):
                first.call("ctx", {"n": 3})
        assert _context.open_sockets() == before + 2        # the worker closed its own
        assert second.ping() < 5
    finally:
        first.close()
        second.close()
    assert _context.open_sockets() == before and not shared.closed


def test_many_clients_one_after_another(broker):
    # Each client's monitor has an inproc address of its own on the shared
    # context, though socket fds (pyzmq's default name) are reused.
    for i in range(50):
        with hearth.Client(broker.endpoint, timeout=10) as client:
            assert client.ping() < 5


def test_a_forked_child_gets_its_own_context_and_the_parent_keeps_working(broker, client):
    client.ping()
    parent_context = _context.shared()
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:                # the child: report on the pipe, never return
        status = 1
        try:
            os.close(read_end)
            try:
                client.call("hearth.ping", b"x")
                inherited = "inherited client answered"
            except hearth.HearthError as exc:
                inherited = "refused" if "another process" in exc.error else repr(exc)
            client.close()      # the parent's sockets: left alone
            with hearth.Client(broker.endpoint, timeout=5) as own:
                own.ping()
                fresh = (_context.shared() is not parent_context
                         and own._dealer.context is _context.shared())
            os.write(write_end, ("%s %s" % (inherited, fresh)).encode())
            status = 0
        finally:
            os._exit(status)
    os.close(write_end)
    done = 0
    try:
        report = b""
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            ready, _, _ = select.select([read_end], [], [], 0.1)
            if ready:
                chunk = os.read(read_end, 4096)
                if not chunk:
                    break
                report += chunk
        status = 0
        while time.monotonic() < deadline and not done:
            done, status = os.waitpid(pid, os.WNOHANG)
            if not done:
                time.sleep(0.02)
        assert done, "the child did not exit"
        assert os.waitstatus_to_exitcode(status) == 0
        assert report == b"refused True"
    finally:
        os.close(read_end)
        if not done:            # still ours to stop: not yet reaped
            os.kill(pid, 9)
            os.waitpid(pid, 0)
    #   The parent's client and context are untouched by the child.
    assert client.ping() < 5 and _context.shared() is parent_context


def test_a_closed_monitor_never_blocks_the_shared_io_thread():
    # libzmq's I/O thread sends each monitor event blocking: were a Client's
    # monitor PAIR closed while its DEALER still reported events, the next
    # event (here the broker going away, then coming back) would block that
    # thread, the one every Client and Worker of the process shares.
    other = zmq.Context()
    broker = other.socket(zmq.ROUTER)
    broker.linger = 0
    broker.bind("tcp://127.0.0.1:*")
    endpoint = broker.getsockopt_string(zmq.LAST_ENDPOINT)
    dealer = _context.socket(zmq.DEALER)
    dealer.linger = 0
    pair = _context.monitor(dealer, zmq.EVENT_CONNECTED | zmq.EVENT_DISCONNECTED)
    again = None
    try:
        dealer.connect(endpoint)
        assert pair.poll(5000), "no CONNECTED event"
        _context.close_monitor(dealer, pair)
        broker.close()                      # DISCONNECTED, with no monitor to take it
        again = other.socket(zmq.ROUTER)
        again.linger = 0

        def rebound():
            # zmq_close is asynchronous: the port is free a moment later.
            try:
                again.bind(endpoint)        # the dealer reconnects: CONNECTED
                return True
            except zmq.ZMQError:
                return False
        hearthtest.wait_until(rebound, what="the port free again")
        # The old ROUTER's connection may outlive its listener for a moment
        # (its close is asynchronous too) and swallow a first message, so
        # send until one arrives; a blocked I/O thread delivers none.
        deadline = time.monotonic() + 10
        arrived = False
        while not arrived and time.monotonic() < deadline:
            dealer.send(b"still here")
            arrived = bool(again.poll(200))
        assert arrived, "the shared I/O thread is blocked"
        assert again.recv_multipart()[1] == b"still here"
    finally:
        _context.close(dealer)
        if again is not None:
            again.close()
        broker.close()
        other.term()
