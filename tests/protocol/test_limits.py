"""Limits on one message (PROTOCOL.md 9 and 12): how many body frames an MDP
request or reply may carry, what happens to one with more, and what a message
that never ends costs the broker. Every case ends with a canary through the
same worker, which must get its next request at once: a broken limit shows as
a worker left holding credit for a request nobody will answer."""

import os
import re
import socket
import struct
import time

import pytest

from hearthtest import P, wait_until

LIMIT = P.HEARTH_MDP_BODY_MAX
# 27 and 28 body frames used to fit a request but not its reply (the worker
# was left busy), 29 did not fit a request; 40 is over the limit.
COUNTS = (27, 28, 29, LIMIT, LIMIT + 1, 40)


def _frames(n, tag=b"f"):
    return [tag + b"%d" % i for i in range(n)]


def _mdp_pair(env, service):
    m = env.mesh
    worker = m.mdp_worker(service)
    m.wait_mmi(service, b"200")
    return m, worker


def _canary_mdp(worker, client, service):
    """The worker gets the next request at once (its credit was returned),
    and the client's next reply is the canary's, not a late one."""
    client.request(service, b"canary")
    job = worker.recv_job(timeout=3.0)
    assert job is not None, "the worker did not get the next request at once: left busy"
    assert job.body == [b"canary"]
    worker.reply(job, b"canary ok")
    assert client.recv(timeout=5.0) == [service.encode(), b"canary ok"]


@pytest.mark.parametrize("n", COUNTS)
def test_mdp_request_body_frames(env, n):
    """9: "An MDP request or reply carries at most 32 body frames"; "A request
    with more is dropped and logged when it arrives"."""
    m, worker = _mdp_pair(env, "limits")
    client = m.mdp_client()
    client.request("limits", *_frames(n))
    if n <= LIMIT:
        job = worker.recv_job()
        assert job is not None, "a request of %d body frames was not dispatched" % n
        assert job.body == _frames(n)
        worker.reply(job, *_frames(n, b"r"))
        assert client.recv() == [b"limits"] + _frames(n, b"r")
    else:
        # identity, delimiter, MDPC01, service, then the body frames
        env.broker.wait_line(r"dropped message of %d frames( \(only the first read\))?: MDP request "
                             r"with more than %d body frames" % (n + 4, LIMIT))
        assert worker.recv_job(timeout=0.3) is None, "a request over the limit was dispatched"
    _canary_mdp(worker, client, "limits")


@pytest.mark.parametrize("n", COUNTS)
def test_mdp_reply_body_frames_to_mdp_client(env, n):
    """9: "A reply with more is not relayed: an MDP client gets nothing (MDP
    has no error reply) and the broker logs it"; "the worker's credit is
    returned either way"."""
    m, worker = _mdp_pair(env, "limits")
    client = m.mdp_client()
    client.request("limits", b"one")
    job = worker.recv_job()
    assert job is not None
    worker.reply(job, *_frames(n))
    if n <= LIMIT:
        assert client.recv() == [b"limits"] + _frames(n)
    else:
        env.broker.wait_line(r"MDP request for 'limits' dropped: the MDP worker's reply has %d body "
                             r"frames, more than %d" % (n, LIMIT))
    _canary_mdp(worker, client, "limits")


@pytest.mark.parametrize("n", COUNTS)
def test_mdp_reply_body_frames_to_native_client(env, n):
    """9.1: an MDP worker's reply body frames are joined into one for a native
    client; 9: "a native client gets 500 at once with an error naming the
    count" for a reply over the limit."""
    m, worker = _mdp_pair(env, "limits")
    client = m.native_client()
    rid = client.request("limits", b"one")
    job = worker.recv_job()
    assert job is not None
    worker.reply(job, *_frames(n))
    started = time.monotonic()
    reply = client.recv(timeout=5.0, rid=rid)
    assert reply is not None, "no answer to a native client for a reply of %d frames" % n
    if n <= LIMIT:
        assert reply.status == P.HEARTH_STATUS_OK
        assert reply.body == b"".join(_frames(n))
    else:
        assert reply.status == P.HEARTH_STATUS_WORKER_ERROR, reply
        assert "%d body frames" % n in reply.error, reply
        # at once, not at the deadline
        assert time.monotonic() - started < 3.0
    rid = client.request("limits", b"canary")
    job = worker.recv_job(timeout=3.0)
    assert job is not None, "the worker did not get the next request at once: left busy"
    worker.reply(job, b"canary ok")
    reply = client.recv(timeout=5.0, rid=rid)
    assert reply is not None and reply.status == P.HEARTH_STATUS_OK and reply.body == b"canary ok"


# ---------------------------------------------------------------------------
#   A message that never ends. It is written as raw ZMTP 3.0 over TCP: a
#   libzmq sender would itself hold an unfinished message and send nothing.

