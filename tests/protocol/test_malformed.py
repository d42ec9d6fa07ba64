"""Hostile and malformed input (PROTOCOL.md 3.3, 4.3, 4.5, 6, 9): every case
comes from a fresh socket, and every case is followed by a canary - a native
hearth.ping that must be answered, and every few cases an MDP round trip
through a real (raw) MDP worker. All cases share one broker so damage would
accumulate.

3.3: "A message with header HEARTHC1 whose command is REQUEST, that has a
usable request-id (frame 3, 1..255 bytes) but is otherwise wrong (frame count,
empty or over-long service, metadata not a map, deadline not an unsigned
integer) MUST be answered with 400 and an error naming the fault. Anything
else malformed (no delimiter, unknown header or command, no usable
request-id) MUST be dropped and logged ...; the broker MUST go on serving
everyone else."
"""

import itertools
import re

import pytest
import zmq

from hearthtest import P, Mesh, MdpWorker, NativeWorker, pack, seeded_garbage, start_broker, unpack

MAX = 262144                          # --max-message for this module
HC = P.HEARTH_CLIENT_HEADER
HW = P.HEARTH_WORKER_HEADER
MC = P.HEARTH_MDPC_HEADER
MW = P.HEARTH_MDPW_HEADER
REQ = P.cmd("HEARTH_CLIENT_REQUEST")
PING = P.HEARTH_SVC_PING


def nreq(rid=b"bad-id", service=PING, meta=b"", body=b"b"):
    return [b"", HC, REQ, rid, service, meta, body]


def nested(depth):
    obj = 1
    for _ in range(depth):
        obj = {"a": obj}
    return pack(obj)


DROP, BAD, TOO_LARGE, WORKER_DROP, NOT_REGISTERED = "drop", 400, 413, "worker-drop", "not-registered"

