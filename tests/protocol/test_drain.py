"""A worker that stops gracefully: schemas/PROTOCOL.md section 4.5."""

import hearthtest as H

P = H.P


def _draining(client, service):
    reply = client.call(P.HEARTH_SVC_SERVICES, service.encode(), timeout=2.0)
    return H.unpack(reply.body)[0]["draining"] if reply and reply.status == 200 else None


def test_disconnect_while_holding_drains(hearth):
    """4.5: after DISCONNECT the broker "MUST send it no more requests, MUST
    relay those replies, and removes the worker once it holds none"."""
    env = hearth()
    m = env.mesh
    leaving = m.native_worker("drain.svc", {"credit": 2})
    client = m.native_client()
    first = client.request("drain.svc", b"one", {"deadline": 10000})
    job = leaving.recv_job()
    assert job is not None
    leaving.send(leaving.frames_of("HEARTH_WORKER_DISCONNECT"))
    # the DISCONNECT and the next request travel on different connections:
    # wait until the broker shows the worker draining, or the request may win
    watcher = m.native_client()
    H.wait_until(lambda: _draining(watcher, "drain.svc") == 1, what="worker draining")
    # it has credit left, yet gets nothing new
    second = client.request("drain.svc", b"two", {"deadline": 10000})
    assert leaving.recv_job(timeout=0.3) is None
    # its held request is still answered through it
    leaving.reply(job, 200, b"finished")
    reply = client.recv(rid=first)
    assert reply is not None and reply.status == 200 and reply.body == b"finished", reply
    # once empty it is removed, and the broker acknowledges with DISCONNECT
    assert leaving.recv_disconnect() is not None, "no DISCONNECT acknowledgement"
    # it is gone once empty; the queued request waits for a new worker
    m.wait_mmi("drain.svc", b"404")
    fresh = m.native_worker("drain.svc")
    job2 = fresh.recv_job()
    assert job2 is not None and job2.body == b"two"
    fresh.reply(job2, 200, b"second")
    assert client.recv(rid=second).body == b"second"


def test_draining_worker_that_dies_loses_its_requests(fast):
    """4.5: "silence still means death": a draining worker that stops
    heartbeating is removed and its request answered 502."""
    m = fast.mesh
    worker = m.native_worker("drain.dies")
    client = m.native_client()
    rid = client.request("drain.dies", b"x", {"deadline": 20000})
    assert worker.recv_job() is not None
    worker.send(worker.frames_of("HEARTH_WORKER_DISCONNECT"))
    worker.silent = True
    reply = client.recv(rid=rid, timeout=10)
    assert reply is not None and reply.status == P.HEARTH_STATUS_WORKER_LOST, reply


def test_disconnect_of_idle_worker_is_acknowledged(env):
    """4.5: a native worker that holds nothing is removed at once; "the broker
    then acknowledges with DISCONNECT"."""
    m = env.mesh
    worker = m.native_worker("drain.idle")
    worker.send(worker.frames_of("HEARTH_WORKER_DISCONNECT"))
    assert worker.recv_disconnect() is not None, "no DISCONNECT acknowledgement"
    m.wait_mmi("drain.idle", b"404")
