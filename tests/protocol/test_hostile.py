"""Hostile peers (issue 7): what no peer may do to the broker, whatever it
sends or claims (PROTOCOL.md 4.2, 12)."""

import struct

import zmq

from hearthtest import P


def test_claimed_routing_ids_cannot_abort_the_broker(env):
    """12: "libzmq names each anonymous peer 0x00 and a 32-bit counter that
    starts at rand (); the broker seeds rand from the kernel before its socket
    exists, so the coming names cannot be guessed". A peer that claimed the
    names an unseeded rand gives (0x6b8b4567 on) made libzmq assert, aborting
    the broker, when the next ordinary peer connected."""
    m = env.mesh
    start = 0x6b8b4567
    claimers = []
    for k in range(300):
        peer = m.raw(identity=b"\x00" + struct.pack(">I", start + k))
        claimers.append(peer)
    # Each claimed name is registered once its handshake is done: a ping on
    # each connection, answered, proves it.
    for peer in claimers:
        peer.send([b"", P.HEARTH_CLIENT_HEADER, P.cmd("HEARTH_CLIENT_REQUEST"), b"p",
                   P.HEARTH_SVC_PING, b"", b"hi"])
    for peer in claimers:
        assert peer.recv_raw(timeout=10) is not None, "a claimer's ping unanswered"
    # Ordinary anonymous peers, each named by the counter, are served.
    worker = m.native_worker("after.claims")
    for i in range(20):
        client = m.native_client()
        rid = client.request("after.claims", b"%d" % i)
        job = worker.recv_job(timeout=10)
        assert job is not None, "request %d not dispatched" % i
        worker.reply(job, 200, b"ok")
        reply = client.recv(rid=rid, timeout=10)
        assert reply is not None and reply.status == 200, reply
        client.close()
    assert env.broker.alive()


def test_worker_ids_are_not_routing_ids(env):
    """4.2: REGISTERED's settings `worker_id` is "an opaque id the broker
    assigns, never the worker's routing id". A routing id told to a peer is
    libzmq's counter, and with it the names the next peers will get."""
    m = env.mesh
    ids = []
    for _ in range(3):
        worker = m.native_worker()
        status, settings = worker.ready("opaque")
        assert status == 200
        ids.append(settings["worker_id"])
    assert len(set(ids)) == 3, ids
    for worker_id in ids:
        assert len(worker_id) == 16 and int(worker_id, 16) >= 0, worker_id
        # libzmq's names are 0x00 and 4 bytes: 10 hex digits, "00" first.
        assert not (len(worker_id) == 10 and worker_id.startswith("00")), worker_id
