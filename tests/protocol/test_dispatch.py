"""Credit, dispatch order, queue bound and message size (PROTOCOL.md 4.3,
5.1, 5.2, 3.3) against the real broker."""

import time

from hearthtest import P, pack, unpack


def collect_jobs(worker, want, timeout=5.0):
    jobs = []
    deadline = time.monotonic() + timeout
    while len(jobs) < want and time.monotonic() < deadline:
        job = worker.recv_job(timeout=max(0.01, deadline - time.monotonic()))
        if job is not None:
            jobs.append(job)
    return jobs


def test_credit_limits_requests_held(env):
    """4.3: "The broker MUST NOT send a worker more REQUESTs than its credit
    minus the requests it holds; each REPLY returns one credit." 5.2: "When a
    worker returns credit (a REPLY) ... queued requests of its service MUST be
    dispatched at once"."""
    m = env.mesh
    worker = m.native_worker("credit", {"credit": 3})
    client = m.native_client()
    rids = [client.request("credit", b"%d" % i, {"deadline": 20000}) for i in range(5)]
    jobs = collect_jobs(worker, 3)
    assert len(jobs) == 3
    assert worker.recv_job(timeout=0.4) is None, "a credit-3 worker received a 4th request"
    worker.reply(jobs[0], 200, b"done0")
    t0 = time.monotonic()
    fourth = worker.recv_job(timeout=5)
    assert fourth is not None, "credit returned but the queued request was not dispatched"
    assert time.monotonic() - t0 < 2.0, "queued request not dispatched at once"
    assert worker.recv_job(timeout=0.3) is None, "credit exceeded after one REPLY"
    for job in jobs[1:] + [fourth]:
        worker.reply(job, 200, b"ok")
    last = worker.recv_job()
    assert last is not None
    worker.reply(last, 200, b"ok")
    answered = {client.recv().rid for _ in range(5)}
    assert answered == set(rids)


def test_dispatch_least_recently_used(env):
    """5.2: "A request goes to the least recently used worker of its service
    that has free credit"."""
    m = env.mesh
    w1 = m.native_worker("lru")
    w2 = m.native_worker("lru")
    client = m.native_client()
    order = []
    for i in range(6):
        rid = client.request("lru", b"%d" % i)
        job = None
        deadline = time.monotonic() + 5
        while job is None and time.monotonic() < deadline:
            for name, w in (("w1", w1), ("w2", w2)):
                job = w.recv_job(timeout=0.01)
                if job is not None:
                    order.append(name)
                    w.reply(job, 200, name.encode())
                    break
        assert job is not None, "request %d not dispatched" % i
        assert client.recv(rid=rid).status == 200
    for a, b in zip(order, order[1:]):
        assert a != b, "dispatch order %r is not least-recently-used" % order


def test_dispatch_skips_worker_without_credit(env):
    """5.2: "... that has free credit": a busy worker is skipped, the free
    one gets the request even if it was used more recently."""
    m = env.mesh
    w1 = m.native_worker("busy")
    client = m.native_client()
    client.request("busy", b"hold", {"deadline": 20000})
    held = w1.recv_job()
    assert held is not None
    w2 = m.native_worker("busy")
    for i in range(3):
        rid = client.request("busy", b"%d" % i)
        job = w2.recv_job()
        assert job is not None, "free worker w2 got nothing while w1 was full"
        w2.reply(job, 200, b"w2")
        assert client.recv(rid=rid).body == b"w2"
    assert w1.recv_job(timeout=0.2) is None
    w1.reply(held, 200, b"w1")
    assert client.recv().body == b"w1"


def test_registration_dispatches_queue(env):
    """5.2: "When a worker ... registers, queued requests of its service MUST
    be dispatched at once"."""
    m = env.mesh
    w1 = m.native_worker("q")
    client = m.native_client()
    client.request("q", b"first", {"deadline": 20000})
    first = w1.recv_job()
    rid = client.request("q", b"second", {"deadline": 20000})
    assert client.recv(timeout=0.2, rid=rid) is None
    w2 = m.native_worker("q")
    job = w2.recv_job(timeout=2)
    assert job is not None and job.body == b"second"
    w2.reply(job, 200, b"2")
    w1.reply(first, 200, b"1")
    assert client.recv(rid=rid).body == b"2"


def test_queue_full_503(hearth):
    """5.1: "Each service has one FIFO queue bounded by queue_max ... a native
    or route request for a service that is full MUST get 503"."""
    env = hearth("--queue-max", "2")
    m = env.mesh
    worker = m.native_worker("slow")          # never answers
    client = m.native_client()
    rids = [client.request("slow", b"%d" % i, {"deadline": 20000}) for i in range(4)]
    assert worker.recv_job() is not None       # the 1st is held, 2nd and 3rd queued
    reply = client.recv(timeout=5)
    assert reply is not None, "no 503 for the 4th request"
    assert reply.rid == rids[3], "the wrong request was refused: %r" % reply
    assert reply.status == P.HEARTH_STATUS_UNAVAILABLE and reply.error
    assert client.recv(timeout=0.3) is None, "a request within the bound was answered"
    assert worker.recv_job(timeout=0.1) is None


