"""MDP/0.1 (RFC 7), MMI (RFC 8) and bridging (PROTOCOL.md sections 8.1, 9,
9.1) against the real broker, with raw frames."""

import time

import zmq

from hearthtest import P


def test_mdp_round_trip_dealer(env):
    """9: Client: "" "MDPC01" service body... -> "" "MDPC01" service body...
    Worker REQUEST (0x02: client address, empty, body...), REPLY (0x03:
    client address, empty, body...). 9.1: "The client address the broker
    gives an MDP worker is the 8-byte job id"."""
    m = env.mesh
    worker = m.mdp_worker("echo")
    client = m.mdp_client(zmq.DEALER)
    client.request("echo", b"hello")
    job = worker.recv_job()
    assert job is not None, "the MDP worker got no REQUEST"
    assert len(job.address) == P.HEARTH_JOB_ID_SIZE
    assert job.empty == b""
    assert job.body == [b"hello"]
    worker.reply(job, b"HELLO")
    assert client.recv() == [b"echo", b"HELLO"]


def test_mdp_round_trip_req_multi_frame(env):
    """RFC 7: REQUEST and REPLY carry body frame(s); an MDP client may use
    REQ (PROTOCOL.md 2). Multi-frame bodies pass MDP -> MDP unchanged."""
    m = env.mesh
    worker = m.mdp_worker("multi")
    client = m.mdp_client(zmq.REQ)
    client.request("multi", b"a", b"", b"ccc")
    job = worker.recv_job()
    assert job is not None
    assert job.body == [b"a", b"", b"ccc"]
    worker.reply(job, b"x", b"y", b"z")
    assert client.recv() == [b"multi", b"x", b"y", b"z"]


def test_mdp_request_before_worker_is_queued(env):
    """5.1: "An MDP request for an unknown service is queued (RFC 7), since
    MDP has no error reply"; 5.2: when a worker registers, queued requests
    MUST be dispatched at once."""
    m = env.mesh
    client = m.mdp_client()
    client.request("later", b"early bird")
    # the request must not be answered (nor dropped) while nobody serves it
    assert client.recv(timeout=0.3) is None
    worker = m.mdp_worker("later")
    job = worker.recv_job()
    assert job is not None and job.body == [b"early bird"]
    worker.reply(job, b"served")
    assert client.recv() == [b"later", b"served"]


def test_name_only_mdp_requests_used_stays_unknown_to_native_clients(env):
    """5.1: "A name that only MDP requests have used, and no worker has
    offered yet, stays unknown to native clients and routes: they get 404 at
    once, not a wait for linger_ms"."""
    m = env.mesh
    mdp = m.mdp_client()
    mdp.request("never.offered", b"waits for a worker")
    native = m.native_client()
    t0 = time.monotonic()
    reply = native.call("never.offered", b"x", {"deadline": 20000}, timeout=10)
    assert reply is not None and reply.status == P.HEARTH_STATUS_NOT_FOUND, reply
    assert time.monotonic() - t0 < 2.0, "404 came only after a wait (linger_ms is 5 s)"
    reply = native.call("never.offered,never.offered", b"{}", {"deadline": 20000}, timeout=10)
    assert reply is not None and reply.status == P.HEARTH_STATUS_NOT_FOUND, reply
    # Once a worker offers it, native callers are served, and the MDP
    # request still waiting is too.
    worker = m.native_worker("never.offered")
    job = worker.recv_job()
    assert job is not None and job.body == b"waits for a worker"
    worker.reply(job, 200, b"late but served")
    assert mdp.recv() == [b"never.offered", b"late but served"]
    rid = native.request("never.offered", b"now")
    job = worker.recv_job()
    assert job is not None
    worker.reply(job, 200, b"ok")
    assert native.recv(rid=rid).status == P.HEARTH_STATUS_OK


def test_malformed_mdp_reply_ends_its_job_at_once(env):
    """9: "An MDP REPLY that names a job the worker holds but is otherwise
    malformed (no empty frame after the client address) ends that job at once
    with 500, as in 4.6, and returns the credit". Before, the caller waited
    for its deadline and the worker's credit with it."""
    m = env.mesh
    worker = m.mdp_worker("mdp.sloppy")
    m.wait_mmi("mdp.sloppy", b"200")
    client = m.native_client()
    rid = client.request("mdp.sloppy", b"x", {"deadline": 20000})
    job = worker.recv_job()
    assert job is not None
    worker.send(worker.frames_of("HEARTH_MDPW_REPLY", job.address))    # no empty frame
    reply = client.recv(rid=rid, timeout=5)
    assert reply is not None and reply.status == P.HEARTH_STATUS_WORKER_ERROR, reply
    assert "malformed" in reply.error
    rid = client.request("mdp.sloppy", b"next", {"deadline": 20000})
    job = worker.recv_job(timeout=5)
    assert job is not None, "the worker's credit was not returned"
    worker.reply(job, b"fine")
    assert client.recv(rid=rid).body == b"fine"


