"""Client: calls services through a Hearth broker (HMP/1, PROTOCOL.md s. 3).

Threading model: the DEALER socket is only ever touched under `_io_lock`
(a mutex is the full memory barrier ZeroMQ asks for when a socket changes
threads). Callers send on it directly, so a call costs no hand-off to
another thread. One I/O thread waits on the socket's file descriptor
(ZMQ_FD, without the lock), then takes the lock and reads the replies,
resolving each call by its request id; it also watches the connection
(a socket monitor) and the local deadlines. ZMQ_FD is edge-triggered and
a send may consume its notification, so whoever sends also reads what has
arrived before releasing the lock. A call is removed from `_pending`
exactly once, by whoever pops it first (its reply, its deadline, a lost
connection, close); dict pops are atomic under the GIL. No per-call
sockets or threads.

A synchronous caller that is the only one waiting, with no futures
pending, reads the socket itself (the "reader"): its reply then costs no
wake-up of the I/O thread and no hand-off back, the latency of a plain
loop of calls. Meanwhile the I/O thread leaves the DEALER's fd alone; the
reader wakes it when it leaves with calls still pending.

Sockets come from the library's one context (_context.py), shared with
every other Client and Worker of the process; close() closes this
client's sockets and nothing else.

What a call returns is the caller's choice, never the reply's: the body
is decoded as the request was encoded (a JSON document in, the JSON value
out; bytes in, bytes out) unless `raw` says otherwise, and a reply that
should be JSON and is not raises BadReply. The wire says nothing about a
body's type (PROTOCOL.md s. 2: a body is opaque bytes), so only the
caller can know.
"""

import heapq
import itertools
import json
import os
import select
import struct
import threading
import time
from concurrent.futures import Future
from typing import (Any, Callable, Dict, Iterable, List, Literal, Optional,
                    Sequence, Tuple, Union, cast, overload)

import msgpack
import zmq

from . import _context
from . import protocol as P
from .errors import (BadReply, BadRequest, BrokerLost, BrokerUnreachable,
                     HearthError, Meta, ProtocolError, Timeout, error_for,
                     is_success)

#   What a request's body may be given as: bytes as they are, or any JSON
#   value (None, bool, int, float, str, list, dict), sent as JSON text.
BytesLike = Union[bytes, bytearray, memoryview]
Doc = Any
#   A route stage: a service name, or a parallel group of names.
Stage = Union[str, Sequence[str]]

#   How long past its timeout a call waits for the broker's own 504 before
#   giving up locally: the broker's answer (with its metadata) is better.
LOCAL_GRACE = 0.5
CONNECT_TIMEOUT = 2.0
#   The I/O thread wakes at least this often to check local deadlines and,
#   while disconnected, calls that waited longer than the connect timeout.
_TICK = 0.05
_DRAIN_MAX = 1000                  # replies read per lock hold
_ROUTE_FORBIDDEN = frozenset(",[] ")


def _default_broker() -> str:
    return os.environ.get("HEARTH_BROKER") or P.HEARTH_DEFAULT_ENDPOINT


def encode_doc(doc: Doc) -> bytes:
    """The body for doc: bytes as they are, anything else as compact UTF-8
    JSON (which never contains a newline, so line-framed experts take it)."""
    if isinstance(doc, (bytes, bytearray, memoryview)):
        return bytes(doc)
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode()


def is_bytes(doc: Doc) -> bool:
    """True when doc is sent as it is, so its reply is bytes by default."""
    return isinstance(doc, (bytes, bytearray, memoryview))