# (name, frames sent by the socket, socket kind, expectation)
CASES = [
    ("empty message", [b""], zmq.DEALER, DROP),
    ("one frame", [b"x"], zmq.DEALER, DROP),
    ("missing delimiter", nreq()[1:], zmq.DEALER, DROP),
    ("wrong header", [b"", b"HEARTHC9"] + nreq()[2:], zmq.DEALER, DROP),
    ("header lower case", [b"", HC.lower()] + nreq()[2:], zmq.DEALER, DROP),
    ("header only", [b"", HC], zmq.DEALER, DROP),
    ("unknown command byte", [b"", HC, b"\x07"] + nreq()[3:], zmq.DEALER, DROP),
    ("client sends REPLY command", [b"", HC, P.cmd("HEARTH_CLIENT_REPLY"), b"id", b"200", b"", b""],
     zmq.DEALER, DROP),
    ("command frame of 2 bytes", [b"", HC, REQ + b"\x00"] + nreq()[3:], zmq.DEALER, DROP),
    ("command frame empty", [b"", HC, b""] + nreq()[3:], zmq.DEALER, DROP),
    ("truncated REQUEST, no id", [b"", HC, REQ], zmq.DEALER, DROP),
    ("request id empty", nreq(rid=b""), zmq.DEALER, DROP),
    ("request id 300 bytes", nreq(rid=b"r" * 300), zmq.DEALER, DROP),
    ("truncated REQUEST, id and service", nreq()[:5], zmq.DEALER, BAD),
    ("truncated REQUEST, no body", nreq()[:6], zmq.DEALER, BAD),
    ("REQUEST with 8 frames", nreq() + [b"extra"], zmq.DEALER, BAD),
    ("REQUEST with 40 frames", nreq() + [b"f%d" % i for i in range(33)], zmq.DEALER, BAD),
    ("empty service", nreq(service=b""), zmq.DEALER, BAD),
    ("service 300 bytes", nreq(service=b"s" * 300), zmq.DEALER, BAD),
    ("metadata not msgpack", nreq(meta=b"\xc1"), zmq.DEALER, BAD),
    ("metadata a msgpack array", nreq(meta=pack([1, 2, 3])), zmq.DEALER, BAD),
    ("metadata a string", nreq(meta=pack("deadline")), zmq.DEALER, BAD),
    ("metadata truncated", nreq(meta=b"\x82\xa8deadline\xcd"), zmq.DEALER, BAD),
    ("metadata nested 40 deep", nreq(meta=nested(40)), zmq.DEALER, BAD),
    ("metadata map32 claiming 2^32-1", nreq(meta=b"\xdf\xff\xff\xff\xff"), zmq.DEALER, BAD),
    ("metadata with trailing bytes", nreq(meta=pack({}) + b"\x00"), zmq.DEALER, BAD),
    ("metadata over 65536 bytes", nreq(meta=pack({"pad": "p" * 70000})), zmq.DEALER, BAD),
    ("deadline a string", nreq(meta=pack({"deadline": "100"})), zmq.DEALER, BAD),
    ("deadline negative", nreq(meta=pack({"deadline": -5})), zmq.DEALER, BAD),
    ("deadline a float", nreq(meta=pack({"deadline": 1.5})), zmq.DEALER, BAD),
    ("deadline nil", nreq(meta=pack({"deadline": None})), zmq.DEALER, BAD),
    ("REQUEST above max_message", nreq(body=b"x" * (MAX + 1000)), zmq.DEALER, TOO_LARGE),
    ("frame above twice max_message", nreq(body=b"x" * (2 * MAX + 1000)), zmq.DEALER, DROP),
    ("MDP request above max_message", [b"", MC, b"echo", b"x" * (MAX + 1000)], zmq.DEALER, DROP),
    ("MDP client, no service", [b"", MC], zmq.DEALER, DROP),
    ("worker header only", [b"", HW], zmq.DEALER, WORKER_DROP),
    ("native worker unknown command", [b"", HW, b"\x09"], zmq.DEALER, WORKER_DROP),
    ("native READY truncated", [b"", HW, P.cmd("HEARTH_WORKER_READY")], zmq.DEALER, NOT_REGISTERED),
    ("native READY empty service", [b"", HW, P.cmd("HEARTH_WORKER_READY"), b"", b""],
     zmq.DEALER, NOT_REGISTERED),
    ("native READY service 300 bytes", [b"", HW, P.cmd("HEARTH_WORKER_READY"), b"w" * 300, b""],
     zmq.DEALER, NOT_REGISTERED),
    ("native READY 3 extra frames", [b"", HW, P.cmd("HEARTH_WORKER_READY"), b"svc", b"", b"a", b"b", b"c"],
     zmq.DEALER, NOT_REGISTERED),
    ("MDP READY without service", [b"", MW, P.cmd("HEARTH_MDPW_READY")], zmq.DEALER, NOT_REGISTERED),
    ("MDP worker unknown command", [b"", MW, b"\x09", b"x"], zmq.DEALER, WORKER_DROP),
    ("MDP worker command of 2 bytes", [b"", MW, b"\x01\x01", b"svc"], zmq.DEALER, NOT_REGISTERED),
    ("REQ: MDPC01 alone", [MC], zmq.REQ, DROP),
    ("REQ: garbage", [b"\xff\xfe garbage"], zmq.REQ, DROP),
    ("REQ: header only", [HC], zmq.REQ, DROP),
    ("REQ: empty service", nreq(service=b"")[1:], zmq.REQ, BAD),
    ("REQ: deadline a string", nreq(meta=pack({"deadline": "soon"}))[1:], zmq.REQ, BAD),
    # routes (section 11): "A route that does not parse gets 400"
    ("route of 33 stages", nreq(service=b",".join([b"x"] * 33)), zmq.DEALER, BAD),
    ("route group of 17", nreq(service=b"[" + b",".join([b"x"] * 17) + b"]"), zmq.DEALER, BAD),
    ("route nested group", nreq(service=b"a,[b,[c,d]]"), zmq.DEALER, BAD),
    ("route of 255 commas", nreq(service=b"," * 255), zmq.DEALER, BAD),
    ("route empty group", nreq(service=b"a,[]"), zmq.DEALER, BAD),
    ("route with a control character", nreq(service=b"a,\x01b"), zmq.DEALER, BAD),
    ("MDP client, route that does not parse", [b"", MC, b"a,[b", b"x"], zmq.DEALER, DROP),
] + [("binary garbage, seed %d" % seed, seeded_garbage(seed, 1 + seed % 6), zmq.DEALER, DROP)
     for seed in range(1, 7)] + [
    ("binary garbage after delimiter, seed %d" % seed, [b""] + seeded_garbage(seed, 3), zmq.DEALER, DROP)
    for seed in range(7, 10)]


