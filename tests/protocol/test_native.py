"""HMP/1 native client and worker (PROTOCOL.md sections 3, 4.2, 6, 7, 8.2)
against the real broker, with raw frames."""

import time

from hearthtest import P, pack, unpack


def test_request_ids_echoed(env):
    """3.1: "request-id: 1 to 255 bytes chosen by the client, opaque to the
    broker, echoed unchanged in the REPLY"."""
    client = env.mesh.native_client()
    for rid in (b"x", b"\x00\xff\x00binary", bytes(range(255)), b"\x00" * 8):
        sent = client.request(P.HEARTH_SVC_PING, b"b", rid=rid)
        reply = client.recv(rid=sent)
        assert reply is not None, "no reply for id %r" % rid
        assert reply.rid == rid and reply.status == 200


def test_ping_echoes(env):
    """8.2: "hearth.ping: REPLY 200 echoing the body"."""
    client = env.mesh.native_client()
    body = bytes(range(256)) * 4
    reply = client.call(P.HEARTH_SVC_PING, body)
    assert reply.status == 200 and reply.body == body
    reply = client.call(P.HEARTH_SVC_PING, b"")
    assert reply.status == 200 and reply.body == b""


def test_unknown_service_404_at_once(env):
    """5.1: "A native request for a service the broker does not know MUST get
    404 at once"; 3.2: "Every non-200 REPLY from the broker carries an error
    text in its metadata"."""
    client = env.mesh.native_client()
    t0 = time.monotonic()
    reply = client.call("no.such.service", b"x", {"deadline": 20000})
    elapsed = time.monotonic() - t0
    assert reply is not None
    assert reply.status == P.HEARTH_STATUS_NOT_FOUND
    assert elapsed < 1.0, "404 took %.2f s" % elapsed
    assert isinstance(reply.error, str) and reply.error


def test_many_in_flight_matched_by_id(env):
    """3.1: "A client MAY have any number of requests in flight"; 4.3 credit:
    replies come back in the worker's order and are matched by id."""
    m = env.mesh
    worker = m.native_worker("many", {"credit": 50})
    client = m.native_client()
    rids = [client.request("many", b"n%d" % i, rid=b"id-%d" % i) for i in range(50)]
    jobs = []
    while len(jobs) < 50:
        job = worker.recv_job()
        assert job is not None, "only %d of 50 requests reached a credit-50 worker" % len(jobs)
        jobs.append(job)
    for job in reversed(jobs):
        worker.reply(job, 200, b"re:" + job.body)
    got = {}
    for _ in range(50):
        reply = client.recv()
        assert reply is not None
        got[reply.rid] = reply
    assert set(got) == set(rids)
    for i, rid in enumerate(rids):
        assert got[rid].status == 200
        assert got[rid].body == b"re:n%d" % i


def test_registered_200_settings(hearth):
    """4.2: "status 200 and settings {heartbeat_ms, liveness, max_message,
    worker_id}"; 4.4: "it tells heartbeat_ms ... and liveness ... in
    REGISTERED"."""
    env = hearth("--heartbeat", "700", "--liveness", "4", "--max-message", "123456")
    worker = env.mesh.native_worker()
    status, settings = worker.ready("svc", {"version": "1.2"})
    assert status == 200
    assert settings["heartbeat_ms"] == 700
    assert settings["liveness"] == 4
    assert settings["max_message"] == 123456
    assert isinstance(settings["worker_id"], str) and settings["worker_id"]
    other = env.mesh.native_worker()
    _, settings2 = other.ready("svc", {})
    assert settings2["worker_id"] != settings["worker_id"]


def test_registered_defaults(env):
    """4.4: heartbeat_ms (default 1000) and liveness (default 3)."""
    worker = env.mesh.native_worker()
    status, settings = worker.ready("svc", None)   # empty frame = empty map
    assert status == 200
    assert settings["heartbeat_ms"] == P.HEARTH_DEFAULT_HEARTBEAT_MS
    assert settings["liveness"] == P.HEARTH_DEFAULT_LIVENESS
    assert settings["max_message"] == P.HEARTH_DEFAULT_MAX_MESSAGE


