"""Worker: serves one service through a Hearth broker (HMP/1, PROTOCOL.md s. 4).

Threading model: the thread that calls run() is the I/O thread: it
connects, registers, heartbeats and watches the broker whatever the
handlers do. Handlers run in `concurrency` threads fed by a queue. The
DEALER socket is only touched under `_Io.lock`, and every holder of the
lock that touches it also reads what has arrived (ZMQ_FD is edge-triggered
and a send may consume its notification): so a handler sends its own reply
and queues the next request itself, and the I/O thread, waiting on the
socket's file descriptor, is woken only when nobody else read. Each
connection has a generation number: a job from an earlier connection is
never answered on a later one (the broker has already answered it with 502
or resent it), so a reconnect cannot confuse job ids.

Sockets come from the library's one context (_context.py), shared with
every Client and Worker of the process; a Worker closes its own socket
and nothing else.
"""

import json
import logging
import os
import queue
import signal
import threading
import time
from types import FrameType
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple, Union, cast

import msgpack
import zmq

from . import _context
from . import protocol as P
from .client import _default_broker, encode_doc, unpack_meta
from .errors import HearthError, Meta, Rejected, error_text

#   A handler: the request document (JSON value, or bytes with raw=True)
#   to the reply document (JSON value, or bytes sent as they are).
Handler = Callable[[Any], Any]
#   A request queued for the handlers: (connection generation, job id,
#   metadata frame, body, local deadline or None); None stops a handler.
_Job = Tuple[int, bytes, bytes, bytes, Optional[float]]
_SignalHandler = Union[Callable[[int, Optional[FrameType]], Any], int, None]

log = logging.getLogger("hearth.worker")

BACKOFF_MIN = 0.25          # s before the first reconnect
BACKOFF_MAX = 8.0           # s: backoff doubles up to this
STOP_GRACE = 5.0            # s: longest wait for running handlers on stop
_FLUSH_LINGER_MS = 200      # last replies and DISCONNECT get this long to leave
_DRAIN_MAX = 1000           # messages read per socket per poll round
_NAME_FORBIDDEN = frozenset(",[] ")    # they make route expressions