# What the broker logs when it drops each DROP case: the reason hb_drop gives
# (broker/hearth_broker.c s_route, hb_native.c, hb_mdp.c). The check matches
# "dropped message of N frames: REASON", N counting the ROUTER identity (and
# the empty frame a REQ socket adds), so the line proves this very message
# was seen and dropped for this reason, not just that something was logged.
DROP_REASONS = {
    "empty message": "too few frames",
    "one frame": "too few frames",
    "missing delimiter": "no empty delimiter frame",
    "wrong header": "unknown protocol header",
    "header lower case": "unknown protocol header",
    "header only": "not a native client command",
    "unknown command byte": "not a native client command",
    "client sends REPLY command": "not a native client command",
    "command frame of 2 bytes": "not a native client command",
    "command frame empty": "not a native client command",
    "truncated REQUEST, no id": "REQUEST without a 1-255 byte id",
    "request id empty": "REQUEST without a 1-255 byte id",
    "request id 300 bytes": "REQUEST without a 1-255 byte id",
    "MDP request above max_message": "MDP request too large",
    "MDP client, no service": "MDP request without a valid service name",
    "REQ: MDPC01 alone": "MDP request without a valid service name",
    "REQ: garbage": "unknown protocol header",
    "REQ: header only": "not a native client command",
}


def drop_log_pattern(name, frames, kind):
    """The regex of the log line that dropping this case must write."""
    if name == "MDP client, route that does not parse":
        # The route parser refuses it, and the MDP handler logs why (an MDP
        # client has no error reply to receive).
        return r"MDP request for '\(route\)' dropped: group not closed"
    count = len(frames) + (2 if kind == zmq.REQ else 1)
    if name.startswith("binary garbage"):
        # Random bytes: the first check in s_route that they fail.
        reason = ("too few frames" if count < 3 else
                  "no empty delimiter frame" if frames[0] else "unknown protocol header")
    else:
        reason = DROP_REASONS[name]
    return r"dropped message of %d frames?: %s; frame " % (count, re.escape(reason))


class Canary:
    """The shared broker plus an MDP echo worker that the canary round trip
    goes through."""

    def __init__(self):
        self.broker = start_broker("--max-message", str(MAX), "--grace", "300")
        self.mesh = Mesh(self.broker.endpoint)
        self.worker = self.mesh.mdp_worker("canary.echo")
        self.mesh.wait_mmi("canary.echo", b"200")
        self.ping_client = self.mesh.native_client()
        self.mdp_client = self.mesh.mdp_client()
        self.counter = itertools.count(1)

    def check(self, label):
        """hearth.ping must be answered; every 3rd check also an MDP round trip
        through canary.echo."""
        n = next(self.counter)
        assert self.broker.alive(), "the broker died after %s:\n%s" % (label, self.broker.output())
        body = b"canary %d" % n
        reply = self.ping_client.call(PING, body, timeout=5)
        assert reply is not None, "hearth.ping unanswered after %s" % label
        assert reply.status == 200 and reply.body == body
        if n % 3 == 0:
            self.mdp_client.request("canary.echo", body)
            job = self.worker.recv_job(timeout=5)
            assert job is not None, "MDP canary not dispatched after %s" % label
            self.worker.reply(job, b"echo:", body)
            assert self.mdp_client.recv(timeout=5) == [b"canary.echo", b"echo:", body], label


@pytest.fixture(scope="module")
def canary():
    c = Canary()
    yield c
    c.mesh.close()
    alive = c.broker.alive()
    rc = c.broker.stop(timeout=15)
    print("---- broker output ----\n" + c.broker.output(300))
    assert alive, "the broker died during the malformed-input tests"
    assert rc == 0, "broker exit %r after SIGTERM" % rc


def is_disconnect(frames):
    return (NativeWorker.is_command(frames, "HEARTH_WORKER_DISCONNECT")
            or MdpWorker.is_command(frames, "HEARTH_MDPW_DISCONNECT"))


