"""hearth-expert-sentiment as a process, against a scripted fake broker (a
raw ROUTER on tcp://127.0.0.1:*): the descriptor it registers (PROTOCOL.md
7), its answers, --delay-ms bounded by the request's deadline (4.3), SIGTERM
(DISCONNECT, exit 0) and a refused registration (4.2). Every process is
stopped by PID; every wait is bounded."""

import json
import os
import signal
import subprocess
import tempfile
import time

import msgpack
import pytest
import zmq

EXPERT = os.environ["HEARTH_EXPERT_BIN"]
HEADER = b"HEARTHW1"
READY, REQUEST, REPLY, HEARTBEAT, DISCONNECT, REGISTERED = (bytes([c]) for c in range(1, 7))
WAIT = 10.0                      # generous: every step needs well under 1 s


class FakeBroker:
    def __init__(self):
        self.ctx = zmq.Context()
        self.router = self.ctx.socket(zmq.ROUTER)
        self.router.linger = 0
        self.router.bind("tcp://127.0.0.1:*")
        self.endpoint = self.router.getsockopt(zmq.LAST_ENDPOINT).decode()
        self.peer = None

    def recv(self, command, timeout=WAIT):
        """The next message with this command. Heartbeats are answered, as
        a real broker does, so long waits do not look like a dead broker."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.router.poll(int(1000 * (deadline - time.monotonic())) + 1):
                break
            frames = self.router.recv_multipart()
            self.peer = frames[0]
            assert frames[1] == b"" and frames[2] == HEADER, frames
            if frames[3] == command:
                return frames[1:]
            if frames[3] == HEARTBEAT:
                self.send(HEARTBEAT)
        raise AssertionError("no command %r within %.0f s" % (command, timeout))

    def send(self, command, *frames):
        self.router.send_multipart([self.peer, b"", HEADER, command] + list(frames))

    def register(self, status=b"200", settings=None):
        if settings is None:
            settings = {"heartbeat_ms": 1000, "liveness": 3, "max_message": 1 << 20,
                        "worker_id": "w1"}
        self.send(REGISTERED, status, msgpack.packb(settings))

    def request(self, job, body, meta=None):
        self.send(REQUEST, job, msgpack.packb(meta) if meta else b"", body)

    def close(self):
        self.router.close()
        self.ctx.term()


class Expert:
    def __init__(self, endpoint, *options):
        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen([EXPERT, "-b", endpoint] + list(options),
                                     stdout=subprocess.DEVNULL, stderr=self.log)

    def stderr(self):
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def wait_log(self, text, timeout=WAIT):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.stderr():
                return
            time.sleep(0.02)
        raise AssertionError("%r not logged: %s" % (text, self.stderr()))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(WAIT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(WAIT)
        self.log.close()


@pytest.fixture
def broker():
    fake = FakeBroker()
    yield fake
    fake.close()


@pytest.fixture
def expert_of(broker):
    started = []

    def start(*options):
        expert = Expert(broker.endpoint, *options)
        started.append(expert)
        return expert
    yield start
    for expert in started:
        expert.stop()


def test_descriptor_and_registration(broker, expert_of):
    """7: the READY descriptor; 4.2: it logs when the broker accepts it."""
    expert = expert_of("--service", "mood", "--version-string", "2.0.1",
                       "--idempotent", "-n", "2", "--credit", "5")
    ready = broker.recv(READY)
    assert ready[3] == b"mood"
    desc = msgpack.unpackb(ready[4])
    assert desc["service"] == "mood" and desc["version"] == "2.0.1"
    assert desc["idempotent"] is True
    assert desc["concurrency"] == 2 and desc["credit"] == 5
    assert desc["description"]
    assert json.loads(desc["example"]) == {"text": "I love this"}
    for key in ("input_schema", "output_schema"):
        assert json.loads(desc[key])["type"] == "object"
    broker.register()
    expert.wait_log("registered service mood")


def test_answers(broker, expert_of):
    expert_of("--service", "mood")
    broker.recv(READY)
    broker.register()
    doc = {"text": "Great, just GREAT. Awful service though.", "keep": [1, 2]}
    broker.request(b"job00001", json.dumps(doc).encode())
    reply = broker.recv(REPLY)
    assert reply[3] == b"job00001" and reply[4] == b"200", reply
    assert reply[5] == b""
    out = json.loads(reply[6])
    assert out["keep"] == [1, 2] and out["text"] == doc["text"]
    op = out["opinions"]["mood"]
    assert op == {"label": "positive", "score": pytest.approx(1 / 6),
                  "positive": 2, "negative": 1, "words": 6}
    broker.request(b"job00002", b"{oops")
    reply = broker.recv(REPLY)
    assert reply[4] == b"400"
    error = msgpack.unpackb(reply[5])["error"]
    assert error.startswith("body is not a JSON object: ") and "at line 1 column" in error


def test_delay_respects_deadline(broker, expert_of):
    """4.3: a worker SHOULD give up on a request whose deadline has passed:
    the simulated latency stops at the deadline."""
    expert_of("--delay-ms", "5000")
    broker.recv(READY)
    broker.register()
    t0 = time.monotonic()
    broker.request(b"job00003", b'{"text":"good"}', {"deadline": 200})
    reply = broker.recv(REPLY)
    elapsed = time.monotonic() - t0
    assert reply[4] == b"504", reply
    assert 0.15 <= elapsed < 3.0, "a 200 ms deadline took %.2f s" % elapsed
    t0 = time.monotonic()
    broker.request(b"job00004", b'{"text":"good"}', {"deadline": 60000})
    reply = broker.recv(REPLY, timeout=20)
    assert reply[4] == b"200"
    assert time.monotonic() - t0 >= 4.9


def test_sigterm_disconnects_and_exits_0(broker, expert_of):
    expert = expert_of()
    broker.recv(READY)
    broker.register()
    expert.wait_log("registered service sentiment")
    expert.proc.send_signal(signal.SIGTERM)
    broker.recv(DISCONNECT)
    assert expert.proc.wait(WAIT) == 0


def test_refused_registration_exits_1(broker, expert_of):
    """4.2: a refused worker does not retry; the expert exits non-zero."""
    expert = expert_of()
    broker.recv(READY)
    broker.register(b"403", {"error": "reserved name"})
    assert expert.proc.wait(WAIT) == 1
    assert "reserved name" in expert.stderr()