def decode_body(body: bytes, raw: bool, status: int = P.HEARTH_STATUS_OK,
                meta: Optional[Meta] = None) -> Any:
    """The document in a reply body: the bytes themselves when raw, else
    the JSON value; a body that is not JSON (nor UTF-8) raises BadReply,
    which keeps the status, metadata and bytes of the reply."""
    if raw:
        return body
    try:
        return json.loads(body)
    except ValueError as exc:       # UnicodeDecodeError is one too
        meta = meta if meta is not None else {}
        service = meta.get(P.HEARTH_META_SERVICE)
        raise BadReply("reply%s is not JSON (%s): %r"
                       % (" of %s" % service if isinstance(service, str) else "",
                          exc, body[:40]),
                       status=status, meta=meta, body=body) from None


def unpack_meta(frame: bytes) -> Meta:
    """The metadata map in a frame (empty frame: empty map). Anything that is
    not a map is reported as {} rather than failing the reply."""
    if not frame:
        return {}
    try:
        #   A peer's bad UTF-8 costs a few U+FFFD, not the whole error text.
        meta = msgpack.unpackb(frame, raw=False, strict_map_key=False,
                               unicode_errors="replace")
    except Exception:  # noqa: BLE001 - a broken peer must not kill the caller
        return {}
    return meta if isinstance(meta, dict) else {}


def route_expression(stages: Union[str, Iterable[Stage]]) -> str:
    """The route expression of a list of stages (issue 3, item 3): a stage is
    a service name, or a list/tuple of names run as a parallel group.
    ["a", ["b", "c"], "d"] -> "a,[b,c],d". Raises ValueError on a bad name."""
    if isinstance(stages, str):
        stages = [stages]
    parts: List[str] = []
    for stage in stages:
        if isinstance(stage, (list, tuple)):
            if not stage:
                raise ValueError("empty parallel group in route")
            parts.append(P.ROUTE_GROUP_OPEN
                         + P.ROUTE_SEPARATOR.join(_route_name(n) for n in stage)
                         + P.ROUTE_GROUP_CLOSE)
        else:
            parts.append(_route_name(stage))
    if not parts:
        raise ValueError("empty route")
    return P.ROUTE_SEPARATOR.join(parts)


def _route_name(name: Any) -> str:
    if not isinstance(name, str) or not name or _ROUTE_FORBIDDEN & set(name):
        raise ValueError("bad service name in route: %r" % (name,))
    return name


class Reply:
    """A successful (2xx) reply: .status, .meta (dict), .body (bytes), .raw
    (whether the caller asked for bytes) and .doc: the body as the caller
    asked for it: bytes when raw, else the JSON value (BadReply if the
    body is not JSON)."""

    __slots__ = ("status", "meta", "body", "raw")

    def __init__(self, status: int, meta: Meta, body: bytes, raw: bool) -> None:
        self.status = status
        self.meta = meta
        self.body = body
        self.raw = raw

    @property
    def doc(self) -> Any:
        return decode_body(self.body, self.raw, self.status, self.meta)

    def __repr__(self) -> str:
        return "Reply(status=%d, meta=%r, body=%r)" % (self.status, self.meta,
                                                        self.body[:80])


class _Call:
    """One request in flight. Exactly one of `waiter` (a locked lock that a
    synchronous caller blocks on) and `future` is set."""

    __slots__ = ("rid", "start", "timeout", "deadline", "raw", "waiter",
                 "future", "sent", "outcome")

    def __init__(self, rid: bytes, timeout: float, raw: bool) -> None:
        self.rid = rid
        self.start = time.monotonic()
        self.timeout = timeout
        self.deadline = self.start + timeout + LOCAL_GRACE
        self.raw = raw
        self.waiter: Optional[threading.Lock] = None
        self.future: Optional["Future[Any]"] = None
        self.sent = False          # forwarded to the DEALER by the I/O thread
        #   Reply or HearthError, set before waking.
        self.outcome: Union[Reply, HearthError, None] = None

    def finish(self, outcome: Union[Reply, HearthError]) -> None:
        """Delivers the outcome; called once, by whoever popped the call."""
        if self.future is None:
            assert self.waiter is not None
            self.outcome = outcome
            self.waiter.release()
            return
        if self.future.set_running_or_notify_cancel():
            if isinstance(outcome, HearthError):
                self.future.set_exception(outcome)
                return
            try:
                doc = outcome.doc
            except BadReply as exc:
                self.future.set_exception(exc)
                return
            self.future.set_result(doc)