def _as_text(value: Any) -> Optional[str]:
    """Descriptor strings: a dict or list (a schema, an example) as JSON."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return value.decode()
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


class Worker:
    """Serves `service` with handler(doc) -> doc.

    The handler gets the request body decoded from JSON (bytes with
    raw=True) and returns the reply document (encoded as JSON unless it is
    bytes). Raising hearth.BadRequest answers 400 with its message, another
    HearthError answers its status, any other exception answers 500 with the
    exception text in `error`. A body that is not JSON gets 400 without the
    handler being called.

    broker: endpoint (default $HEARTH_BROKER, else tcp://127.0.0.1:5555).
    concurrency: handler threads. credit: requests held at once (default
    concurrency; more lets the next request wait locally). idempotent: the
    broker may resend this service's requests once if the worker dies.
    input_schema, output_schema, example: shown by discovery (a dict is sent
    as JSON text).
    """

    def __init__(self, service: str, handler: Handler, broker: Optional[str] = None,
                 version: str = "", description: str = "", concurrency: int = 1,
                 credit: Optional[int] = None, idempotent: bool = False,
                 input_schema: Any = None, output_schema: Any = None, example: Any = None,
                 raw: bool = False, stop_grace: float = STOP_GRACE) -> None:
        if (not isinstance(service, str) or not 0 < len(service.encode()) <= P.HEARTH_SERVICE_MAX
                or any(c in _NAME_FORBIDDEN or ord(c) < 32 or ord(c) == 127 for c in service)):
            raise ValueError("service name must be 1 to %d bytes without control characters, "
                             "',', '[', ']' or spaces: %r" % (P.HEARTH_SERVICE_MAX, service))
        if concurrency < 1:
            raise ValueError("concurrency must be >= 1")
        credit = concurrency if credit is None else credit
        if not 1 <= credit <= P.HEARTH_CREDIT_MAX:
            raise ValueError("credit must be 1 to %d" % P.HEARTH_CREDIT_MAX)
        self.service = service
        self.handler = handler
        self.broker = broker or _default_broker()
        self.concurrency = concurrency
        self.raw = raw
        self.stop_grace = stop_grace
        descriptor: Dict[str, Any] = {
            P.HEARTH_DESC_SERVICE: service,
            P.HEARTH_DESC_VERSION: version or "",
            P.HEARTH_DESC_DESCRIPTION: description or "",
            P.HEARTH_DESC_CREDIT: credit,
            P.HEARTH_DESC_CONCURRENCY: concurrency,
            P.HEARTH_DESC_IDEMPOTENT: bool(idempotent),
        }
        for key, value in ((P.HEARTH_DESC_INPUT_SCHEMA, input_schema),
                           (P.HEARTH_DESC_OUTPUT_SCHEMA, output_schema),
                           (P.HEARTH_DESC_EXAMPLE, example)):
            if value is not None:
                descriptor[key] = _as_text(value)
        self.descriptor = descriptor
        self._ready_frames: List[bytes] = [
            b"", P.HEARTH_WORKER_HEADER, P.WORKER_READY_FRAME, service.encode(),
            cast(bytes, msgpack.packb(descriptor, use_bin_type=True))]
        self.worker_id: Optional[str] = None       # told by REGISTERED
        self.registered = threading.Event()
        self._stopping = threading.Event()
        self._running = False
        self._io: Optional[_Io] = None             # the running loop's state
        self._generation = 0

    # ------------------------------------------------------------ public API

    def stop(self) -> None:
        """Asks run() to stop: it tells the broker, finishes the requests it
        holds (at most stop_grace seconds), and returns. Safe from any thread
        and from a signal handler (it takes no lock)."""
        self._stopping.set()
        io = self._io
        if io is not None:
            io.wake()

    def run(self) -> None:
        """Serves until stop(), SIGINT or SIGTERM (signals are caught when
        run() is called from the main thread). Raises Rejected if the broker
        refuses the registration."""
        if self._running:
            raise RuntimeError("worker is already running")
        self._running = True
        restore = self._catch_signals()
        try:
            self._serve()
        finally:
            for signum, previous in restore:
                signal.signal(signum, previous)
            self._running = False
            self._stopping.clear()

    # ------------------------------------------------------------ set-up

    def _catch_signals(self) -> List[Tuple[int, _SignalHandler]]:
        if threading.current_thread() is not threading.main_thread():
            return []
        restore: List[Tuple[int, _SignalHandler]] = []
        for signum in (signal.SIGINT, signal.SIGTERM):
            restore.append((signum, signal.getsignal(signum)))
            signal.signal(signum, lambda _s, _f: self.stop())
        return restore

    def _serve(self) -> None:
        jobs: "queue.SimpleQueue[Optional[_Job]]" = queue.SimpleQueue()
        io = _Io(self, jobs)
        threads = [threading.Thread(target=self._handler_main, args=(io, jobs),
                                    name="hearth-handler-%s-%d" % (self.service, i),
                                    daemon=True)
                   for i in range(self.concurrency)]
        for thread in threads:
            thread.start()
        self._io = io
        try:
            if not self._stopping.is_set():
                io.serve()
        finally:
            self._io = None
            io.drain()
            for _ in threads:
                jobs.put(None)
            #   Handlers still inside user code after the grace keep running
            #   as daemon threads; they find no socket and drop their reply.
            io.shutdown()
            self.registered.clear()

    # ------------------------------------------------------------ handlers

    def _handler_main(self, io: "_Io", jobs: "queue.SimpleQueue[Optional[_Job]]") -> None:
        while True:
            job = jobs.get()
            if job is None:
                return
            generation, job_id, meta_frame, body, deadline_at = job
            if generation != self._generation:
                io.job_done(None, None)     # from a dead connection: answered
                continue
            status, meta, reply = self._handle(meta_frame, body, deadline_at)
            io.job_done(generation, [b"", P.HEARTH_WORKER_HEADER, P.WORKER_REPLY_FRAME, job_id,
                                     P.status_frame(status),
                                     cast(bytes, msgpack.packb(meta, use_bin_type=True))
                                     if meta else b"",
                                     reply])

    def _handle(self, meta_frame: bytes, body: bytes,
                deadline_at: Optional[float]) -> Tuple[int, Optional[Meta], bytes]:
        """Runs the handler on one request: (status, reply metadata, body)."""
        if deadline_at is not None and time.monotonic() >= deadline_at:
            return (P.HEARTH_STATUS_TIMEOUT,
                    {P.HEARTH_META_ERROR: "deadline passed before a handler was free"}, b"")
        doc: Any
        if self.raw:
            doc = body
        else:
            try:
                doc = json.loads(body)
            except ValueError as exc:
                return (P.HEARTH_STATUS_BAD_REQUEST,
                        {P.HEARTH_META_ERROR: "request body is not JSON: %s" % exc}, b"")
        try:
            result = self.handler(doc)
            return P.HEARTH_STATUS_OK, None, encode_doc(result)
        except HearthError as exc:
            status = exc.status or P.HEARTH_STATUS_WORKER_ERROR
            return status, {P.HEARTH_META_ERROR: exc.error or type(exc).__name__}, b""
        except Exception as exc:  # noqa: BLE001 - any handler failure is a 500
            log.warning("%s: handler failed", self.service, exc_info=True)
            return (P.HEARTH_STATUS_WORKER_ERROR,
                    {P.HEARTH_META_ERROR: "%s: %s" % (type(exc).__name__, exc)}, b"")


class _Io:
    """The broker connection of one Worker.run(). Everything that touches
    the socket or the counters below holds `lock`."""

    def __init__(self, worker: Worker, jobs: "queue.SimpleQueue[Optional[_Job]]") -> None:
        self.w = worker
        self.jobs = jobs
        self.lock = threading.Lock()
        self.sock: Optional["zmq.Socket[Any]"] = None
        self.fd: Optional[int] = None
        self.wake_r, self.wake_w = os.pipe()
        os.set_blocking(self.wake_r, False)
        os.set_blocking(self.wake_w, False)
        self.backoff = BACKOFF_MIN
        self.reconnect_at = 0.0
        self.heartbeat = P.HEARTH_DEFAULT_HEARTBEAT_MS / 1000.0
        self.liveness = P.HEARTH_DEFAULT_LIVENESS
        self.heartbeat_at = 0.0
        self.expiry = 0.0
        self.outstanding = 0        # jobs queued or running, any generation
        self.rejected: Optional[Rejected] = None

    def wake(self) -> None:
        """Wakes the I/O thread (lock-free: stop() runs in signal handlers)."""
        try:
            os.write(self.wake_w, b"x")
        except OSError:
            pass                    # pipe full: it is awake anyway

    def shutdown(self) -> None:
        #   The socket's last messages (closed with a linger by drain()) leave
        #   in the shared context's I/O thread; at exit _context waits for
        #   them.
        with self.lock:
            self.close(0)
        os.close(self.wake_r)
        os.close(self.wake_w)

    # ------------------------------------------------------------ connection (lock held)

    def connect(self, now: float) -> None:
        w = self.w
        w._generation += 1
        sock = self.sock = _context.socket(zmq.DEALER)
        sock.linger = 0
        sock.sndhwm = 100000
        sock.rcvhwm = 100000
        sock.connect(w.broker)
        self.fd = cast(int, sock.getsockopt(zmq.FD))
        sock.send_multipart(w._ready_frames)
        self.heartbeat_at = now + self.heartbeat
        self.expiry = now + self.heartbeat * self.liveness
        log.debug("%s: connecting to %s", w.service, w.broker)

    def disconnect(self, now: float, why: str) -> None:
        """Drops the connection and schedules a fresh one after backoff."""
        log.warning("%s: %s; reconnecting in %.2f s", self.w.service, why, self.backoff)
        self.close(0)
        self.w.registered.clear()
        self.reconnect_at = now + self.backoff
        self.backoff = min(self.backoff * 2, BACKOFF_MAX)
        self.wake()                 # the I/O thread waits on the old socket

    def close(self, linger: int) -> None:
        if self.sock is not None:
            _context.close(self.sock, linger)
            self.sock = None
            self.fd = None

    def send(self, frames: List[bytes]) -> None:
        assert self.sock is not None, "send needs the connection"
        self.sock.send_multipart(frames, zmq.NOBLOCK)

    def send_command(self, command: bytes) -> None:
        self.send([b"", P.HEARTH_WORKER_HEADER, command])

    def read_broker(self, draining: bool = False) -> None:
        """Reads and handles everything that has arrived. Must follow every
        use of the socket, since ZMQ_FD is edge-triggered."""
        for _ in range(_DRAIN_MAX):
            sock = self.sock
            if sock is None or not cast(int, sock.getsockopt(zmq.EVENTS)) & zmq.POLLIN:
                return
            frames = sock.recv_multipart(zmq.NOBLOCK)
            now = time.monotonic()
            self.expiry = now + self.heartbeat * self.liveness
            if len(frames) < 3 or frames[0] != b"" or frames[1] != P.HEARTH_WORKER_HEADER:
                log.warning("%s: dropped a malformed message from the broker", self.w.service)
                continue
            command = frames[2]
            if command == P.WORKER_REQUEST_FRAME and len(frames) == P.HEARTH_WORKER_REQUEST_FRAMES:
                self.on_request(frames, now)
            elif command == P.WORKER_HEARTBEAT_FRAME:
                pass
            elif command == P.WORKER_DISCONNECT_FRAME:
                if draining:        # the broker has let us go
                    self.close(0)
                    return
                self.backoff = BACKOFF_MIN
                self.disconnect(now, "broker sent DISCONNECT")
            elif (command == P.WORKER_REGISTERED_FRAME and not draining
                  and len(frames) == P.HEARTH_WORKER_REGISTERED_FRAMES):
                self.on_registered(frames, now)
            else:
                log.warning("%s: dropped an unexpected command %r", self.w.service, command[:4])

    def on_request(self, frames: List[bytes], now: float) -> None:
        meta = unpack_meta(frames[4])
        deadline = meta.get(P.HEARTH_META_DEADLINE)
        deadline_at = None
        if isinstance(deadline, int) and not isinstance(deadline, bool) and deadline >= 0:
            deadline_at = now + deadline / 1000.0
        self.outstanding += 1
        self.jobs.put((self.w._generation, frames[3], frames[4], frames[5], deadline_at))

    def on_registered(self, frames: List[bytes], now: float) -> None:
        w = self.w
        status = P.parse_status(frames[3])
        settings = unpack_meta(frames[4])
        if status != P.HEARTH_STATUS_OK:
            status = status or P.HEARTH_STATUS_BAD_REQUEST
            self.rejected = Rejected("registration of %s refused: %s"
                                     % (w.service, error_text(status, settings)),
                                     status=status, meta=settings)
            log.error("%s", self.rejected)
            self.wake()
            return
        heartbeat = settings.get(P.HEARTH_SET_HEARTBEAT)
        liveness = settings.get(P.HEARTH_SET_LIVENESS)
        if isinstance(heartbeat, int) and heartbeat > 0:
            self.heartbeat = heartbeat / 1000.0
        if isinstance(liveness, int) and liveness > 0:
            self.liveness = liveness
        self.heartbeat_at = min(self.heartbeat_at, now + self.heartbeat)
        self.expiry = now + self.heartbeat * self.liveness
        worker_id = settings.get(P.HEARTH_SET_WORKER_ID)
        w.worker_id = worker_id if isinstance(worker_id, str) else None
        self.backoff = BACKOFF_MIN
        w.registered.set()
        log.info("%s: registered with %s as %s (heartbeat %d ms, liveness %d)",
                 w.service, w.broker, w.worker_id, self.heartbeat * 1000, self.liveness)
        self.wake()                 # the heartbeat interval may have shrunk

    # ------------------------------------------------------------ handlers' side

    def job_done(self, generation: Optional[int], frames: Optional[List[bytes]]) -> None:
        """A handler finished a job: sends its REPLY (unless the connection
        it came from is gone) and takes in what has arrived meanwhile, so
        the next request is queued without waking the I/O thread."""
        with self.lock:
            self.outstanding -= 1
            if (self.sock is not None and frames is not None
                    and generation == self.w._generation):
                self.send(frames)
                self.read_broker(draining=self.w._stopping.is_set())
        if self.outstanding == 0 and self.w._stopping.is_set():
            self.wake()

    # ------------------------------------------------------------ I/O thread

    def wait(self, until: float) -> None:
        """Sleeps until the socket or the wake pipe is readable, or until."""
        items: List[Tuple[Any, int]] = [(self.wake_r, zmq.POLLIN)]
        fd = self.fd
        if fd is not None:
            items.append((fd, zmq.POLLIN))
        try:
            zmq.zmq_poll(items, max(0, int((until - time.monotonic()) * 1000)) + 1)
        except zmq.ZMQError:
            pass                    # a handler closed the socket meanwhile: re-check
        try:
            while os.read(self.wake_r, 512):
                pass
        except BlockingIOError:
            pass

    def serve(self) -> None:
        w = self.w
        while not w._stopping.is_set() and self.rejected is None:
            with self.lock:
                now = time.monotonic()
                if self.sock is None and now >= self.reconnect_at:
                    self.connect(now)
                if self.sock is not None:
                    self.read_broker()
                if self.sock is not None:
                    if now >= self.expiry:
                        self.disconnect(now, "broker silent for %.1f s"
                                        % (self.heartbeat * self.liveness))
                    elif now >= self.heartbeat_at:
                        self.send_command(P.WORKER_HEARTBEAT_FRAME)
                        self.heartbeat_at = now + self.heartbeat
                        self.read_broker()
                if self.sock is not None:
                    until = min(self.heartbeat_at, self.expiry)
                else:
                    until = self.reconnect_at
            self.wait(until)
        if self.rejected is not None:
            raise self.rejected

    # ------------------------------------------------------------ stop

    def drain(self) -> None:
        """On stop (PROTOCOL.md s. 4.5): DISCONNECT, so the broker sends no
        more; then let the handlers finish every job held (queued or
        running; requests the broker sent before it saw the DISCONNECT are
        held too), heartbeating meanwhile, for at most stop_grace seconds.
        What is unfinished then is dropped: the broker answers it when the
        connection goes silent."""
        with self.lock:
            if self.sock is None or self.rejected is not None:
                self.close(0)
                return
            self.send_command(P.WORKER_DISCONNECT_FRAME)
            self.read_broker(draining=True)
        until = time.monotonic() + self.w.stop_grace
        while True:
            with self.lock:
                if self.sock is None or self.outstanding <= 0:
                    break
                now = time.monotonic()
                if now >= until:
                    log.warning("%s: %d request(s) unfinished after %.1f s; their replies "
                                "are dropped", self.w.service, self.outstanding,
                                self.w.stop_grace)
                    break
                self.read_broker(draining=True)
                if self.sock is not None and now >= self.heartbeat_at:
                    self.send_command(P.WORKER_HEARTBEAT_FRAME)
                    self.heartbeat_at = now + self.heartbeat
                    self.read_broker(draining=True)
                wake_at = min(until, self.heartbeat_at)
            self.wait(wake_at)
        with self.lock:
            self.close(_FLUSH_LINGER_MS)


# ---------------------------------------------------------------- experts

_EXPERTS: List[Callable[..., Any]] = []    # registered by @expert, in definition order
_F = Callable[..., Any]


def expert(name: str, version: str = "", description: str = "",
           **options: Any) -> Callable[[_F], _F]:
    """Decorator: registers a function (dict -> dict) as the expert serving
    `name`. options are Worker's (concurrency, credit, idempotent,
    input_schema, output_schema, example, raw). The function is returned
    unchanged, so it stays callable and testable as plain Python."""
    def register(function: _F) -> _F:
        #   An attribute on the function itself, so worker_for finds it.
        setattr(function, "hearth_expert", dict(options, service=name, version=version,
                                                description=description))
        _EXPERTS.append(function)
        return function
    return register


def experts() -> List[Callable[..., Any]]:
    """The functions registered with @expert so far."""
    return list(_EXPERTS)


def worker_for(function: Handler, broker: Optional[str] = None, **overrides: Any) -> Worker:
    """A Worker for a function, with its @expert settings (if any) updated
    by overrides (None values are ignored)."""
    settings = dict(getattr(function, "hearth_expert", {}))
    settings.update({k: v for k, v in overrides.items() if v is not None})
    if "service" not in settings:
        raise ValueError("%s is not an @expert: give a service name"
                         % getattr(function, "__name__", function))
    return Worker(handler=function, broker=broker, **settings)


def run_experts(functions: Optional[Iterable[Handler]] = None,
                broker: Optional[str] = None) -> None:
    """Serves every @expert function (or the given ones), one Worker each,
    until SIGINT or SIGTERM; then stops them all and returns. Raises the
    first worker's failure (for instance Rejected) after stopping the rest."""
    functions = list(functions) if functions is not None else experts()
    if not functions:
        raise ValueError("no @expert functions to serve")
    serve_workers([worker_for(f, broker) for f in functions])


