"""Heartbeats, worker death, resends, unknown workers and linger
(PROTOCOL.md 4.4, 4.5, 5.1, 5.4, 5.5, 9) against the real broker."""

import time

import pytest

from hearthtest import P, unpack


def test_idle_worker_gets_heartbeats(fast):
    """4.4: "Both sides MUST send HEARTBEAT every heartbeat_ms whether busy or
    idle"."""
    m = fast.mesh
    worker = m.native_worker("hb")
    start = time.monotonic()
    worker.hb_received.clear()
    m.idle(1.0)
    beats = [t for t in worker.hb_received if t >= start]
    assert 5 <= len(beats) <= 20, "%d HEARTBEATs in 1 s at heartbeat_ms 100" % len(beats)
    gaps = [b - a for a, b in zip(beats, beats[1:])]
    assert max(gaps) < 0.35, "a %.0f ms gap between HEARTBEATs" % (max(gaps) * 1000)


def test_busy_worker_gets_heartbeats(fast):
    """4.4: "... whether busy or idle"."""
    m = fast.mesh
    worker = m.native_worker("hb")
    client = m.native_client()
    client.request("hb", b"x", {"deadline": 5000})
    job = worker.recv_job()
    assert job is not None
    start = time.monotonic()
    m.idle(0.6)
    assert len([t for t in worker.hb_received if t >= start]) >= 3
    worker.reply(job, 200, b"")


def test_silent_worker_removed(fast):
    """4.4: "A peer silent for heartbeat_ms x liveness is dead: the broker
    removes the worker ... and sends DISCONNECT"."""
    m = fast.mesh
    worker = m.native_worker("quiet")
    alive = m.native_worker("chatty")
    worker.silent = True
    t0 = time.monotonic()
    m.wait_mmi("quiet", b"404", timeout=5)
    assert time.monotonic() - t0 >= 0.2, "removed before heartbeat x liveness"
    assert worker.recv_disconnect(timeout=2) is not None, "no DISCONNECT to the silent worker"
    # a worker that keeps heartbeating stays
    m.wait_mmi("chatty", b"200")
    assert alive.recv_disconnect(timeout=0.1) is None


def test_silent_mdp_worker_removed(fast):
    """9: "the broker expires an idle one after max(heartbeat_ms, 2500) x
    liveness of silence"."""
    m = fast.mesh
    worker = m.mdp_worker("mdp.quiet", heartbeat_ms=50)
    m.wait_mmi("mdp.quiet", b"200")
    worker.silent = True
    t0 = time.monotonic()
    m.wait_mmi("mdp.quiet", b"404", timeout=30)
    assert time.monotonic() - t0 >= 7.0, "an MDP worker expired before 2500 ms x 3"


def test_idle_mdp_worker_at_the_guides_interval_stays(env):
    """9: "as lenient as the ZeroMQ guide's broker, since the guide's worker
    sends its 2500 ms heartbeat only when its poll wakes". At the defaults
    (1000 ms x 3) an idle worker whose silences ran past 3 s was expired and
    re-registered every few seconds; this one heartbeats every 4 s, its own
    choice (RFC 7), within the 7.5 s allowed."""
    m = env.mesh
    worker = m.mdp_worker("mdp.guide", heartbeat_ms=4000)
    m.wait_mmi("mdp.guide", b"200")
    m.idle(9.0)                     # two of its heartbeats
    assert worker.recv_disconnect(timeout=0.01) is None, "an idle guide-style MDP worker was expired"
    client = m.mdp_client()
    client.request("mdp.guide", b"still served")
    job = worker.recv_job(timeout=10)
    assert job is not None
    worker.reply(job, b"yes")
    assert client.recv(timeout=10) == [b"mdp.guide", b"yes"]


def _kill_holding_worker(env):
    """A worker takes a request and its connection closes: returns the
    caller's reply and the seconds it took."""
    m = env.mesh
    worker = m.native_worker("fragile")
    client = m.native_client()
    rid = client.request("fragile", b"x", {"deadline": 30000})
    assert worker.recv_job() is not None
    t0 = time.monotonic()
    worker.close()
    reply = client.recv(timeout=20, rid=rid)
    return reply, time.monotonic() - t0


