"""hearth.Client against the real broker (and, where the broker cannot be
made to misbehave, against a scripted ROUTER): round trips, typed errors,
local deadlines, many calls in flight, threads sharing one client."""

import sys
import threading
import time

import msgpack
import pytest
import zmq

from conftest import python_env, thread_worker, wait_workers

import hearth
import hearthtest


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
