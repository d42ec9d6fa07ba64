"""hearthtest - shared helpers for Hearth's protocol and end-to-end tests.

Everything here is single-threaded on purpose: pyzmq sockets are not thread
safe, and a test that owns every socket in one thread can interleave a client,
a broker-facing worker and heartbeats deterministically. Every wait is bounded
by a deadline and every receive polls; nothing here sleeps to "let things
settle".

Wire constants are read from include/hearth/hearth_proto.h so the tests and
the C code cannot drift apart: use P.HEARTH_CLIENT_HEADER etc., never
literals.
"""

import os
import random
import re
import signal
import subprocess
import threading
import time
from collections import deque

import msgpack
import zmq

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
PROTO_H = os.path.join(REPO, "include", "hearth", "hearth_proto.h")


# ---------------------------------------------------------------------------
#   Wire constants, parsed from hearth_proto.h

class _Proto:
    """Attribute bag of every #define in hearth_proto.h. Strings become
    bytes (they are frames), numbers ints, simple arithmetic is evaluated."""

    def __init__(self, path):
        define = re.compile(r"^\s*#define\s+(HEARTH_\w+)\s+(.+?)\s*(/\*.*)?$")
        with open(path, encoding="utf-8") as f:
            for line in f:
                m = define.match(line)
                if not m:
                    continue
                name, value = m.group(1), m.group(2).strip()
                if value.startswith('"'):
                    setattr(self, name, value.strip('"').encode())
                elif re.fullmatch(r"[0-9xXa-fA-F()*+ -]+", value):
                    setattr(self, name, int(eval(value, {}, {})))  # noqa: S307 - our own header

    def cmd(self, name):
        """The one-byte frame of command constant `name`."""
        return bytes([getattr(self, name)])


P = _Proto(PROTO_H)


def status_frame(code):
    return b"%03d" % code


# ---------------------------------------------------------------------------
#   Small utilities

def now_ms():
    return time.monotonic() * 1000.0


def wait_until(predicate, timeout=10.0, interval=0.02, what="condition"):
    """Polls predicate until it returns a truthy value; returns that value.
    Raises AssertionError naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError("timed out after %.1f s waiting for %s" % (timeout, what))
        time.sleep(interval)


def pack(obj):
    return msgpack.packb(obj, use_bin_type=True)


def unpack(data):
    if data == b"":
        return {}
    return msgpack.unpackb(data, raw=False, strict_map_key=False)


def seeded_garbage(seed, nframes, maxlen=64):
    """Reproducible random frames: the same seed gives the same bytes."""
    rng = random.Random(seed)
    return [bytes(rng.getrandbits(8) for _ in range(rng.randint(0, maxlen)))
            for _ in range(nframes)]


def binary(env_name):
    path = os.environ.get(env_name)
    if not path:
        raise RuntimeError("%s is not set: run the tests through ctest" % env_name)
    return path


# ---------------------------------------------------------------------------
#   Processes

class Process:
    """A child process whose stderr (and stdout) are collected by a reader
    thread, so a chatty child can never block on a full pipe. stop() sends
    SIGTERM, waits a bounded time, then SIGKILLs; it only ever signals its
    own PID."""

    def __init__(self, argv, name=None, env=None):
        self.argv = [str(a) for a in argv]
        self.name = name or os.path.basename(self.argv[0])
        self.lines = []
        self._cond = threading.Condition()
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     env=env, start_new_session=True)
        self.pid = self.proc.pid
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for raw in self.proc.stdout:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            with self._cond:
                self.lines.append(line)
                self._cond.notify_all()

    def wait_line(self, pattern, timeout=10.0, start=0):
        """Returns the regex match of the first output line (from index start)
        matching pattern; raises after timeout."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self._cond:
            index = start
            while True:
                while index < len(self.lines):
                    m = rx.search(self.lines[index])
                    if m:
                        return m
                    index += 1
                remaining = deadline - time.monotonic()
                if remaining <= 0 or (self.proc.poll() is not None and not self._reader.is_alive()):
                    raise AssertionError("%s: no line matching %r within %.1f s (exit %r); output:\n%s"
                                         % (self.name, pattern, timeout, self.proc.poll(), self.output()))
                self._cond.wait(min(remaining, 0.1))

    def output(self, last=80):
        with self._cond:
            return "\n".join(self.lines[-last:])

    def alive(self):
        return self.proc.poll() is None

    def signal(self, sig):
        if self.alive():
            os.kill(self.pid, sig)

    def wait(self, timeout):
        """Exit code, or None if still running after timeout seconds."""
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self, timeout=10.0):
        """SIGTERM, bounded wait, then SIGKILL. Returns the exit code (negative
        for a signal, as subprocess reports it)."""
        if self.alive():
            os.kill(self.pid, signal.SIGTERM)
            if self.wait(timeout) is None:
                os.kill(self.pid, signal.SIGKILL)
                self.wait(10)
        self._reader.join(5)
        return self.proc.returncode

    def kill(self):
        if self.alive():
            os.kill(self.pid, signal.SIGKILL)
        self.wait(10)
        self._reader.join(5)
        return self.proc.returncode