def test_mdp_burst_past_queue_max_is_served(hearth):
    """5.1: "MDP requests, which cannot be told (MDP has no error reply), are
    bounded by max_pending_bytes instead, so that the ZeroMQ guide's clients,
    which send thousands at once, work at the defaults"; "Log lines that input
    can repeat ... are limited to 20 a second each kind". Before, all past
    queue_max were dropped, with one log line each."""
    env = hearth("--queue-max", "50")
    m = env.mesh
    worker = m.mdp_worker("mdp.burst")
    m.wait_mmi("mdp.burst", b"200")
    client = m.mdp_client()
    count = 1000
    logged = len(env.broker.lines)
    for i in range(count):
        client.request("mdp.burst", b"%d" % i)
    answered = 0
    deadline = time.monotonic() + 60
    while answered < count and time.monotonic() < deadline:
        job = worker.recv_job(timeout=1)
        if job is None:
            continue
        worker.reply(job, *job.body)
        if client.recv(timeout=10) is not None:
            answered += 1
    assert answered == count, "%d of %d MDP requests answered" % (answered, count)
    assert len(env.broker.lines) - logged < 50, "the burst flooded the log"


def test_repeated_log_lines_are_limited_and_counted(hearth):
    """5.1: "Log lines that input can repeat (drops, refusals, MDP answers
    dropped) are limited to 20 a second each kind, and the first line after a
    pause says how many were not logged"."""
    env = hearth()
    m = env.mesh
    junk = m.raw()
    logged = len(env.broker.lines)
    for i in range(500):
        junk.send([b"", b"NOTAPROTOCOL", b"%d" % i])
    # A ping on the same connection is read after all of them.
    junk.send([b"", P.HEARTH_CLIENT_HEADER, P.cmd("HEARTH_CLIENT_REQUEST"), b"read",
               P.HEARTH_SVC_PING, b"", b"read"])
    assert junk.recv_raw(timeout=10) is not None, "the ping after the junk unanswered"
    env.broker.wait_line(r"dropped message", timeout=10, start=logged)
    deadline = time.monotonic() + 10
    while True:     # a later drop reports the ones not logged
        junk.send([b"", b"NOTAPROTOCOL", b"later"])
        try:
            env.broker.wait_line(r"\d+ more lines like the next not logged", timeout=1.2,
                                 start=logged)
            break
        except AssertionError:
            assert time.monotonic() < deadline, "the lines not logged were never counted"
    drops = [l for l in env.broker.lines[logged:] if "dropped message" in l]
    assert len(drops) <= 20 * 15, "%d drop lines for about 500 drops" % len(drops)


def test_mdp_request_and_reply_without_body(env):
    """9: Client: "" "MDPC01" service body... with no body frame at all is
    still a request, and a REPLY with none still answers it (the count of
    body frames must not wrap below zero)."""
    m = env.mesh
    worker = m.mdp_worker("mdp.empty")
    m.wait_mmi("mdp.empty", b"200")
    client = m.mdp_client()
    client.request("mdp.empty")
    job = worker.recv_job(timeout=5)
    assert job is not None, "a body-less MDP request was dropped"
    worker.reply(job)
    assert client.recv(timeout=5) is not None, "a body-less MDP reply was not relayed"


def test_mdp_worker_serves_many_in_sequence(env):
    """9: "One request at a time per MDP worker": a second request waits
    until the first is answered, then is dispatched at once (5.2)."""
    m = env.mesh
    worker = m.mdp_worker("seq")
    c1, c2 = m.mdp_client(), m.mdp_client()
    c1.request("seq", b"one")
    j1 = worker.recv_job()
    assert j1 is not None
    c2.request("seq", b"two")
    assert worker.recv_job(timeout=0.3) is None, "an MDP worker got a second request while busy"
    worker.reply(j1, b"1")
    j2 = worker.recv_job()
    assert j2 is not None and j2.body == [b"two"]
    worker.reply(j2, b"2")
    assert c1.recv() == [b"seq", b"1"]
    assert c2.recv() == [b"seq", b"2"]


# -- bridging (9.1) ---------------------------------------------------------

def test_mdp_client_to_native_worker(env):
    """9.1: MDP client -> native worker: "several body frames are joined into
    one; metadata {deadline, attempt}"."""
    m = env.mesh
    worker = m.native_worker("bridge")
    client = m.mdp_client()
    client.request("bridge", b"ab", b"cd", b"ef")
    job = worker.recv_job()
    assert job is not None
    assert job.body == b"abcdef"
    assert set(job.meta) >= {"deadline", "attempt"}, job.meta
    assert job.meta["attempt"] == 1
    assert 0 < job.meta["deadline"] <= P.HEARTH_DEFAULT_DEADLINE_MS
    worker.reply(job, 200, b"native says hi")
    assert client.recv() == [b"bridge", b"native says hi"]


