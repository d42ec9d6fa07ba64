"""Deadlines (PROTOCOL.md 3.1, 5.3, 4.3) against the real broker."""

import time

from hearthtest import P


def test_deadline_at_worker_504(env):
    """5.3: "A request whose deadline passes at a worker MUST be answered with
    504; the worker's later REPLY is dropped and its credit returned"."""
    m = env.mesh
    worker = m.native_worker("mute")
    client = m.native_client()
    t0 = time.monotonic()
    rid = client.request("mute", b"x", {"deadline": 200})
    job = worker.recv_job()
    assert job is not None
    assert job.meta["deadline"] <= 200
    reply = client.recv(timeout=10, rid=rid)
    elapsed = time.monotonic() - t0
    assert reply is not None and reply.status == P.HEARTH_STATUS_TIMEOUT, reply
    assert reply.error
    assert 0.15 <= elapsed < 2.0, "504 after %.2f s for a 200 ms deadline" % elapsed
    # the late reply is dropped: the client gets nothing more
    worker.reply(job, 200, b"too late")
    rid2 = client.request("mute", b"y", {"deadline": 5000})
    job2 = worker.recv_job()
    assert job2 is not None, "credit was not returned by the late REPLY"
    worker.reply(job2, 200, b"in time")
    reply = client.recv(rid=rid2)
    assert reply.body == b"in time"
    assert client.recv(timeout=0.2) is None, "the late REPLY reached the client"


def test_deadline_in_queue_504_never_dispatched(env):
    """5.3: "A request whose deadline passes in the queue MUST be answered with
    504 and never dispatched"."""
    m = env.mesh
    w1 = m.native_worker("one")
    client = m.native_client()
    rid_hold = client.request("one", b"hold", {"deadline": 20000})
    held = w1.recv_job()
    assert held is not None
    t0 = time.monotonic()
    rid = client.request("one", b"expires", {"deadline": 200})
    reply = client.recv(timeout=10, rid=rid)
    elapsed = time.monotonic() - t0
    assert reply is not None and reply.status == P.HEARTH_STATUS_TIMEOUT, reply
    assert elapsed < 2.0
    # neither a worker that registers later nor the freed one may get it
    w2 = m.native_worker("one")
    w1.reply(held, 200, b"held")
    assert client.recv(rid=rid_hold).status == 200
    for w in (w1, w2):
        job = w.recv_job(timeout=0.3)
        assert job is None, "an expired request was dispatched: %r" % job


def test_deadline_zero_is_expired(env):
    """5.3: "0 means already expired"."""
    m = env.mesh
    worker = m.native_worker("zero")
    client = m.native_client()
    reply = client.call("zero", b"x", {"deadline": 0})
    assert reply is not None and reply.status == P.HEARTH_STATUS_TIMEOUT, reply
    assert worker.recv_job(timeout=0.3) is None


def test_default_deadline_applies(hearth):
    """5.3: "without one the broker applies default_deadline_ms"."""
    env = hearth("--default-deadline", "300")
    m = env.mesh
    worker = m.native_worker("dflt")
    client = m.native_client()
    t0 = time.monotonic()
    rid = client.request("dflt", b"x")
    job = worker.recv_job()
    assert job is not None and 0 < job.meta["deadline"] <= 300, job
    reply = client.recv(timeout=10, rid=rid)
    assert reply is not None and reply.status == P.HEARTH_STATUS_TIMEOUT
    assert time.monotonic() - t0 < 2.5


def test_mdp_request_expires_in_queue(hearth):
    """5.3: "MDP requests get the default ... MDP clients get no error reply
    (MDP has none): the expired request is dropped"; 5.1 "it expires like any
    other"."""
    env = hearth("--default-deadline", "200")
    m = env.mesh
    client = m.mdp_client()
    client.request("ghost", b"lost")
    assert client.recv(timeout=0.6) is None
    worker = m.mdp_worker("ghost")
    m.wait_mmi("ghost", b"200")
    assert worker.recv_job(timeout=0.3) is None, "an expired MDP request was dispatched"


def test_deadline_rewritten_at_dispatch(env):
    """4.3: "The REQUEST metadata is the client's map with deadline rewritten
    to the budget remaining at dispatch"."""
    m = env.mesh
    worker = m.native_worker("budget")
    client = m.native_client()
    first = client.request("budget", b"hold", {"deadline": 10000})
    held = worker.recv_job()
    assert held is not None
    second = client.request("budget", b"queued", {"deadline": 3000})
    m.idle(0.5)                        # the second request spends 0.5 s queued
    worker.reply(held, 200, b"1")
    job = worker.recv_job()
    assert job is not None and job.body == b"queued"
    assert job.meta["deadline"] <= 2600, "deadline not reduced by queue time: %r" % job.meta
    assert job.meta["deadline"] >= 1000, job.meta
    worker.reply(job, 200, b"2")
    assert client.recv(rid=first).status == 200
    assert client.recv(rid=second).status == 200