class Broker(Process):
    """A real hearth-broker. With no endpoint it binds tcp://127.0.0.1:* and
    reads the chosen port from its `listening on` log line."""

    LISTEN_RX = r"listening on (tcp://127\.0\.0\.1:\d+)"

    def __init__(self, *options, endpoint="tcp://127.0.0.1:*", **kw):
        self.options = [str(o) for o in options]
        argv = [binary("HEARTH_BROKER_BIN"), "--bind", endpoint] + self.options
        super().__init__(argv, name="hearth-broker")
        try:
            self.endpoint = self.wait_line(self.LISTEN_RX, timeout=15).group(1)
        except BaseException:
            self.kill()             # never leave a half-started broker behind
            raise
        self.port = int(self.endpoint.rsplit(":", 1)[1])

    def option(self, name, default):
        """The value passed for --name, or default."""
        if name in self.options:
            return int(self.options[self.options.index(name) + 1])
        return default


def start_broker(*options, endpoint="tcp://127.0.0.1:*", ctx=None, ready_timeout=10.0):
    """Starts a broker and waits until it answers a native hearth.ping."""
    broker = Broker(*options, endpoint=endpoint)
    try:
        wait_ready(broker.endpoint, ctx=ctx, timeout=ready_timeout)
    except Exception:
        broker.kill()
        raise
    return broker


def wait_ready(endpoint, ctx=None, timeout=10.0):
    """Polls with native hearth.ping requests (one fresh id each try) until
    the broker answers 200."""
    own = ctx is None
    ctx = ctx or zmq.Context()
    client = NativeClient(ctx, endpoint)
    try:
        deadline = time.monotonic() + timeout
        attempt = 0
        while time.monotonic() < deadline:
            attempt += 1
            rid = b"ready-%d" % attempt
            client.request(P.HEARTH_SVC_PING, b"ready", rid=rid)
            reply = client.recv(timeout=0.25, rid=rid)
            if reply is not None and reply.status == P.HEARTH_STATUS_OK:
                return
        raise AssertionError("broker at %s did not answer hearth.ping within %.1f s" % (endpoint, timeout))
    finally:
        client.close()
        if own:
            ctx.term()


# ---------------------------------------------------------------------------
#   Raw peers. Each is one socket plus an inbox; Mesh.pump() moves arrived
#   messages into inboxes and sends due heartbeats for every peer it owns, so
#   a worker stays alive while the test waits on a client and vice versa.