def test_worker_death_502(fast):
    """5.4: "Every other one MUST be answered with 502"."""
    reply, elapsed = _kill_holding_worker(fast)
    assert reply is not None and reply.status == P.HEARTH_STATUS_WORKER_LOST, reply
    assert reply.error
    assert elapsed < 5.0, "502 after %.2f s" % elapsed


def test_one_idempotent_registrant_does_not_make_the_service_idempotent(fast):
    """5.4: "every worker serving its service (the dead one included)
    declares idempotent in its descriptor"; 7: "No worker's descriptor speaks
    for the others". A peer registered with idempotent: true and left; the
    real worker, which never said so, dies holding a request: the caller gets
    502, the request is not run again (before, it was resent, attempt 2)."""
    m = fast.mesh
    real = m.native_worker("debit", {"version": "1.0"})
    spare = m.native_worker("debit", {"version": "1.0"})
    passer = m.native_worker("debit", {"version": "evil-1.0", "idempotent": True})
    passer.send(passer.frames_of("HEARTH_WORKER_DISCONNECT"))
    assert passer.recv_disconnect() is not None
    client = m.native_client()
    rid = client.request("debit", b"take 100", {"deadline": 20000})
    job = real.recv_job()               # the least recently used worker
    assert job is not None and job.meta["attempt"] == 1
    real.close()
    reply = client.recv(rid=rid, timeout=10)
    assert reply is not None and reply.status == P.HEARTH_STATUS_WORKER_LOST, reply
    assert spare.recv_job(timeout=0.5) is None, "a non-idempotent request ran again"


@pytest.mark.parametrize("flag_on", ["request", "descriptor"])
def test_worker_death_idempotent_resent(fast, flag_on):
    """5.4: "each request that is idempotent - flagged idempotent by the
    client, or every worker serving its service (the dead one included)
    declares idempotent in its descriptor ... - and has not been resent before
    is put back at the head of its queue for another worker (attempt 2)"."""
    m = fast.mesh
    desc = {"idempotent": True} if flag_on == "descriptor" else {}
    meta = {"deadline": 20000}
    if flag_on == "request":
        meta["idempotent"] = True
    w1 = m.native_worker("again", desc)
    client = m.native_client()
    rid = client.request("again", b"do it", meta)
    job = w1.recv_job()
    assert job is not None and job.meta["attempt"] == 1
    w2 = m.native_worker("again", desc)
    w1.close()
    job2 = w2.recv_job(timeout=5)
    assert job2 is not None, "the idempotent request was not resent"
    assert job2.meta["attempt"] == 2 and job2.body == b"do it"
    w2.reply(job2, 200, b"done twice")
    reply = client.recv(rid=rid)
    assert reply.status == 200 and reply.body == b"done twice"


def test_resent_once_only(fast):
    """5.4: "... and has not been resent before": a second death -> 502."""
    m = fast.mesh
    w1 = m.native_worker("twice")
    client = m.native_client()
    rid = client.request("twice", b"x", {"deadline": 20000, "idempotent": True})
    assert w1.recv_job() is not None
    w2 = m.native_worker("twice")
    w1.close()
    job = w2.recv_job()
    assert job is not None and job.meta["attempt"] == 2
    w3 = m.native_worker("twice")
    w2.close()
    reply = client.recv(timeout=10, rid=rid)
    assert reply is not None and reply.status == P.HEARTH_STATUS_WORKER_LOST, reply
    assert w3.recv_job(timeout=0.1) is None