def is_registered_ok(frames):
    return (NativeWorker.is_command(frames, "HEARTH_WORKER_REGISTERED") and len(frames) > 3
            and frames[3] == b"200")


@pytest.mark.parametrize("name,frames,kind,expect", CASES, ids=[c[0] for c in CASES])
def test_malformed(canary, name, frames, kind, expect):
    """See the module docstring (3.3, 4.5): 400 for a bad REQUEST with a usable
    id, 413 above max_message, else dropped; always followed by a canary."""
    m = canary.mesh
    bad = m.raw(kind)
    logged = len(canary.broker.lines)
    bad.send(frames)
    if expect in (BAD, TOO_LARGE):
        answer = bad.recv_raw(timeout=5)
        assert answer is not None, "%s: no %s reply" % (name, expect)
        if kind == zmq.REQ:
            answer = [b""] + answer      # REQ strips the delimiter
        assert answer[:3] == [b"", HC, P.cmd("HEARTH_CLIENT_REPLY")], answer
        assert len(answer) == P.HEARTH_CLIENT_REPLY_FRAMES, answer
        assert answer[3] == b"bad-id", "request id not echoed: %r" % answer[3]
        assert answer[4] == b"%d" % expect, "%s: status %r, want %d" % (name, answer[4], expect)
        error = unpack(answer[5]).get("error")
        assert isinstance(error, str) and error, "%s: no error text in %r" % (name, answer[5])
    canary.check(name)
    if expect == DROP:
        answer = bad.recv_raw(timeout=0.15)
        assert answer is None, "%s: expected a silent drop, got %r" % (name, answer)
        if name != "frame above twice max_message":     # refused by the transport, unseen
            # "dropped and logged as a sanitised, truncated sample": the drop
            # line for this message, with its reason
            canary.broker.wait_line(drop_log_pattern(name, frames, kind), timeout=5,
                                    start=logged)
    elif expect == WORKER_DROP:
        answer = bad.recv_raw(timeout=0.15)
        assert answer is None or is_disconnect(answer), "%s: got %r" % (name, answer)
    elif expect == NOT_REGISTERED:
        answer = bad.recv_raw(timeout=0.15)
        assert answer is None or not is_registered_ok(answer), "%s: registered! %r" % (name, answer)
        assert answer is None or is_disconnect(answer) or \
            NativeWorker.is_command(answer, "HEARTH_WORKER_REGISTERED"), answer
    else:
        assert bad.recv_raw(timeout=0.05) is None, "%s: a second reply" % name
    bad.close()


# -- malformed messages from a registered worker ---------------------------

def _held_job(canary, service):
    m = canary.mesh
    worker = m.native_worker(service)
    client = m.native_client()
    rid = client.request(service, b"job", {"deadline": 10000})
    job = worker.recv_job()
    assert job is not None
    return worker, client, rid, job


def _leave(canary, worker, client, service):
    """Unregisters the worker and waits until the broker forgot it, so a
    failed case cannot leave a worker behind for the next one."""
    worker.send(worker.frames_of("HEARTH_WORKER_DISCONNECT"))
    worker.close()
    client.close()
    canary.mesh.wait_mmi(service, b"404")


# REPLYs naming the job the worker holds but otherwise malformed (4.6)
BAD_REPLIES = [
    ("status of 2 bytes", lambda j: [j, b"20", b"", b"bad"]),
    ("status not digits", lambda j: [j, b"2x0", b"", b"bad"]),
    ("status 099", lambda j: [j, b"099", b"", b"bad"]),
    ("status 4 digits", lambda j: [j, b"2000", b"", b"bad"]),
    ("truncated REPLY", lambda j: [j, b"200"]),
    ("REPLY with an extra frame", lambda j: [j, b"200", b"", b"bad", b"extra"]),
    ("REPLY with metadata not msgpack", lambda j: [j, b"200", b"\xc1", b"bad"]),
    ("REPLY with metadata an array", lambda j: [j, b"200", pack([1]), b"bad"]),
    ("REPLY with metadata nested 40 deep", lambda j: [j, b"200", nested(40), b"bad"]),
]