def test_memory_budget_503(hearth):
    """5.1: "The broker MUST bound the bytes of all requests it holds (queued,
    at workers or in routes) by max_pending_bytes ...: past it, a new request
    gets 503"; what is freed is usable again."""
    env = hearth("--max-message", "1048576", "--max-pending-bytes", "3145728")
    m = env.mesh
    worker = m.native_worker("hoard", {"credit": 10})     # holds, never answers
    client = m.native_client()
    big = b"x" * 1000000
    rids = [client.request("hoard", big, {"deadline": 20000}) for i in range(4)]
    jobs = collect_jobs(worker, 3)
    assert len(jobs) == 3, "the first three (3 MB) fit the budget"
    reply = client.recv(timeout=5)
    assert reply is not None and reply.rid == rids[3], reply
    assert reply.status == P.HEARTH_STATUS_UNAVAILABLE, reply
    assert "max_pending_bytes" in reply.error, reply.error
    assert worker.recv_job(timeout=0.3) is None, "the refused request was dispatched"
    # One answer frees its megabyte: the next request fits again.
    worker.reply(jobs[0], 200, b"done")
    assert client.recv(rid=rids[0]).status == P.HEARTH_STATUS_OK
    again = client.request("hoard", big, {"deadline": 20000})
    assert worker.recv_job() is not None
    assert client.recv(timeout=0.3) is None, "a request within the budget was refused: %r" % again


def test_request_too_large_413(hearth):
    """3.3: "A message larger than max_message in total is answered 413 when it
    is a native REQUEST"; the broker still serves afterwards."""
    env = hearth("--max-message", "65536")
    m = env.mesh
    worker = m.native_worker("big")
    client = m.native_client()
    reply = client.call("big", b"x" * 100000)
    assert reply is not None, "no reply to an oversized REQUEST"
    assert reply.status == P.HEARTH_STATUS_TOO_LARGE and reply.error
    reply = client.call(P.HEARTH_SVC_PING, b"x" * 100000)
    assert reply is not None and reply.status == P.HEARTH_STATUS_TOO_LARGE
    assert worker.recv_job(timeout=0.1) is None
    # below the limit: served
    rid = client.request("big", b"y" * 30000)
    job = worker.recv_job()
    assert job is not None and len(job.body) == 30000
    worker.reply(job, 200, b"fine")
    assert client.recv(rid=rid).body == b"fine"
    assert client.call(P.HEARTH_SVC_PING, b"after").body == b"after"


def test_request_too_large_in_its_metadata_413(hearth):
    """3.3: "A message larger than max_message in total is answered 413 when it
    is a native REQUEST", even when its metadata alone is so large that the
    broker keeps none of the frames after it (it got 400 about its frames)."""
    env = hearth("--max-message", "1048576")
    m = env.mesh
    m.native_worker("big")
    client = m.native_client()
    rid = client.request("big", b"z", pack({"pad": "p" * 1500000}))
    reply = client.recv(rid=rid, timeout=10)
    assert reply is not None and reply.status == P.HEARTH_STATUS_TOO_LARGE, reply
    assert client.call(P.HEARTH_SVC_PING, b"after").body == b"after"


def test_client_gone_before_reply(env):
    """3.1 / 4.3: a client that disconnects does not hurt anyone: the worker's
    REPLY for it is dropped, the credit comes back, the next client is served."""
    m = env.mesh
    worker = m.native_worker("orphan")
    gone = m.native_client()
    gone.request("orphan", b"then I leave", {"deadline": 10000})
    job = worker.recv_job()
    assert job is not None
    gone.close()
    worker.reply(job, 200, b"nobody listens")
    client = m.native_client()
    rid = client.request("orphan", b"next")
    job2 = worker.recv_job()
    assert job2 is not None, "credit not returned after a reply to a gone client"
    worker.reply(job2, 200, b"served")
    assert client.recv(rid=rid).body == b"served"


def test_duplicate_request_ids_two_replies(env):
    """12: "two requests in flight with the same id get two replies with that
    id"."""
    m = env.mesh
    worker = m.native_worker("dup", {"credit": 2})
    client = m.native_client()
    client.request("dup", b"a", rid=b"same")
    client.request("dup", b"b", rid=b"same")
    jobs = [worker.recv_job(), worker.recv_job()]
    assert None not in jobs
    assert jobs[0].job_id != jobs[1].job_id, "job ids must be the broker's, unique"
    for job in jobs:
        worker.reply(job, 200, job.body)
    replies = [client.recv(), client.recv()]
    assert None not in replies
    assert sorted(r.body for r in replies) == [b"a", b"b"]
    assert all(r.rid == b"same" for r in replies)