class Client:
    """A thread-safe Hearth client. Several threads may call one Client at
    once; many requests may be in flight (submit, call_many).

    broker: endpoint (default $HEARTH_BROKER, else tcp://127.0.0.1:5555).
    name: sent as `client` in every request's metadata.
    timeout: default per-call timeout in seconds (also the broker deadline).
    connect_timeout: how long a call waits for a connection to the broker
    before failing with BrokerUnreachable.

    Every call takes `raw` (keyword): None (the default) decodes the reply
    as the request was encoded: a JSON document in, the JSON value out;
    bytes in, bytes out. True returns the reply's bytes whatever was sent;
    False parses JSON whatever was sent. A reply that should be JSON and is
    not raises BadReply. A Client does not survive fork: make a new one in
    the child.
    """

    def __init__(self, broker: Optional[str] = None, name: Optional[str] = None,
                 timeout: float = 30.0, connect_timeout: float = CONNECT_TIMEOUT) -> None:
        self.broker = broker or _default_broker()
        self.name = name
        self.timeout = float(timeout)
        self.connect_timeout = float(connect_timeout)
        self._pid = os.getpid()
        self._pending: Dict[bytes, _Call] = {}
        self._ids = itertools.count(1)
        self._meta_cache: Dict[Tuple[float, bool], bytes] = {}
        self._closed = False
        self._io_lock = threading.Lock()
        #   (deadline, rid) of futures, lazily cleaned.
        self._heap: List[Tuple[float, bytes]] = []
        self._sync_waiters = 0     # request() calls waiting (under _io_lock)
        self._reader: Optional[int] = None     # the waiting caller reading the socket
        self._connected = False
        self._down_since = time.monotonic()
        self._open_sockets()
        self._thread = threading.Thread(target=self._io_main,
                                        name="hearth-client-io", daemon=True)
        self._thread.start()

    def _open_sockets(self) -> None:
        #   A pipe wakes the I/O thread for close(): it never waits on a lock.
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_w, False)
        self._dealer = _context.socket(zmq.DEALER)
        try:
            self._dealer.linger = 0
            self._dealer.sndhwm = 100000
            self._dealer.rcvhwm = 100000
            #   The monitor is attached before connecting so no event is missed.
            self._monitor = _context.monitor(self._dealer,
                                             zmq.EVENT_CONNECTED | zmq.EVENT_DISCONNECTED)
        except BaseException:
            self._close_fds()
            _context.close(self._dealer)
            raise
        try:
            self._dealer.connect(self.broker)
        except zmq.ZMQError as exc:
            self._close_sockets()
            self._close_fds()
            raise ValueError("bad broker endpoint %r: %s" % (self.broker, exc)) from None
        self._dealer_fd = cast(int, self._dealer.getsockopt(zmq.FD))

    def _close_sockets(self) -> None:
        _context.close_monitor(self._dealer, self._monitor)
        _context.close(self._dealer)

    def _close_fds(self) -> None:
        os.close(self._wake_r)
        os.close(self._wake_w)

    # ------------------------------------------------------------ public API

    def request(self, service: Union[str, bytes], doc: Doc, timeout: Optional[float] = None,
                idempotent: bool = False, meta: Optional[Meta] = None, *,
                raw: Optional[bool] = None) -> Reply:
        """Sends doc to service and waits for the reply. Returns a Reply on
        success (2xx), whose .doc follows `raw` (see the class); raises the
        typed HearthError otherwise. meta: extra request metadata keys."""
        call = self._new_call(timeout, doc, raw)
        waiter = call.waiter = threading.Lock()
        waiter.acquire()
        with self._io_lock:
            self._sync_waiters += 1
        try:
            self._send(call, service, doc, idempotent, meta)
            answered = self._await(call)
        finally:
            self._leave_wait()
        #   The local deadline: the caller's own wait, so it fires even if the
        #   I/O thread were stuck.
        if not answered:
            if self._pending.pop(call.rid, None) is not None:
                raise self._local_timeout(call)
            waiter.acquire()            # popped by someone just now: outcome coming
        outcome = call.outcome
        if isinstance(outcome, HearthError):
            raise outcome
        assert outcome is not None
        return outcome

    @overload
    def call(self, service: Union[str, bytes], doc: BytesLike,
             timeout: Optional[float] = ..., idempotent: bool = ..., *,
             raw: Optional[Literal[True]] = ...) -> bytes: ...

    @overload
    def call(self, service: Union[str, bytes], doc: Doc,
             timeout: Optional[float] = ..., idempotent: bool = ..., *,
             raw: Literal[True]) -> bytes: ...

    @overload
    def call(self, service: Union[str, bytes], doc: Doc,
             timeout: Optional[float] = ..., idempotent: bool = ..., *,
             raw: Optional[bool] = ...) -> Any: ...

    def call(self, service: Union[str, bytes], doc: Doc, timeout: Optional[float] = None,
             idempotent: bool = False, *, raw: Optional[bool] = None) -> Any:
        """Sends doc (a JSON-serialisable value, or bytes) to service and
        returns the reply document: by default the JSON value if doc was a
        JSON value (BadReply if the reply is not JSON), the reply's bytes if
        doc was bytes; raw=True always bytes, raw=False always JSON.
        Raises the typed HearthError on failure."""
        return self.request(service, doc, timeout, idempotent, raw=raw).doc

    def submit(self, service: Union[str, bytes], doc: Doc, timeout: Optional[float] = None,
               idempotent: bool = False, *, raw: Optional[bool] = None) -> "Future[Any]":
        """Sends without waiting; returns a concurrent.futures.Future that
        resolves to the reply document (as call returns it) or to the
        typed HearthError."""
        call = self._new_call(timeout, doc, raw)
        future: "Future[Any]" = Future()
        call.future = future
        self._send(call, service, doc, idempotent, None)
        return future

    def call_many(self, service: Union[str, bytes], docs: Iterable[Doc],
                  timeout: Optional[float] = None, window: int = 100,
                  idempotent: bool = False, return_exceptions: bool = True, *,
                  raw: Optional[bool] = None) -> List[Any]:
        """Calls service once per document with up to `window` requests in
        flight. Returns the reply documents (as call returns them) in input
        order. A failed document yields its HearthError in its place
        (return_exceptions=True, the default) or, with
        return_exceptions=False, the first failure in input order is raised
        once every call has ended."""
        if window < 1:
            raise ValueError("window must be >= 1")
        slots = threading.BoundedSemaphore(window)
        futures: List["Future[Any]"] = []
        for doc in docs:
            slots.acquire()
            try:
                future = self.submit(service, doc, timeout, idempotent, raw=raw)
            except BaseException:
                slots.release()
                raise
            future.add_done_callback(lambda _f: slots.release())
            futures.append(future)
        results: List[Any] = []
        for future in futures:
            error = future.exception()
            if error is not None and not return_exceptions:
                for rest in futures:
                    rest.exception()
                raise error
            results.append(error if error is not None else future.result())
        return results

    def pipeline(self, stages: Union[str, Iterable[Stage]], doc: Doc,
                 timeout: Optional[float] = None, idempotent: bool = False,
                 trace: bool = False, *, raw: Optional[bool] = None) -> Any:
        """Sends doc through a route (stages are service names, or lists of
        names for a parallel group) as one request run by the broker, and
        returns the final document (as call returns it); with trace=True,
        (document, trace) where trace is the broker's list of per-stage maps
        {stage, service, worker, version, status, queue_ms, run_ms}. A
        failing stage raises its typed error; its .meta holds `stage` and
        the trace so far."""
        reply = self.request(route_expression(stages), doc, timeout, idempotent, raw=raw)
        if trace:
            return reply.doc, reply.meta.get(P.HEARTH_META_TRACE, [])
        return reply.doc

    def ping(self, timeout: Optional[float] = None) -> float:
        """Round trip to the broker (hearth.ping) in seconds."""
        start = time.monotonic()
        self.request(P.HEARTH_SVC_PING, b"ping", timeout)
        return time.monotonic() - start

    def services(self, name: Optional[str] = None,
                 timeout: Optional[float] = None) -> List[Dict[str, Any]]:
        """The broker's list of services (hearth.services): one dict per
        service with name, workers, mdp_workers, draining, credit,
        in_flight, queued and descriptor. With name, only that one
        (NoSuchService if unknown)."""
        body = name.encode() if name else b""
        reply = self.request(P.HEARTH_SVC_SERVICES, body, timeout)
        services = msgpack.unpackb(reply.body, raw=False, strict_map_key=False)
        if not isinstance(services, list):
            raise HearthError("hearth.services: not a list", meta=reply.meta)
        return services

    @property
    def connected(self) -> bool:
        """True while a connection to the broker is up."""
        return self._connected

    def close(self) -> None:
        """Stops the I/O thread and closes this client's sockets (the
        shared context and every other Client go on); calls still pending
        fail with HearthError. Idempotent."""
        if self._pid != os.getpid():
            #   Inherited through fork: the sockets, thread and lock are the
            #   parent's. Touch none of them; just refuse further calls.
            self._closed = True
            return
        with self._io_lock:
            if self._closed:
                return
            self._closed = True
        os.write(self._wake_w, b"x")
        self._thread.join()
        self._close_fds()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            if not self._closed and self._thread.is_alive():
                self.close()
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass

    # ------------------------------------------------------------ caller side

    def _new_call(self, timeout: Optional[float], doc: Doc, raw: Optional[bool]) -> _Call:
        if timeout is None:
            timeout = self.timeout
        elif timeout <= 0:
            raise ValueError("timeout must be > 0")
        rid = struct.pack("<Q", next(self._ids))
        return _Call(rid, timeout, is_bytes(doc) if raw is None else bool(raw))

    def _meta(self, timeout: float, idempotent: bool, extra: Optional[Meta]) -> bytes:
        """Packed request metadata; cached because most calls share it."""
        key = (timeout, idempotent)
        packed = None if extra else self._meta_cache.get(key)
        if packed is None:
            meta: Meta = {P.HEARTH_META_DEADLINE: max(1, int(timeout * 1000))}
            if idempotent:
                meta[P.HEARTH_META_IDEMPOTENT] = True
            if self.name:
                meta[P.HEARTH_META_CLIENT] = self.name
            if extra:
                meta.update(extra)
            packed = cast(bytes, msgpack.packb(meta, use_bin_type=True))
            if not extra and len(self._meta_cache) < 64:
                self._meta_cache[key] = packed
        return packed

    def _send(self, call: _Call, service: Union[str, bytes], doc: Doc, idempotent: bool,
              extra_meta: Optional[Meta]) -> None:
        if self._pid != os.getpid():
            #   Before the lock: another thread may have held it at fork.
            raise HearthError("this Client was made in another process: "
                              "make a new one after fork")
        if isinstance(service, str):
            service = service.encode()
        if not 0 < len(service) <= P.HEARTH_SERVICE_MAX:
            raise BadRequest("service name must be 1 to %d bytes"
                             % P.HEARTH_SERVICE_MAX)
        frames = [b"", P.HEARTH_CLIENT_HEADER, P.CLIENT_REQUEST_FRAME, call.rid,
                  service, self._meta(call.timeout, bool(idempotent), extra_meta),
                  encode_doc(doc)]
        with self._io_lock:
            if self._closed:
                raise HearthError("client is closed")
            #   Registered before sending, so the reply always finds it.
            self._pending[call.rid] = call
            call.sent = True
            try:
                self._dealer.send_multipart(frames, zmq.NOBLOCK)
            except zmq.ZMQError as exc:
                self._pending.pop(call.rid, None)
                raise HearthError("cannot send: %s" % exc) from None
            if call.future is not None:
                heapq.heappush(self._heap, (call.deadline, call.rid))
            done = self._read_replies()
        self._finish(done)

    def _await(self, call: _Call) -> bool:
        """Waits until call has its outcome (True) or its deadline passed
        (False). Reads the socket itself while it may be the reader."""
        #   poll, not select: no limit on the fd's number.
        readable = select.poll()
        readable.register(self._dealer_fd, select.POLLIN)
        waiter = call.waiter
        assert waiter is not None, "_await is for request()'s calls"
        while True:
            remaining = call.deadline - time.monotonic()
            if remaining <= 0:
                return waiter.acquire(blocking=False)
            with self._io_lock:
                if (self._reader is None and self._sync_waiters == 1
                        and not self._heap and not self._closed):
                    self._reader = threading.get_ident()
                reading = self._reader == threading.get_ident()
                done = self._read_replies() if reading and not self._closed else []
            self._finish(done)
            if not reading or self._closed:
                #   The I/O thread reads (or close() is failing every call);
                #   look again now and then, in case this caller becomes the
                #   only one.
                if waiter.acquire(timeout=min(remaining, _TICK)):
                    return True
                continue
            if waiter.acquire(blocking=False):
                return True
            readable.poll(min(remaining, _TICK) * 1000)

    def _leave_wait(self) -> None:
        """A request() stops waiting: gives up the reader's role and, if
        calls are still pending, wakes the I/O thread to read for them."""
        with self._io_lock:
            self._sync_waiters -= 1
            wake = self._reader == threading.get_ident()
            if wake:
                self._reader = None
            wake = wake and bool(self._pending) and not self._closed
        if wake:
            try:
                os.write(self._wake_w, b"r")
            except OSError:         # full: a wake-up is already pending
                pass

    @staticmethod
    def _local_timeout(call: _Call) -> Timeout:
        return Timeout("no reply within %.3g s" % call.timeout)

    # ------------------------------------------------------------ I/O thread

    def _io_main(self) -> None:
        try:
            self._io_loop()
        finally:
            with self._io_lock:
                self._closed = True
                self._close_sockets()
            self._fail_all(lambda: HearthError("client closed"), lambda call: True)

    def _io_loop(self) -> None:
        #   Only plain file descriptors: a ZeroMQ socket in a poll set costs
        #   libzmq two system calls per round. The monitor's ZMQ_FD is
        #   edge-triggered like the DEALER's, so _read_monitor reads until
        #   EAGAIN, starting with whatever came before the first poll.
        monitor_fd = cast(int, self._monitor.getsockopt(zmq.FD))
        poller = zmq.Poller()           # while a caller reads for itself
        poller.register(monitor_fd, zmq.POLLIN)
        poller.register(self._wake_r, zmq.POLLIN)
        full = zmq.Poller()             # otherwise
        full.register(self._dealer_fd, zmq.POLLIN)
        full.register(monitor_fd, zmq.POLLIN)
        full.register(self._wake_r, zmq.POLLIN)
        self._read_monitor()
        while True:
            timeout = _TICK
            if self._heap:
                timeout = min(timeout, max(0.0, self._heap[0][0] - time.monotonic()))
            reader = self._reader is not None
            #   pyzmq truncates a float timeout to whole ms anyway.
            events = dict((poller if reader else full).poll(int(timeout * 1000)))
            if self._wake_r in events:
                os.read(self._wake_r, 4096)
                if self._closed:
                    return
            with self._io_lock:
                done = [] if self._reader is not None else self._read_replies()
            self._finish(done)
            if monitor_fd in events:
                self._read_monitor()
            self._expire()

    def _read_replies(self) -> List[Tuple[_Call, Union[Reply, HearthError]]]:
        """Reads the replies that have arrived (caller holds _io_lock) and
        takes their calls out of _pending. Returns [(call, outcome)], to be
        finished after the lock is released (a future's callbacks may call
        this client again)."""
        dealer, pending = self._dealer, self._pending
        done: List[Tuple[_Call, Union[Reply, HearthError]]] = []
        for _ in range(_DRAIN_MAX):
            #   Until EAGAIN, which also resets the edge-triggered ZMQ_FD.
            try:
                frames = dealer.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                break
            self._connected = True      # anything that arrives proves it
            if (len(frames) != P.HEARTH_CLIENT_REPLY_FRAMES
                    or frames[1] != P.HEARTH_CLIENT_HEADER
                    or frames[2] != P.CLIENT_REPLY_FRAME):
                continue                # not a reply: nothing to match it to
            call = pending.pop(frames[3], None)
            if call is None:            # late reply to an ended call
                continue
            status = P.parse_status(frames[4])
            meta = unpack_meta(frames[5])
            outcome: Union[Reply, HearthError]
            if status is None:
                outcome = ProtocolError("bad status frame %r" % frames[4][:8], meta=meta)
            elif is_success(status):
                outcome = Reply(status, meta, frames[6], call.raw)
            else:
                outcome = error_for(status, meta, frames[6])
            done.append((call, outcome))
        return done

    @staticmethod
    def _finish(done: List[Tuple[_Call, Union[Reply, HearthError]]]) -> None:
        for call, outcome in done:
            call.finish(outcome)

    def _read_monitor(self) -> None:
        while True:
            try:
                frames = self._monitor.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                return
            if not frames or len(frames[0]) < 2:
                continue
            event = struct.unpack_from("=H", frames[0])[0]
            if event == zmq.EVENT_CONNECTED:
                self._connected = True
            elif event == zmq.EVENT_DISCONNECTED:
                self._connected = False
                self._down_since = time.monotonic()
                #   The broker knew us by a routing id that is now gone: it
                #   can never answer what went out before the drop. Replies
                #   already received are real, so take them first.
                with self._io_lock:
                    done = self._read_replies()
                self._finish(done)
                self._fail_all(lambda: BrokerLost("connection to the broker %s lost"
                                                  % self.broker),
                               lambda call: call.sent)

    def _expire(self) -> None:
        now = time.monotonic()
        pending = self._pending
        expired = []
        with self._io_lock:
            heap = self._heap
            while heap and heap[0][0] <= now:
                _, rid = heapq.heappop(heap)
                call = pending.pop(rid, None)
                if call is not None:
                    expired.append(call)
            #   Entries of answered calls stay until their deadline: rebuild
            #   when they dominate, so memory follows what is in flight.
            if len(heap) > 1024 and len(heap) > 4 * len(pending):
                heap[:] = [(c.deadline, c.rid) for c in list(pending.values())
                           if c.future is not None]
                heapq.heapify(heap)
        for call in expired:
            call.finish(self._local_timeout(call))
        if not self._connected and pending:
            def unreachable(call: _Call) -> bool:
                since = max(call.start, self._down_since)
                return now >= since + min(self.connect_timeout, call.timeout)
            self._fail_all(lambda: BrokerUnreachable("no connection to the broker %s within %.3g s"
                                                     % (self.broker, self.connect_timeout)),
                           unreachable)

    def _fail_all(self, make_error: Callable[[], HearthError],
                  which: Callable[[_Call], bool]) -> None:
        """Fails every pending call for which which(call) is true, each with
        its own exception (one instance must not be raised in two threads)."""
        for rid, call in list(self._pending.items()):
            if which(call) and self._pending.pop(rid, None) is not None:
                call.finish(make_error())