def test_mdp_client_native_worker_error_dropped(env):
    """9.1: MDP client -> native worker: "a non-200 reply is dropped and
    logged (MDP has no error reply)". The worker keeps its credit."""
    m = env.mesh
    worker = m.native_worker("bridge")
    client = m.mdp_client()
    client.request("bridge", b"bad")
    job = worker.recv_job()
    worker.reply(job, 500, b"", {"error": "boom"})
    assert client.recv(timeout=0.5) is None, "a non-200 reply reached an MDP client"
    client.request("bridge", b"good")
    job = worker.recv_job()
    assert job is not None, "the worker's credit was not returned by its 500 reply"
    worker.reply(job, 200, b"ok")
    assert client.recv() == [b"bridge", b"ok"]


def test_native_client_to_mdp_worker(env):
    """9.1: native client -> MDP worker: "body = frame 6; reply body frames
    joined into one; status 200"."""
    m = env.mesh
    worker = m.mdp_worker("old")
    m.wait_mmi("old", b"200")   # READY has no answer: a native request before it would get 404
    client = m.native_client()
    rid = client.request("old", b"payload", {"deadline": 5000})
    job = worker.recv_job()
    assert job is not None
    assert len(job.address) == P.HEARTH_JOB_ID_SIZE
    assert job.body == [b"payload"]
    worker.reply(job, b"part1-", b"part2")
    reply = client.recv(rid=rid)
    assert reply is not None
    assert reply.rid == rid
    assert reply.status == 200
    assert reply.body == b"part1-part2"


# -- MMI (8.1) --------------------------------------------------------------

def test_mmi_service_mdp(env):
    """8.1: mmi.service: "the REPLY body is "200" if at least one worker
    serves it, else "404"". MDP clients get "ordinary MDP REPLYs with the
    mmi. name in frame 2"."""
    m = env.mesh
    m.mdp_worker("known")
    m.native_worker("known.native")
    client = m.mdp_client()
    # the MDP worker's READY has no answer: poll until the broker saw it
    deadline = time.monotonic() + 10
    while True:
        client.request(P.HEARTH_MMI_SERVICE, b"known")
        answer = client.recv()
        if answer == [P.HEARTH_MMI_SERVICE, b"200"] or time.monotonic() > deadline:
            break
    assert answer == [P.HEARTH_MMI_SERVICE, b"200"]
    client.request(P.HEARTH_MMI_SERVICE, b"known.native")
    assert client.recv() == [P.HEARTH_MMI_SERVICE, b"200"]
    client.request(P.HEARTH_MMI_SERVICE, b"nobody")
    assert client.recv() == [P.HEARTH_MMI_SERVICE, b"404"]


def test_mmi_other_is_501(env):
    """8.1: "Any other mmi. name: body "501"". Native clients "get REPLY
    status 200 with the same body"."""
    m = env.mesh
    client = m.mdp_client(zmq.REQ)
    client.request("mmi.foo", b"x")
    assert client.recv() == [b"mmi.foo", b"501"]
    native = m.native_client()
    reply = native.call("mmi.foo", b"x")
    assert reply is not None and reply.status == 200 and reply.body == b"501"


def test_mmi_service_native(env):
    """8.1: "Native clients get REPLY status 200 with the same body"."""
    m = env.mesh
    m.native_worker("here")
    client = m.native_client()
    reply = client.call(P.HEARTH_MMI_SERVICE, b"here")
    assert reply.status == 200 and reply.body == b"200"
    reply = client.call(P.HEARTH_MMI_SERVICE, b"not-here")
    assert reply.status == 200 and reply.body == b"404"


def test_mdp_worker_registering_mmi_is_disconnected(env):
    """8.1: "A worker that registers an mmi. name is disconnected (MDP)"."""
    m = env.mesh
    worker = m.mdp_worker("mmi.x")
    assert worker.recv_disconnect() is not None, "no DISCONNECT for READY mmi.x"
    m.wait_mmi("mmi.x", b"404")  # no worker serves it


def test_native_worker_reserved_names_forbidden(env):
    """4.2 / 8.1: REGISTERED "403 (reserved name mmi.* / hearth.*) and
    settings {error}: the worker is not registered"."""
    m = env.mesh
    for name in ("mmi.x", "hearth.x", "hearth.ping"):
        worker = m.native_worker()
        answer = worker.ready(name, {"version": "1"})
        assert answer is not None, "no REGISTERED for %s" % name
        status, settings = answer
        assert status == P.HEARTH_STATUS_FORBIDDEN, (name, answer)
        assert isinstance(settings.get("error"), str) and settings["error"], settings
    client = m.native_client()
    reply = client.call(P.HEARTH_SVC_PING, b"still me")
    assert reply.status == 200 and reply.body == b"still me"
    reply = client.call("hearth.x", b"")
    assert reply.status == P.HEARTH_STATUS_NOT_FOUND, reply


def test_mmi_service_counts_mdp_workers_only_after_ready(env):
    """8.1 with 9: an MDP worker serves from its READY; mmi.service says 200
    for it. Used by the malformed-input canary as well."""
    m = env.mesh
    m.mdp_worker("mdp.only")
    m.wait_mmi("mdp.only", b"200")