def test_mdp_worker_dies_request_resent(fast):
    """5.4: an MDP client's request is idempotent ("it came from an MDP client
    (RFC 7 assumes idempotent workers)"); 5.5 an MDP worker "is expired when a
    send to it fails (its connection is gone)"."""
    m = fast.mesh
    a = m.mdp_worker("mdp.resend", heartbeat_ms=50)
    m.wait_mmi("mdp.resend", b"200")
    client = m.mdp_client()
    client.request("mdp.resend", b"important")
    job = a.recv_job()
    assert job is not None
    b = m.mdp_worker("mdp.resend", heartbeat_ms=50)
    a.close()
    job2 = b.recv_job(timeout=5)
    assert job2 is not None, "the MDP request was not resent to another MDP worker"
    assert job2.body == [b"important"]
    b.reply(job2, b"saved")
    assert client.recv() == [b"mdp.resend", b"saved"]


# -- unknown workers (4.5, 9) ------------------------------------------------

def test_native_unknown_worker_heartbeat_disconnect(env):
    """4.6: "A worker message other than READY from a worker the broker does not
    know ... MUST be answered with DISCONNECT"."""
    worker = env.mesh.native_worker()
    worker.send(worker.frames_of("HEARTH_WORKER_HEARTBEAT"))
    assert worker.recv_disconnect() is not None


def test_native_unknown_worker_reply_disconnect(env):
    """4.5: the same for a REPLY from a worker the broker never saw."""
    worker = env.mesh.native_worker()
    worker.reply(b"\x00" * 8, 200, b"who am I")
    assert worker.recv_disconnect() is not None


def test_native_second_ready_disconnect(env):
    """4.6: "A second READY from a registered worker MUST cause DISCONNECT and
    removal"."""
    m = env.mesh
    worker = m.native_worker("twice")
    m.wait_mmi("twice", b"200")
    worker.ready("twice", None, wait=False)
    assert worker.recv_disconnect() is not None
    m.wait_mmi("twice", b"404")


def test_mdp_unknown_worker_disconnect(env):
    """9: "A valid but unexpected command (second READY, a REPLY from an
    unknown worker ...) gets DISCONNECT"; RFC 7 the same for HEARTBEAT."""
    m = env.mesh
    w = m.mdp_worker()
    w.send(w.frames_of("HEARTH_MDPW_HEARTBEAT"))
    assert w.recv_disconnect() is not None
    w2 = m.mdp_worker()
    w2.reply(b"\x01" * 8, b"stray")
    assert w2.recv_disconnect() is not None


def test_mdp_second_ready_disconnect(env):
    """9: "second READY ... gets DISCONNECT"."""
    m = env.mesh
    w = m.mdp_worker("mdp.twice")
    m.wait_mmi("mdp.twice", b"200")
    w.ready("mdp.twice")
    assert w.recv_disconnect() is not None
    m.wait_mmi("mdp.twice", b"404")


def test_mdp_reply_to_client_not_held(env):
    """9: "A valid but unexpected command (... a REPLY naming a client the
    worker does not hold) gets DISCONNECT"."""
    m = env.mesh
    w = m.mdp_worker("mdp.liar")
    m.wait_mmi("mdp.liar", b"200")
    w.reply(b"\x07" * 8, b"not yours")
    assert w.recv_disconnect() is not None


# -- linger (5.1) ------------------------------------------------------------

def test_linger_then_503_then_404(hearth):
    """5.1: "Native requests still queued once the service has had no worker
    for linger_ms (default 5000) get 503 ... A service with no worker and an
    empty queue is forgotten after linger_ms; requests for it then get 404"."""
    env = hearth("--heartbeat", "100", "--linger", "300")
    m = env.mesh
    worker = m.native_worker("lingers")
    client = m.native_client()
    held = client.request("lingers", b"held", {"deadline": 20000})
    assert worker.recv_job() is not None
    queued = [client.request("lingers", b"q%d" % i, {"deadline": 20000}) for i in range(2)]
    t0 = time.monotonic()
    worker.close()
    reply = client.recv(timeout=10, rid=held)
    assert reply is not None and reply.status == P.HEARTH_STATUS_WORKER_LOST, reply
    got = {}
    for _ in queued:
        reply = client.recv(timeout=10)
        assert reply is not None, "queued requests never answered after the linger"
        got[reply.rid] = reply
    elapsed = time.monotonic() - t0
    assert set(got) == set(queued)
    for reply in got.values():
        assert reply.status == P.HEARTH_STATUS_UNAVAILABLE and reply.error, reply
    assert 0.3 <= elapsed < 5.0, "503 after %.2f s for linger 300 ms" % elapsed
    # "A service with no worker and an empty queue is forgotten after linger_ms;
    # requests for it then get 404"
    deadline = time.monotonic() + 5
    while True:
        reply = client.call("lingers", b"now?", {"deadline": 100})
        assert reply is not None
        if reply.status == P.HEARTH_STATUS_NOT_FOUND or time.monotonic() > deadline:
            break
    assert reply.status == P.HEARTH_STATUS_NOT_FOUND, reply