class Peer:
    heartbeat_ms = None       # workers: send a HEARTBEAT this often when live

    def __init__(self, ctx, endpoint, kind=zmq.DEALER, identity=None):
        self.sock = ctx.socket(kind)
        self.sock.setsockopt(zmq.LINGER, 0)
        self.sock.setsockopt(zmq.RCVTIMEO, 1000)
        self.sock.setsockopt(zmq.SNDTIMEO, 1000)
        if identity is not None:
            self.sock.setsockopt(zmq.IDENTITY, identity)
        self.sock.connect(endpoint)
        self.endpoint = endpoint
        self.inbox = deque()
        self.closed = False
        self.mesh = None
        self._next_hb = 0.0

    def send(self, frames):
        self.sock.send_multipart([bytes(f) for f in frames])

    def drain(self):
        """Moves every message already arrived into the inbox."""
        while not self.closed:
            try:
                frames = self.sock.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                return
            except zmq.ZMQError as e:
                if e.errno == zmq.EFSM:     # a REQ that has nothing to receive
                    return
                raise
            self.on_message(frames)

    def on_message(self, frames):
        self.inbox.append(frames)

    def tick(self):
        """Sends a heartbeat if one is due; workers override heartbeat()."""
        if self.closed or not self.heartbeat_ms:
            return
        t = time.monotonic()
        if t >= self._next_hb:
            self._next_hb = t + self.heartbeat_ms / 1000.0
            self.heartbeat()

    def heartbeat(self):
        pass

    def recv_raw(self, timeout=5.0, match=None):
        """The first inbox message for which match(frames) is true (any if
        match is None), removed from the inbox; None after timeout."""
        deadline = time.monotonic() + timeout
        while True:
            for i, frames in enumerate(self.inbox):
                if match is None or match(frames):
                    del self.inbox[i]
                    return frames
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            self._pump(min(remaining, 0.02))

    def _pump(self, timeout):
        if self.mesh is not None:
            self.mesh.pump(timeout)
        else:
            if self.sock.poll(int(timeout * 1000) + 1):
                self.drain()
            self.tick()

    def close(self):
        if not self.closed:
            self.closed = True
            self.sock.close(linger=0)


class NativeReply:
    def __init__(self, frames):
        self.frames = frames
        self.rid = frames[3]
        self.status_raw = frames[4]
        self.status = int(frames[4]) if frames[4].isdigit() else None
        self.meta_raw = frames[5]
        self.meta = unpack(frames[5])
        self.body = frames[6]

    @property
    def error(self):
        return self.meta.get(P.HEARTH_META_ERROR.decode())

    def __repr__(self):
        return "<REPLY rid=%r status=%r meta=%r body=%r>" % (self.rid, self.status_raw,
                                                            self.meta, self.body[:200])


class NativeClient(Peer):
    """HMP/1 client on a DEALER: REQUEST "" HEARTHC1 0x01 id service meta body."""

    def __init__(self, ctx, endpoint, **kw):
        super().__init__(ctx, endpoint, **kw)
        self._seq = 0

    def next_rid(self):
        self._seq += 1
        return b"r%d" % self._seq

    def request(self, service, body=b"", meta=None, rid=None):
        """Sends a REQUEST; meta is a dict (packed), raw bytes, or None (empty
        frame). Returns the request id."""
        rid = self.next_rid() if rid is None else rid
        if isinstance(service, str):
            service = service.encode()
        if isinstance(meta, dict):
            meta = pack(meta)
        self.send([b"", P.HEARTH_CLIENT_HEADER, P.cmd("HEARTH_CLIENT_REQUEST"), rid, service,
                   meta or b"", body])
        return rid

    @staticmethod
    def is_reply(frames):
        return (len(frames) == P.HEARTH_CLIENT_REPLY_FRAMES and frames[0] == b""
                and frames[1] == P.HEARTH_CLIENT_HEADER
                and frames[2] == P.cmd("HEARTH_CLIENT_REPLY"))

    def recv(self, timeout=5.0, rid=None):
        """The next well-formed REPLY (for rid if given) as a NativeReply, or
        None after timeout. Anything else that arrives stays in the inbox."""
        frames = self.recv_raw(timeout, lambda f: self.is_reply(f) and (rid is None or f[3] == rid))
        return NativeReply(frames) if frames is not None else None

    def call(self, service, body=b"", meta=None, timeout=5.0):
        rid = self.request(service, body, meta)
        return self.recv(timeout, rid)