BAD_DESCRIPTORS = [
    ("array", pack(["not", "a", "map"])),
    ("not msgpack", b"\xc1\xc1"),
    ("truncated", b"\x82\xa7version"),
    ("credit 0", pack({"credit": 0})),
    ("credit too big", pack({"credit": P.HEARTH_CREDIT_MAX + 1})),
    ("credit string", pack({"credit": "3"})),
    ("credit negative", pack({"credit": -1})),
    ("version int", pack({"version": 3})),
    ("description bool", pack({"description": True})),
    ("idempotent string", pack({"idempotent": "yes"})),
    ("service mismatch", pack({"service": "other"})),
    ("input_schema int", pack({"input_schema": 1})),
]


def test_registered_400_bad_descriptor(env):
    """7: "A descriptor that is not a map, or has a key of the wrong type, gets
    REGISTERED 400"; "if present it MUST equal frame 3" (service)."""
    m = env.mesh
    failures = []
    for name, raw in BAD_DESCRIPTORS:
        worker = m.native_worker()
        answer = worker.ready("svc", raw)
        if answer is None or answer[0] != P.HEARTH_STATUS_BAD_REQUEST or not answer[1].get("error"):
            failures.append("%s: %r -> %r" % (name, raw, answer))
        worker.close()
    assert not failures, "\n".join(failures)
    # none of them registered: the service is unknown
    reply = m.native_client().call("svc", b"")
    assert reply.status == P.HEARTH_STATUS_NOT_FOUND
    # the bounds themselves are valid
    for credit in (1, P.HEARTH_CREDIT_MAX):
        answer = m.native_worker().ready("svc", {"credit": credit, "service": "svc"})
        assert answer is not None and answer[0] == 200, (credit, answer)


def _published(client, service):
    reply = client.call(P.HEARTH_SVC_SERVICES, service.encode())
    assert reply is not None and reply.status == 200, reply
    return unpack(reply.body)[0]["descriptor"]


def test_published_descriptor_is_not_taken_over(env):
    """7: "A later registrant never replaces it; when the publisher leaves,
    the longest registered native worker left takes its place, and a service
    with no native worker publishes none"."""
    m = env.mesh
    client = m.native_client()
    first = m.native_worker("shown", {"version": "1.0"})
    newcomer = m.native_worker("shown", {"version": "evil-1.0", "credit": 100})
    assert _published(client, "shown")["version"] == "1.0"
    newcomer.send(newcomer.frames_of("HEARTH_WORKER_DISCONNECT"))
    assert newcomer.recv_disconnect() is not None
    assert _published(client, "shown")["version"] == "1.0"
    second = m.native_worker("shown", {"version": "2.0"})
    first.send(first.frames_of("HEARTH_WORKER_DISCONNECT"))
    assert first.recv_disconnect() is not None
    assert _published(client, "shown")["version"] == "2.0"
    second.send(second.frames_of("HEARTH_WORKER_DISCONNECT"))
    assert second.recv_disconnect() is not None
    assert _published(client, "shown") is None


def test_services_listing(env):
    """8.2: "hearth.services: REPLY 200 whose body is a msgpack array, one map
    per service: {name, workers, mdp_workers, draining, credit, in_flight,
    queued, descriptor}"; 7: "Unknown keys are kept and shown by discovery"."""
    m = env.mesh
    desc = {"version": "2.0", "description": "does things", "credit": 4,
            "idempotent": True, "x-team": "search"}
    m.native_worker("alpha", desc)
    m.native_worker("alpha", dict(desc, credit=2))
    m.mdp_worker("alpha")
    m.native_worker("beta", {"version": "0.1"})
    client = m.native_client()
    client.request("alpha", b"hold", {"deadline": 10000})
    deadline = time.monotonic() + 10
    while True:
        reply = client.call(P.HEARTH_SVC_SERVICES, b"")
        assert reply is not None and reply.status == 200, reply
        listing = unpack(reply.body)
        assert isinstance(listing, list), listing
        byname = {e["name"]: e for e in listing}
        assert {"alpha", "beta"} <= set(byname), listing
        entry = byname["alpha"]
        # the MDP READY has no answer and the request goes out when it is seen
        if (entry["mdp_workers"] == 1 and entry["in_flight"] == 1) or time.monotonic() > deadline:
            break
        m.idle(0.02)
    for key in ("name", "workers", "mdp_workers", "draining", "credit", "in_flight", "queued",
                "descriptor"):
        assert key in entry, (key, entry)
    assert entry["mdp_workers"] == 1
    assert entry["workers"] in (2, 3), entry          # natives (+ the MDP one if counted)
    assert entry["in_flight"] == 1 and entry["queued"] == 0, entry
    d = entry["descriptor"]
    assert d["version"] == "2.0" and d["x-team"] == "search", d
    assert d["credit"] == 4, "the first registered native worker publishes (7), not a newcomer"
    assert byname["beta"]["descriptor"]["version"] == "0.1"
    # named query
    reply = client.call(P.HEARTH_SVC_SERVICES, b"beta")
    assert reply.status == 200
    only = unpack(reply.body)
    assert [e["name"] for e in only] == ["beta"]
    reply = client.call(P.HEARTH_SVC_SERVICES, b"gamma")
    assert reply.status == P.HEARTH_STATUS_NOT_FOUND and reply.error
    # "descriptor: the map the most recently registered native worker sent, or nil"
    m.mdp_worker("mdp.only")
    m.wait_mmi("mdp.only", b"200")
    reply = client.call(P.HEARTH_SVC_SERVICES, b"mdp.only")
    only = unpack(reply.body)
    assert only[0]["descriptor"] is None and only[0]["mdp_workers"] == 1, only