def serve_workers(workers: List[Worker]) -> None:
    """Runs Workers, each in its own thread (the caller's when there is one),
    until SIGINT or SIGTERM; see run_experts."""
    if len(workers) == 1:
        workers[0].run()
        return
    failures: List[BaseException] = []

    def serve(worker: Worker) -> None:
        try:
            worker.run()
        except BaseException as exc:  # noqa: BLE001 - reported to the caller
            failures.append(exc)
            for other in workers:
                other.stop()

    def stop_all(_signum: Optional[int] = None, _frame: Optional[FrameType] = None) -> None:
        for worker in workers:
            worker.stop()

    threads = [threading.Thread(target=serve, args=(w,), name="hearth-%s" % w.service)
               for w in workers]
    restore: List[Tuple[int, _SignalHandler]] = []
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGINT, signal.SIGTERM):
            restore.append((signum, signal.getsignal(signum)))
            signal.signal(signum, stop_all)
    try:
        for thread in threads:
            thread.start()
        #   Joined with a timeout so the main thread keeps running signal
        #   handlers.
        while any(t.is_alive() for t in threads):
            for thread in threads:
                thread.join(0.2)
    finally:
        stop_all()
        for thread in threads:
            thread.join()
        for number, previous in restore:
            signal.signal(number, previous)
    if failures:
        raise failures[0]