def _zmtp_connect(endpoint):
    host, port = endpoint[len("tcp://"):].rsplit(":", 1)
    sock = socket.create_connection((host, int(port)), timeout=10)
    # greeting: signature, version 3.0, mechanism NULL, as-server 0, filler
    sock.sendall(b"\xff" + b"\0" * 8 + b"\x7f" + b"\x03\x00" + b"NULL".ljust(20, b"\0") + b"\0" * 32)
    got = b""
    while len(got) < 64:
        chunk = sock.recv(64 - len(got))
        assert chunk, "the broker closed the connection during the greeting"
        got += chunk
    ready = b"\x05READY" + bytes([11]) + b"Socket-Type" + struct.pack(">I", 6) + b"DEALER"
    sock.sendall(bytes([0x04, len(ready)]) + ready)
    return sock


def _zmtp_frame(data, more):
    flags = 0x01 if more else 0
    if len(data) < 256:
        return bytes([flags, len(data)]) + data
    return bytes([flags | 0x02]) + struct.pack(">Q", len(data)) + data


def _rss_mib(pid):
    with open("/proc/%d/status" % pid, encoding="ascii") as f:
        return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1)) // 1024


MIB = 1 << 20
FRAMES = 100
# The brokers run at the default max_message, which the message must exceed.
assert FRAMES * MIB > P.HEARTH_DEFAULT_MAX_MESSAGE


def test_endless_message_is_dropped_whole_when_it_ends(env):
    """12: "libzmq hands the broker a multipart message only once all of it
    has arrived"; "The broker keeps serving everyone else meanwhile, and drops
    the message when it ends". 3.3: "The broker keeps only the first frames of
    a message over max_message"; "the log line that drops it gives its real
    frame count"."""
    m = env.mesh
    ping = m.native_client()
    attacker = _zmtp_connect(env.endpoint)
    try:
        for frame in (b"", P.HEARTH_MDPC_HEADER, b"endless"):
            attacker.sendall(_zmtp_frame(frame, True))
        chunk = b"x" * MIB
        before = _rss_mib(env.broker.pid)
        for i in range(FRAMES):
            attacker.sendall(_zmtp_frame(chunk, True))
            if i % 25 == 24:
                reply = ping.call(P.HEARTH_SVC_PING, b"during", timeout=5.0)
                assert reply is not None and reply.status == P.HEARTH_STATUS_OK, \
                    "the broker stopped serving after %d MiB of an unfinished message" % (i + 1)
        during = _rss_mib(env.broker.pid)
        attacker.sendall(_zmtp_frame(b"end", False))
        env.broker.wait_line(r"dropped message of %d frames \(only the first read\): MDP request too large"
                             % (FRAMES + 5))
        reply = ping.call(P.HEARTH_SVC_PING, b"after", timeout=5.0)
        assert reply is not None and reply.status == P.HEARTH_STATUS_OK
        # Not a bound the broker can keep (PROTOCOL.md 12): printed for the record.
        print("broker VmRSS %d MiB before, %d MiB after %d MiB of an unfinished message"
              % (before, during, FRAMES))
    finally:
        attacker.close()


def test_endless_message_from_a_peer_that_leaves(hearth, monkeypatch):
    """12: a message that never ends is held "until it ends the message or
    disconnects": the frames go with the connection, and the broker's RSS
    comes back down (ASan's quarantine is turned off so that freed memory is
    given back). Everyone else is served meanwhile and after."""
    asan = [o for o in os.environ.get("ASAN_OPTIONS", "").split(":") if o]
    monkeypatch.setenv("ASAN_OPTIONS", ":".join(asan + ["quarantine_size_mb=0"]))
    env = hearth()
    m = env.mesh
    ping = m.native_client()
    before = _rss_mib(env.broker.pid)
    attacker = _zmtp_connect(env.endpoint)
    try:
        for frame in (b"", P.HEARTH_MDPC_HEADER, b"endless"):
            attacker.sendall(_zmtp_frame(frame, True))
        for _ in range(FRAMES):
            attacker.sendall(_zmtp_frame(b"y" * MIB, True))
        reply = ping.call(P.HEARTH_SVC_PING, b"during", timeout=5.0)
        assert reply is not None and reply.status == P.HEARTH_STATUS_OK
        during = _rss_mib(env.broker.pid)
    finally:
        attacker.close()
    wait_until(lambda: _rss_mib(env.broker.pid) < before + FRAMES // 2, timeout=20.0,
               what="the broker's RSS back under %d MiB after the peer left (was %d MiB)"
               % (before + FRAMES // 2, during))
    reply = ping.call(P.HEARTH_SVC_PING, b"after", timeout=5.0)
    assert reply is not None and reply.status == P.HEARTH_STATUS_OK
    assert "endless" not in env.broker.output(), "an unfinished message was handed to the broker"
    print("broker VmRSS %d MiB before, %d MiB with %d MiB unfinished, %d MiB after the peer left"
          % (before, during, FRAMES, _rss_mib(env.broker.pid)))
