"""hearth.Worker against the real broker: heartbeats while a handler runs,
reconnection after a broker restart, refusal, concurrency, graceful stop."""

import threading
import time

import pytest

from conftest import thread_worker, wait_workers

import hearth
import hearthtest


def test_heartbeats_continue_while_a_3s_handler_runs():
    broker = hearthtest.start_broker("--heartbeat", "200", "--liveness", "3")
    try:
        def model(doc):
            #   CPU-bound on purpose: the I/O thread must still get the GIL.
            end = time.monotonic() + 3.0
            n = 0
            while time.monotonic() < end:
                n += 1
            doc["spins"] = n > 0
            return doc
        with hearth.Client(broker.endpoint, timeout=20) as client:
            with thread_worker(broker.endpoint, "model", model) as worker:
                registered_as = worker.worker_id
                reply = client.request("model", {"t": 1})
                assert reply.doc == {"t": 1, "spins": True}
                #   the same registration answered: never expired meanwhile
                assert reply.meta["worker"] == registered_as == worker.worker_id
                assert reply.meta["run_ms"] >= 2900
                assert client.services("model")[0]["workers"] == 1
    finally:
        broker.stop()


def test_worker_reconnects_after_a_broker_restart():
    first = hearthtest.start_broker("--heartbeat", "200")
    endpoint = first.endpoint
    second = None
    try:
        with thread_worker(endpoint, "phoenix", lambda d: {"ok": d["n"]}) as worker:
            with hearth.Client(endpoint, timeout=10) as client:
                assert client.call("phoenix", {"n": 1}) == {"ok": 1}
            first.kill()
            hearthtest.wait_until(lambda: not worker.registered.is_set(), timeout=15,
                                  what="worker noticing the broker is gone")
            second = hearthtest.start_broker("--heartbeat", "200", endpoint=endpoint)
            assert worker.registered.wait(20), "worker did not register again"
            with hearth.Client(endpoint, timeout=10) as client:
                wait_workers(client, "phoenix", 1)
                assert client.call("phoenix", {"n": 2}) == {"ok": 2}
            assert worker.worker_id is not None
    finally:
        first.kill()
        if second:
            second.stop()


def test_reserved_name_is_rejected(broker):
    worker = hearth.Worker("hearth.mine", lambda d: d, broker=broker.endpoint)
    with pytest.raises(hearth.Rejected) as info:
        worker.run()
    assert info.value.status == 403


@pytest.mark.parametrize("name", ["", "a,b", "a b", "[a]", "tab\there", "x" * 256])
def test_bad_service_names_are_refused_locally(name):
    with pytest.raises(ValueError):
        hearth.Worker(name, lambda d: d)


def test_concurrency_runs_handlers_in_parallel(broker, client):
    running = []
    peak = []
    lock = threading.Lock()

    def sleepy(doc):
        with lock:
            running.append(1)
            peak.append(len(running))
        time.sleep(0.5)
        with lock:
            running.pop()
        return doc
    with thread_worker(broker.endpoint, "sleepy", sleepy, concurrency=4):
        start = time.monotonic()
        results = client.call_many("sleepy", [{"i": i} for i in range(8)], window=8)
        elapsed = time.monotonic() - start
    assert [r["i"] for r in results] == list(range(8))
    assert max(peak) == 4
    assert elapsed < 3.0                    # 8 x 0.5 s in series would be 4 s


def test_stop_finishes_held_requests(broker, client):
    started = threading.Event()

    def slowish(doc):
        started.set()
        time.sleep(0.5)
        return {"done": doc["i"]}
    worker = hearth.Worker("drain", slowish, broker=broker.endpoint)
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    assert worker.registered.wait(10)
    future = client.submit("drain", {"i": 5})
    assert started.wait(10)
    worker.stop()
    assert future.result(timeout=10) == {"done": 5}   # not 502: drained
    thread.join(10)
    assert not thread.is_alive()
    hearthtest.wait_until(lambda: _workers(client, "drain") == 0, what="worker removed")


def _workers(client, service):
    try:
        return client.services(service)[0]["workers"]
    except hearth.NoSuchService:
        return 0


def test_expert_decorator_keeps_the_function_plain(broker, client):
    @hearth.expert("shout", version="3", description="upper-cases text")
    def shout(doc):
        doc["text"] = doc["text"].upper()
        return doc
    assert shout({"text": "a"}) == {"text": "A"}
    assert shout in hearth.experts()
    worker = hearth.worker_for(shout, broker.endpoint)
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    try:
        assert worker.registered.wait(10)
        reply = client.request("shout", {"text": "hey"})
        assert reply.doc == {"text": "HEY"} and reply.meta["version"] == "3"
    finally:
        worker.stop()
        thread.join(10)


def test_a_request_whose_deadline_passed_in_the_local_queue_is_not_run(broker, client):
    ran = []
    release = threading.Event()

    def one_at_a_time(doc):
        ran.append(doc["i"])
        if doc["i"] == 0:
            release.wait(10)
        return doc
    with thread_worker(broker.endpoint, "busy", one_at_a_time, credit=2):
        first = client.submit("busy", {"i": 0}, timeout=10)
        hearthtest.wait_until(lambda: ran == [0], what="first request running")
        sent_at = time.monotonic()
        with pytest.raises(hearth.Timeout):
            client.call("busy", {"i": 1}, timeout=0.3)   # held locally behind the first
        # The worker's clock for request 1 starts when it arrives, a transit
        # later than ours: its deadline is sent_at + 0.3 s + transit.  Release
        # the first request only once that has surely passed (transit is a
        # few ms; 2 s covers a stalled CI machine).
        hearthtest.wait_until(lambda: time.monotonic() > sent_at + 2.3,
                              what="request 1's deadline passed at the worker")
        release.set()
        assert first.result(timeout=10) == {"i": 0}
        assert client.call("busy", {"i": 2}) == {"i": 2}  # its credit came back
    assert ran == [0, 2]
