"""Broker shutdown (PROTOCOL.md 5.6) against the real broker."""

import signal
import time

from hearthtest import P, unpack


def wait_queued(client, service, count, timeout=10.0):
    """Polls hearth.services until `service` has `count` queued requests."""
    deadline = time.monotonic() + timeout
    entry = None
    while time.monotonic() < deadline:
        reply = client.call(P.HEARTH_SVC_SERVICES, service.encode(), timeout=2)
        if reply is not None and reply.status == 200:
            entry = unpack(reply.body)[0]
            if entry["queued"] == count:
                return
    raise AssertionError("%s never had %d queued: %r" % (service, count, entry))


def test_sigterm_drains_then_exits_0(hearth):
    """5.6: "On SIGINT or SIGTERM the broker stops accepting: new requests get
    503 "broker shutting down". It keeps dispatching queued requests and
    relaying replies for up to grace_ms ... Then it answers what is left with
    503, sends DISCONNECT to every worker, and exits 0"."""
    env = hearth("--grace", "3000")
    env.broker.expected_exit = True   # this test stops it and checks the exit itself
    m = env.mesh
    worker = m.native_worker("drain")
    client = m.native_client()
    in_flight = client.request("drain", b"first", {"deadline": 20000})
    job = worker.recv_job()
    assert job is not None
    queued = client.request("drain", b"second", {"deadline": 20000})
    wait_queued(client, "drain", 1)    # queued before the signal, not refused after it
    env.broker.signal(signal.SIGTERM)
    # new requests are refused while draining; poll until the broker has seen the signal
    deadline = time.monotonic() + 5
    refused = None
    while time.monotonic() < deadline:
        reply = client.call("drain", b"late", timeout=1)
        if reply is not None and reply.status == P.HEARTH_STATUS_UNAVAILABLE:
            refused = reply
            break
    assert refused is not None, "no 503 for a new request during shutdown"
    assert refused.error and "shutting down" in refused.error, refused
    # the in-flight request is still relayed, and the queued one dispatched
    worker.reply(job, 200, b"made it")
    reply = client.recv(rid=in_flight)
    assert reply is not None and reply.status == 200 and reply.body == b"made it", reply
    job2 = worker.recv_job()
    assert job2 is not None and job2.body == b"second"
    worker.reply(job2, 200, b"also")
    assert client.recv(rid=queued).body == b"also"
    assert worker.recv_disconnect(timeout=10) is not None, "no DISCONNECT at shutdown"
    rc = env.broker.wait(10)
    assert rc == 0, "broker exit %r" % rc


def test_grace_expires_503(hearth):
    """5.6: "Then it answers what is left with 503"."""
    env = hearth("--grace", "300")
    env.broker.expected_exit = True
    m = env.mesh
    worker = m.native_worker("stuck")
    client = m.native_client()
    rid = client.request("stuck", b"x", {"deadline": 20000})
    assert worker.recv_job() is not None
    t0 = time.monotonic()
    env.broker.signal(signal.SIGTERM)
    reply = client.recv(timeout=10, rid=rid)
    assert reply is not None and reply.status == P.HEARTH_STATUS_UNAVAILABLE, reply
    assert time.monotonic() - t0 >= 0.25
    assert env.broker.wait(10) == 0