def test_linger_forgets_empty_service_only_after_linger_ms(hearth):
    """5.1: "A service with no worker and an empty queue is forgotten after
    linger_ms; requests for it then get 404": not before. The broker cannot
    start the clock before the worker goes (t0), so any discovery answer that
    reaches us before t0 + linger_ms MUST still list the service; the 404s
    come only after. Slowness can only thin out the probes, never fail them."""
    linger_s = 3.0                        # generous: probes take milliseconds
    env = hearth("--heartbeat", "100", "--linger", str(int(linger_s * 1000)))
    m = env.mesh
    worker = m.native_worker("lingers.empty")
    m.wait_mmi("lingers.empty", b"200")
    client = m.native_client()
    t0 = time.monotonic()
    worker.close()
    seen_workerless = False             # the broker has noticed the worker went
    deadline = t0 + linger_s + 10
    while True:
        reply = client.call(P.HEARTH_SVC_SERVICES, b"lingers.empty", timeout=5)
        answered = time.monotonic()
        assert reply is not None, "hearth.services unanswered"
        if answered < t0 + linger_s:
            assert reply.status == 200, \
                "service forgotten %.2f s after its worker went, linger %.1f s: %r" \
                % (answered - t0, linger_s, reply)
            seen_workerless |= unpack(reply.body)[0]["workers"] == 0
        elif reply.status == P.HEARTH_STATUS_NOT_FOUND:
            break
        assert answered < deadline, "service not forgotten %.1f s after linger" % (answered - t0)
        m.idle(0.02)
    assert seen_workerless, "the broker never showed the service without workers within linger_ms"
    # "requests for it then get 404"
    reply = client.call("lingers.empty", b"now?", {"deadline": 1000})
    assert reply is not None and reply.status == P.HEARTH_STATUS_NOT_FOUND, reply


def test_linger_keeps_callers_for_restarting_worker(hearth):
    """5.1: "When a service's last worker goes, its queue is kept: a restarting
    worker finds its callers still waiting"."""
    env = hearth("--heartbeat", "100")
    m = env.mesh
    worker = m.native_worker("phoenix")
    client = m.native_client()
    held = client.request("phoenix", b"held", {"deadline": 20000})
    assert worker.recv_job() is not None
    rid = client.request("phoenix", b"waiting", {"deadline": 20000})
    worker.close()
    reply = client.recv(timeout=10, rid=held)
    assert reply is not None and reply.status == P.HEARTH_STATUS_WORKER_LOST
    m.wait_mmi("phoenix", b"404")
    assert client.recv(timeout=0.2, rid=rid) is None, "the queued caller was not kept"
    reborn = m.native_worker("phoenix")
    job = reborn.recv_job()
    assert job is not None and job.body == b"waiting"
    reborn.reply(job, 200, b"back")
    assert client.recv(rid=rid).body == b"back"


# -- MDP workers while busy (5.5) and MDP heartbeats (9) ----------------------

def test_mdp_worker_gets_heartbeats(fast):
    """9: "The broker sends MDP workers HEARTBEAT every heartbeat_ms"."""
    m = fast.mesh
    worker = m.mdp_worker("mdp.hb", heartbeat_ms=50)
    m.wait_mmi("mdp.hb", b"200")
    start = time.monotonic()
    m.idle(1.0)
    beats = [t for t in worker.hb_received if t >= start]
    assert 5 <= len(beats) <= 20, "%d HEARTBEATs in 1 s at heartbeat_ms 100" % len(beats)