def test_services_without_workers_bounded(env):
    """5.1: "At most 4096 services may be without workers at once: an MDP
    request that would create one more is dropped and logged"."""
    m = env.mesh
    flood = m.raw()
    for i in range(4200):
        flood.send([b"", P.HEARTH_MDPC_HEADER, b"made.up.%d" % i, b"x"])
    # a ping on the same connection is read after all of them
    flood.send([b"", P.HEARTH_CLIENT_HEADER, P.cmd("HEARTH_CLIENT_REQUEST"), b"after", P.HEARTH_SVC_PING,
                b"", b""])
    assert flood.recv_raw(timeout=20) is not None, "no answer after the flood"
    native = m.native_client()
    reply = native.call(P.HEARTH_SVC_SERVICES, b"", timeout=10)
    assert reply is not None and reply.status == 200
    count = len([e for e in unpack(reply.body) if e["name"].startswith("made.up.")])
    assert 4000 <= count <= 4096, "%d made-up services held" % count
    env.broker.wait_line(r"\bwarn\b", timeout=5)       # "dropped and logged"
    # the broker still serves, and a real service still registers and works
    worker = m.native_worker("real")
    rid = native.request("real", b"ok?")
    job = worker.recv_job()
    assert job is not None
    worker.reply(job, 200, b"ok")
    assert native.recv(rid=rid).body == b"ok"


def test_rested_worker_is_served_again(hearth):
    """5.2: "A worker that cannot take a message (a send to it fails because
    its pipe is full: it stopped reading, e.g. stopped with SIGSTOP) is
    rested: it gets no requests until the broker next hears from it, and any
    message from it makes it ready again." With send_hwm 1 the REQUEST sent
    right after REGISTERED finds the pipe full, while the worker holds
    nothing: before, such a worker was never given work again."""
    # A long heartbeat: the worker is silent until the broker has logged
    # the rest, which a loaded machine may take a while to show.
    env = hearth("--send-hwm", "1", "--heartbeat", "2000")
    m = env.mesh
    client = m.mdp_client()
    client.request("rested", b"queued before the worker")   # MDP: waits (5.1)
    worker = m.native_worker()
    worker.ready("rested", wait=False)
    # The worker reads nothing meanwhile; the broker logs that it rested it.
    env.broker.wait_line(r"worker \S+ of 'rested' not accepting requests", timeout=10)
    worker.heartbeat_ms = 1000          # it resumes: reads, and heartbeats
    job = worker.recv_job(timeout=10)
    assert job is not None, "a rested worker that speaks again got no work"
    assert job.body == b"queued before the worker"
    worker.reply(job, 200, b"served")
    reply = client.recv(timeout=10)
    assert reply is not None and reply[-1] == b"served", reply


def test_register_and_leave_churn_is_bounded(hearth):
    """5.1: "past it a worker leaving the last of its service makes the broker
    forget the longest idle service with an empty queue at once, so made-up
    service names (from MDP requests or from workers registering and leaving)
    cannot grow memory without bound". With a long linger, 6000 names used
    once each were all kept (each with its descriptor) until the linger."""
    env = hearth("--linger-ms", "60000")
    m = env.mesh
    churner = m.raw()
    names = 6000
    for i in range(names):
        churner.send([b"", P.HEARTH_WORKER_HEADER, P.cmd("HEARTH_WORKER_READY"),
                      b"churn.%d" % i, pack({"description": "x" * 1000})])
        churner.send([b"", P.HEARTH_WORKER_HEADER, P.cmd("HEARTH_WORKER_DISCONNECT")])
        if i % 500 == 0:
            churner.drain()
            churner.inbox.clear()
    client = m.native_client()
    last = None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        reply = client.call(P.HEARTH_SVC_SERVICES, b"churn.%d" % (names - 1), timeout=10)
        churner.drain()
        churner.inbox.clear()
        if reply is not None and reply.status == 200:
            break                       # the broker has read the whole churn
        last = reply
        m.idle(0.1)
    else:
        raise AssertionError("the last service never appeared: %r" % last)
    reply = client.call(P.HEARTH_SVC_SERVICES, b"", timeout=10)
    assert reply is not None and reply.status == 200
    listed = [e for e in unpack(reply.body) if e["name"].startswith("churn.")]
    assert len(listed) <= 4096, "%d worker-less services kept" % len(listed)
    assert all(e["descriptor"] is None for e in listed), "a gone worker's descriptor kept"
    assert client.call(P.HEARTH_SVC_PING, b"alive").body == b"alive"