class NativeJob:
    def __init__(self, frames):
        self.frames = frames
        self.job_id = frames[3]
        self.meta = unpack(frames[4])
        self.body = frames[5]

    def __repr__(self):
        return "<JOB %r meta=%r body=%r>" % (self.job_id, self.meta, self.body[:200])


class NativeWorker(Peer):
    """HMP/1 worker on a DEALER. ready() sends READY and, by default, waits
    for REGISTERED. While live it heartbeats every heartbeat_ms/2 from pump()
    and records the broker's HEARTBEATs (times in hb_received) without
    putting them in the inbox."""

    def __init__(self, ctx, endpoint, **kw):
        super().__init__(ctx, endpoint, **kw)
        self.hb_received = []
        self.settings = None
        self.silent = False

    def frames_of(self, command, *rest):
        return [b"", P.HEARTH_WORKER_HEADER, P.cmd(command)] + list(rest)

    def ready(self, service, descriptor=None, wait=True, timeout=5.0):
        """READY; descriptor dict (packed), raw bytes, or None for an empty map.
        Returns (status, settings dict) of the REGISTERED, or None."""
        if isinstance(service, str):
            service = service.encode()
        if isinstance(descriptor, dict):
            descriptor = pack(descriptor)
        self.send(self.frames_of("HEARTH_WORKER_READY", service, descriptor or b""))
        if not wait:
            return None
        frames = self.recv_raw(timeout, lambda f: self.is_command(f, "HEARTH_WORKER_REGISTERED"))
        if frames is None:
            return None
        status = int(frames[3]) if frames[3].isdigit() else frames[3]
        settings = unpack(frames[4]) if len(frames) > 4 else {}
        if status == P.HEARTH_STATUS_OK:
            self.settings = settings
            self.heartbeat_ms = max(10, settings.get(P.HEARTH_SET_HEARTBEAT.decode(), 1000) // 2)
        return status, settings

    @staticmethod
    def is_command(frames, command):
        return (len(frames) >= 3 and frames[0] == b"" and frames[1] == P.HEARTH_WORKER_HEADER
                and frames[2] == P.cmd(command))

    def on_message(self, frames):
        if self.is_command(frames, "HEARTH_WORKER_HEARTBEAT"):
            self.hb_received.append(time.monotonic())
        else:
            self.inbox.append(frames)

    def heartbeat(self):
        if not self.silent:
            self.send(self.frames_of("HEARTH_WORKER_HEARTBEAT"))

    def recv_job(self, timeout=5.0):
        frames = self.recv_raw(timeout, lambda f: self.is_command(f, "HEARTH_WORKER_REQUEST"))
        return NativeJob(frames) if frames is not None else None

    def recv_disconnect(self, timeout=5.0):
        return self.recv_raw(timeout, lambda f: self.is_command(f, "HEARTH_WORKER_DISCONNECT"))

    def reply(self, job, status=200, body=b"", meta=None):
        job_id = job.job_id if isinstance(job, NativeJob) else job
        if isinstance(meta, dict):
            meta = pack(meta)
        self.send(self.frames_of("HEARTH_WORKER_REPLY", job_id, status_frame(status),
                                 meta or b"", body))


class MdpClient(Peer):
    """MDP/0.1 client, on a REQ (the socket adds the delimiter) or a DEALER
    (we add it)."""

    def __init__(self, ctx, endpoint, kind=zmq.DEALER, **kw):
        super().__init__(ctx, endpoint, kind=kind, **kw)
        self.kind = kind

    def request(self, service, *body):
        if isinstance(service, str):
            service = service.encode()
        frames = [P.HEARTH_MDPC_HEADER, service] + list(body)
        self.send(frames if self.kind == zmq.REQ else [b""] + frames)

    def recv(self, timeout=5.0):
        """[service, body frames...] of the next MDP REPLY, or None."""
        if self.kind == zmq.REQ:
            frames = self.recv_raw(timeout)
            if frames is None:
                return None
            assert frames[0] == P.HEARTH_MDPC_HEADER, frames
            return frames[1:]
        frames = self.recv_raw(timeout)
        if frames is None:
            return None
        assert frames[0] == b"" and frames[1] == P.HEARTH_MDPC_HEADER, frames
        return frames[2:]


class MdpJob:
    def __init__(self, frames):
        self.frames = frames
        self.address = frames[3]
        self.empty = frames[4]
        self.body = frames[5:]

    def __repr__(self):
        return "<MDPJOB %r body=%r>" % (self.address, self.body)


class MdpWorker(Peer):
    """MDP/0.1 worker on a DEALER. RFC 7 has no answer to READY, so ready()
    does not wait. It heartbeats every heartbeat_ms (the test sets it to
    half the broker's interval) when not silent."""

    def __init__(self, ctx, endpoint, heartbeat_ms=250, **kw):
        super().__init__(ctx, endpoint, **kw)
        self.hb_received = []
        self.silent = False
        self.hb_period = heartbeat_ms

    def frames_of(self, command, *rest):
        return [b"", P.HEARTH_MDPW_HEADER, P.cmd(command)] + list(rest)

    def ready(self, service):
        if isinstance(service, str):
            service = service.encode()
        self.send(self.frames_of("HEARTH_MDPW_READY", service))
        self.heartbeat_ms = self.hb_period

    @staticmethod
    def is_command(frames, command):
        return (len(frames) >= 3 and frames[0] == b"" and frames[1] == P.HEARTH_MDPW_HEADER
                and frames[2] == P.cmd(command))

    def on_message(self, frames):
        if self.is_command(frames, "HEARTH_MDPW_HEARTBEAT"):
            self.hb_received.append(time.monotonic())
        else:
            self.inbox.append(frames)

    def heartbeat(self):
        if not self.silent:
            self.send(self.frames_of("HEARTH_MDPW_HEARTBEAT"))

    def recv_job(self, timeout=5.0):
        frames = self.recv_raw(timeout, lambda f: self.is_command(f, "HEARTH_MDPW_REQUEST"))
        return MdpJob(frames) if frames is not None else None

    def recv_disconnect(self, timeout=5.0):
        return self.recv_raw(timeout, lambda f: self.is_command(f, "HEARTH_MDPW_DISCONNECT"))

    def reply(self, job, *body):
        address = job.address if isinstance(job, MdpJob) else job
        self.send(self.frames_of("HEARTH_MDPW_REPLY", address, b"", *body))


class Mesh:
    """Owns a context and every raw peer of one test: pump() serves them all,
    close() closes them all. Peers are created through it."""

    def __init__(self, endpoint):
        self.ctx = zmq.Context()
        self.endpoint = endpoint
        self.peers = []

    def _add(self, peer):
        peer.mesh = self
        self.peers.append(peer)
        return peer

    def native_client(self, endpoint=None, **kw):
        return self._add(NativeClient(self.ctx, endpoint or self.endpoint, **kw))

    def native_worker(self, service=None, descriptor=None, endpoint=None, **kw):
        """A native worker; with a service it registers and asserts 200."""
        w = self._add(NativeWorker(self.ctx, endpoint or self.endpoint, **kw))
        if service is not None:
            answer = w.ready(service, descriptor)
            assert answer is not None and answer[0] == P.HEARTH_STATUS_OK, \
                "READY %r was answered %r" % (service, answer)
        return w

    def mdp_client(self, kind=zmq.DEALER, endpoint=None, **kw):
        return self._add(MdpClient(self.ctx, endpoint or self.endpoint, kind=kind, **kw))

    def mdp_worker(self, service=None, heartbeat_ms=250, endpoint=None, **kw):
        w = self._add(MdpWorker(self.ctx, endpoint or self.endpoint, heartbeat_ms=heartbeat_ms, **kw))
        if service is not None:
            w.ready(service)
        return w

    def raw(self, kind=zmq.DEALER, endpoint=None, **kw):
        return self._add(Peer(self.ctx, endpoint or self.endpoint, kind=kind, **kw))

    def pump(self, timeout=0.02):
        live = [p for p in self.peers if not p.closed]
        poller = zmq.Poller()
        for p in live:
            poller.register(p.sock, zmq.POLLIN)
        if live:
            poller.poll(max(1, int(timeout * 1000)))
        else:
            time.sleep(timeout)
        for p in live:
            p.drain()
            p.tick()

    def idle(self, seconds):
        """Serves every peer for `seconds`: used only for negative checks
        ("nothing arrives within X"), never to wait for something to happen."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.pump(min(0.02, max(0.001, deadline - time.monotonic())))

    def wait_mmi(self, service, expected, timeout=10.0):
        """Polls mmi.service (native) until its body is `expected`."""
        client = self.native_client()
        try:
            last = None
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                reply = client.call(P.HEARTH_MMI_SERVICE, service.encode() if isinstance(service, str)
                                    else service, timeout=1.0)
                last = reply
                if reply is not None and reply.body == expected:
                    return reply
                self.idle(0.02)
            raise AssertionError("mmi.service %r: wanted %r, last %r" % (service, expected, last))
        finally:
            client.close()

    def close(self):
        for p in self.peers:
            p.close()
        self.ctx.term()


# ---------------------------------------------------------------------------
#   The real CLI and expert

def run_cli(endpoint, *args, timeout_s=30, input_data=None):
    """Runs `hearth -b endpoint ARGS`; returns CompletedProcess (text)."""
    argv = [binary("HEARTH_CLI_BIN"), "-b", endpoint] + [str(a) for a in args]
    return subprocess.run(argv, input=input_data, capture_output=True, text=True, timeout=timeout_s)


def start_expert(endpoint, *options):
    return Process([binary("HEARTH_EXPERT_BIN"), "-b", endpoint] + [str(o) for o in options],
                   name="hearth-expert-sentiment")


# ---------------------------------------------------------------------------
#   Process trees (for `hearth up`, which must leave no child behind)

def children_of(pid):
    """PIDs whose parent is pid, from /proc (zombies left out)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                stat = f.read()
        except OSError:
            continue
        # The command may hold spaces or parentheses: fields follow the last ')'.
        fields = stat[stat.rindex(")") + 2:].split()
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(entry))
    return found


def gone(pid):
    """True once pid has exited (or is a zombie)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            stat = f.read()
    except OSError:
        return True
    return stat[stat.rindex(")") + 2:].split()[0] == "Z"


class HearthUp:
    """A running `hearth up ARGS`; the `ups` fixture kills it by PID at
    teardown if a test left it running."""

    def __init__(self, args, cli=None, env=None):
        argv = [cli or binary("HEARTH_CLI_BIN"), "up"] + [str(a) for a in args]
        self.proc = Process(argv, name="hearth up", env=env)

    def wait_ready(self, timeout=60.0):
        self.proc.wait_line(r"^ready$", timeout=timeout)
        m = self.proc.wait_line(r"broker at (\S+) \(pid (\d+)\)", timeout=1.0)
        self.endpoint, self.broker_pid = m.group(1), int(m.group(2))
        return self

    def stop(self):
        return self.proc.stop(timeout=30.0)

    def stop_cleanly(self):
        """SIGTERM: exit 0, and every child it had is gone."""
        kids = children_of(self.proc.pid)
        assert self.stop() == 0, self.proc.output()
        wait_until(lambda: all(gone(p) for p in kids), timeout=10.0, what="children gone")