def test_busy_mdp_worker_not_expired_for_silence(hearth):
    """5.5: "An RFC 7 worker cannot heartbeat while its handler runs, so a busy
    MDP worker is not expired for silence"."""
    env = hearth("--heartbeat", "100", "--default-deadline", "5000")
    m = env.mesh
    worker = m.mdp_worker("mdp.busy", heartbeat_ms=50)
    m.wait_mmi("mdp.busy", b"200")
    client = m.mdp_client()
    client.request("mdp.busy", b"long job")
    job = worker.recv_job()
    assert job is not None
    worker.silent = True              # like a single-threaded RFC 7 worker
    m.idle(1.0)                       # 10 heartbeats, over 3x liveness
    assert worker.recv_disconnect(timeout=0.01) is None, "a busy MDP worker was expired for silence"
    worker.reply(job, b"finished")
    assert client.recv() == [b"mdp.busy", b"finished"]
    worker.silent = False
    m.wait_mmi("mdp.busy", b"200")


def test_hung_mdp_worker_removed(hearth):
    """5.5: "It is expired ... when it holds a request whose deadline has passed
    by heartbeat_ms x liveness more: it is then hung, is sent DISCONNECT and
    removed, so it is never reported as serving"."""
    env = hearth("--heartbeat", "100", "--default-deadline", "300")
    m = env.mesh
    worker = m.mdp_worker("mdp.hung", heartbeat_ms=50)
    m.wait_mmi("mdp.hung", b"200")
    client = m.mdp_client()
    t0 = time.monotonic()
    client.request("mdp.hung", b"never answered")
    assert worker.recv_job() is not None
    worker.silent = True
    assert worker.recv_disconnect(timeout=5) is not None, "no DISCONNECT for a hung MDP worker"
    elapsed = time.monotonic() - t0
    assert elapsed >= 0.55, "removed %.2f s after dispatch: before deadline + 3 heartbeats" % elapsed
    m.wait_mmi("mdp.hung", b"404")
    assert client.recv(timeout=0.1) is None, "MDP clients get no error reply"


def test_killed_worker_noticed_within_one_heartbeat(hearth):
    """4.4: "The broker also treats a worker as dead at once when a send to it
    fails because its connection is gone ...: a killed worker is noticed within
    one heartbeat, not three". With a 3 s heartbeat, silence alone would take
    9 s; the failed send comes at the next tick, within 3 s."""
    env = hearth("--heartbeat", "3000")
    reply, elapsed = _kill_holding_worker(env)
    assert reply is not None and reply.status == P.HEARTH_STATUS_WORKER_LOST, reply
    assert elapsed < 6.0, "502 after %.2f s: not within one 3000 ms heartbeat" % elapsed


def test_worker_disconnect_while_holding_drains(fast):
    """4.5: "A worker that stops gracefully sends DISCONNECT, then finishes the
    requests it holds and sends their REPLYs ... The broker MUST send it no
    more requests, MUST relay those replies, and removes the worker once it
    holds none"."""
    m = fast.mesh
    w1 = m.native_worker("leaver", {"credit": 2})
    client = m.native_client()
    first = client.request("leaver", b"one", {"deadline": 20000})
    second = client.request("leaver", b"two", {"deadline": 20000})
    jobs = [w1.recv_job(), w1.recv_job()]
    assert None not in jobs
    w1.send(w1.frames_of("HEARTH_WORKER_DISCONNECT"))
    third = client.request("leaver", b"three", {"deadline": 20000})
    w1.reply(jobs[0], 200, b"r-one")
    reply = client.recv(rid=first)
    assert reply is not None and reply.status == 200 and reply.body == b"r-one", reply
    assert w1.recv_job(timeout=0.3) is None, "a stopping worker got a new request"
    w1.reply(jobs[1], 200, b"r-two")
    reply = client.recv(rid=second)
    assert reply is not None and reply.status == 200 and reply.body == b"r-two", reply
    m.wait_mmi("leaver", b"404")          # removed once it holds none
    assert w1.recv_job(timeout=0.1) is None
    w2 = m.native_worker("leaver")
    job = w2.recv_job()
    assert job is not None and job.body == b"three", "the queued request waited for a new worker"
    w2.reply(job, 200, b"r-three")
    assert client.recv(rid=third).body == b"r-three"