def test_metadata_forwarding(env):
    """6: "Unknown keys MUST be ignored, and the broker forwards them from
    client to worker and from worker to client"; 4.3: "deadline rewritten to
    the budget remaining at dispatch and attempt (1 ...) added"."""
    m = env.mesh
    worker = m.native_worker("meta", {"version": "9.9"})
    client = m.native_client()
    rid = client.request("meta", b"q", {"deadline": 8000, "x-trace": "abc", "client": "pytest",
                                         "nested": {"a": [1, 2]}})
    job = worker.recv_job()
    assert job is not None
    assert job.meta["x-trace"] == "abc" and job.meta["client"] == "pytest"
    assert job.meta["nested"] == {"a": [1, 2]}
    assert job.meta["attempt"] == 1
    assert 0 < job.meta["deadline"] <= 8000
    worker.reply(job, 200, b"a", {"x-answer": 42})
    reply = client.recv(rid=rid)
    assert reply.status == 200 and reply.body == b"a"
    assert reply.meta["x-answer"] == 42


def test_worker_status_passed_through(env):
    """3.2: "A worker MAY use any status; the broker passes it through"."""
    m = env.mesh
    worker = m.native_worker("st")
    client = m.native_client()
    for status in (201, 418, 500, 599):
        rid = client.request("st", b"")
        job = worker.recv_job()
        worker.reply(job, status, b"s", {"error": "why %d" % status})
        reply = client.recv(rid=rid)
        assert reply.status == status, reply
        if status != 201:
            assert reply.error == "why %d" % status


def test_services_mmi_after_worker_disconnect(env):
    """4.1: DISCONNECT W->B: a worker that says DISCONNECT is gone; with no
    other worker mmi.service says 404."""
    m = env.mesh
    worker = m.native_worker("leaving")
    m.wait_mmi("leaving", b"200")
    worker.send(worker.frames_of("HEARTH_WORKER_DISCONNECT"))
    m.wait_mmi("leaving", b"404")


def test_service_name_rules(env):
    """10: "A registered service name ... MUST NOT start with mmi. or hearth.
    and MUST NOT contain , [ ] or a space ... A native READY breaking this gets
    REGISTERED 400 (403 for the reserved prefixes); an MDP READY gets
    DISCONNECT"; "1 to 255 bytes with no control characters"."""
    m = env.mesh
    failures = []
    for name in (b"a,b", b"a[b", b"b]", b"a b", b"tab\tname", b"ctl\x01", b"x" * 256):
        answer = m.native_worker().ready(name, {})
        if answer is None or answer[0] != P.HEARTH_STATUS_BAD_REQUEST:
            failures.append("native READY %r -> %r" % (name, answer))
        mdp = m.mdp_worker()
        mdp.ready(name)
        if mdp.recv_disconnect(timeout=2) is None:
            failures.append("MDP READY %r: no DISCONNECT" % name)
    assert not failures, "\n".join(failures)
    answer = m.native_worker().ready("x" * 255, {})
    assert answer is not None and answer[0] == 200, "a 255-byte name is valid: %r" % (answer,)