@pytest.mark.parametrize("name,build", BAD_REPLIES, ids=[c[0] for c in BAD_REPLIES])
def test_malformed_worker_reply(canary, name, build):
    """4.6: "A REPLY naming a job the worker holds but otherwise malformed
    (frame count, status, metadata) ends that job at once with 500 "worker sent
    a malformed reply" and returns the credit"; the worker's later valid REPLY
    for that job is dropped (4.3)."""
    service = "mal.reply.%d" % [c[0] for c in BAD_REPLIES].index(name)
    worker, client, rid, job = _held_job(canary, service)
    try:
        worker.send(worker.frames_of("HEARTH_WORKER_REPLY", *build(job.job_id)))
        reply = client.recv(timeout=5, rid=rid)
        assert reply is not None, "no answer to the caller after a malformed REPLY"
        assert reply.status == P.HEARTH_STATUS_WORKER_ERROR, reply
        assert "malformed" in (reply.error or ""), reply
        assert reply.body != b"bad"
        canary.check(name)
        worker.reply(job, 200, b"late and valid")
        rid2 = client.request(service, b"next", {"deadline": 10000})
        job2 = worker.recv_job()
        assert job2 is not None, "credit not returned after a malformed REPLY"
        worker.reply(job2, 200, b"good")
        reply = client.recv(rid=rid2)
        assert reply is not None and reply.status == 200 and reply.body == b"good", reply
        assert client.recv(timeout=0.1) is None, "the late REPLY of an ended job reached the client"
        assert worker.recv_disconnect(timeout=0.01) is None
    finally:
        _leave(canary, worker, client, service)


def test_reply_with_short_job_id_dropped(canary):
    """4.6: "Any other malformed worker message is dropped and logged": a REPLY
    whose job id is not 8 bytes names no job; the held job is not ended."""
    worker, client, rid, job = _held_job(canary, "mal.shortid")
    try:
        worker.send(worker.frames_of("HEARTH_WORKER_REPLY", job.job_id[:3], b"200", b"", b"bad"))
        canary.check("short job id")
        assert client.recv(timeout=0.1, rid=rid) is None, "a REPLY with a 3-byte job id was relayed"
        worker.reply(job, 200, b"good")
        reply = client.recv(rid=rid)
        assert reply is not None and reply.status == 200 and reply.body == b"good", reply
    finally:
        _leave(canary, worker, client, "mal.shortid")


def test_reply_unknown_job_id(canary):
    """4.3: "A REPLY whose job-id the broker does not hold for that worker ... is
    dropped silently"; the worker stays registered and keeps serving."""
    worker, client, rid, job = _held_job(canary, "mal.jobid")
    try:
        worker.reply(b"\xee" * P.HEARTH_JOB_ID_SIZE, 200, b"for nobody")
        canary.check("unknown job id")
        assert worker.recv_disconnect(timeout=0.1) is None, "DISCONNECT for an unknown job id"
        worker.reply(job, 200, b"real")
        assert client.recv(rid=rid).body == b"real"
        rid2 = client.request("mal.jobid", b"again")
        job2 = worker.recv_job()
        assert job2 is not None
        worker.reply(job2, 200, b"still serving")
        assert client.recv(rid=rid2).body == b"still serving"
    finally:
        _leave(canary, worker, client, "mal.jobid")


def test_mdp_reply_naming_client_not_held(canary):
    """9: "A valid but unexpected command (... a REPLY naming a client the
    worker does not hold) gets DISCONNECT"."""
    m = canary.mesh
    w = m.mdp_worker("mal.mdp")
    m.wait_mmi("mal.mdp", b"200")
    w.reply(b"\x42" * P.HEARTH_JOB_ID_SIZE, b"forged")
    assert w.recv_disconnect() is not None
    canary.check("MDP REPLY for a client not held")
    w.close()


def test_log_samples_sanitised(canary):
    """3.3: malformed input is "logged as a sanitised, truncated sample": after
    all the cases above (binary garbage, 300-byte ids, 500 KB frames) every log
    line is printable ASCII and short."""
    canary.check("log check")
    lines = list(canary.broker.lines)
    assert lines
    for line in lines:
        assert len(line) <= 1024, "a %d-character log line: %r" % (len(line), line[:200])
        assert all(32 <= ord(c) < 127 or c == "\t" for c in line), "unsanitised log line %r" % line