def test_worker_disconnect_holding_nothing_removed_at_once(env):
    """4.5: "a native worker that holds nothing is removed at once"; "Any MDP
    DISCONNECT removes the worker at once"."""
    m = env.mesh
    w = m.native_worker("bye")
    w.send(w.frames_of("HEARTH_WORKER_DISCONNECT"))
    m.wait_mmi("bye", b"404", timeout=2)
    mw = m.mdp_worker("mdp.bye")
    m.wait_mmi("mdp.bye", b"200")
    mw.send(mw.frames_of("HEARTH_MDPW_DISCONNECT"))
    m.wait_mmi("mdp.bye", b"404", timeout=2)


def test_mdp_disconnect_while_holding_resends(fast):
    """4.5: "Any MDP DISCONNECT removes the worker at once, with no
    acknowledgement (its held requests are handled as in 5.4)": an MDP
    client's request is idempotent, resent."""
    m = fast.mesh
    a = m.mdp_worker("mdp.quit", heartbeat_ms=50)
    m.wait_mmi("mdp.quit", b"200")
    client = m.mdp_client()
    client.request("mdp.quit", b"work")
    assert a.recv_job() is not None
    b = m.mdp_worker("mdp.quit", heartbeat_ms=50)
    a.send(a.frames_of("HEARTH_MDPW_DISCONNECT"))
    job = b.recv_job()
    assert job is not None and job.body == [b"work"]
    b.reply(job, b"done")
    assert client.recv() == [b"mdp.quit", b"done"]


def test_mdp_queued_request_outlives_linger(hearth):
    """5.1: "Native requests still queued once the service has had no worker
    for linger_ms ... get 503; MDP requests wait for their deadline, as RFC 7
    asks"."""
    env = hearth("--heartbeat", "100", "--linger", "200", "--default-deadline", "20000")
    m = env.mesh
    first = m.mdp_worker("mdp.patient", heartbeat_ms=50)
    m.wait_mmi("mdp.patient", b"200")
    first.send(first.frames_of("HEARTH_MDPW_DISCONNECT"))
    first.close()
    m.wait_mmi("mdp.patient", b"404")
    client = m.mdp_client()
    client.request("mdp.patient", b"still here?")
    m.idle(0.6)                                  # three lingers pass
    assert client.recv(timeout=0.01) is None
    second = m.mdp_worker("mdp.patient", heartbeat_ms=50)
    job = second.recv_job()
    assert job is not None and job.body == [b"still here?"], "the MDP request did not wait"
    second.reply(job, b"yes")
    assert client.recv() == [b"mdp.patient", b"yes"]


def test_resend_goes_to_head_of_queue(fast):
    """5.4: an idempotent request of a dead worker "is put back at the head of
    its queue for another worker (attempt 2)": before requests queued later."""
    m = fast.mesh
    w1 = m.native_worker("head")
    client = m.native_client()
    resent = client.request("head", b"A", {"deadline": 20000, "idempotent": True})
    assert w1.recv_job() is not None
    behind = client.request("head", b"B", {"deadline": 20000})
    w1.close()
    m.wait_mmi("head", b"404")         # the broker noticed the death
    w2 = m.native_worker("head")
    job = w2.recv_job()
    assert job is not None and job.body == b"A" and job.meta["attempt"] == 2, job
    w2.reply(job, 200, b"a")
    job = w2.recv_job()
    assert job is not None and job.body == b"B" and job.meta["attempt"] == 1, job
    w2.reply(job, 200, b"b")
    assert client.recv(rid=resent).body == b"a"
    assert client.recv(rid=behind).body == b"b"
