"""The one ZeroMQ context of the library, shared by every Client and Worker
of the process.

Why the library's own rather than zmq.Context.instance(): the program may
use that one too, and term() it at the end; our sockets would then make
its term() block, and its term() would break our Clients. This one is
never terminated while the process runs: a Client or Worker closes its
own sockets and nothing else, so closing one never affects another.

Fork: a libzmq context does not survive fork (its I/O threads are not
copied), so a child gets a fresh context on first use; the parent's
object is kept (never destroyed in the child: pyzmq leaves a context and
its sockets alone in a process that did not create them, and so must we).
Clients and Workers themselves do not survive fork either: make new ones
in the child.

At interpreter exit the context is terminated, bounded: that is what lets
the last replies and DISCONNECT of a stopped Worker (closed with a short
linger) leave before the process goes, as they did when each Worker had
its own context. If a socket is still open (a Client never closed), term
would wait for it forever, so exit then goes on without flushing.
"""

import atexit
import os
import threading
from typing import Any, List, Optional

import zmq

_lock = threading.Lock()
_context: Optional["zmq.Context[Any]"] = None
_pid = 0
_open = 0                   # sockets made here and not yet closed
_monitors = 0               # monitor addresses handed out
_inherited: List["zmq.Context[Any]"] = []


def _after_fork_in_child() -> None:
    #   Another thread may have held the lock at fork; none runs here now.
    global _lock, _open
    _lock = threading.Lock()
    _open = 0


os.register_at_fork(after_in_child=_after_fork_in_child)


def shared() -> "zmq.Context[Any]":
    """The process's context, made on first use (and again after fork)."""
    global _context, _pid
    with _lock:
        if _context is None or _pid != os.getpid():
            if _context is not None:
                _inherited.append(_context)
            _context = zmq.Context()
            _pid = os.getpid()
        return _context


def socket(kind: int) -> "zmq.Socket[Any]":
    """A new socket of the shared context; close it with close()."""
    global _open
    sock: "zmq.Socket[Any]" = shared().socket(kind)
    with _lock:
        _open += 1
    return sock


def monitor(sock: "zmq.Socket[Any]", events: int) -> "zmq.Socket[Any]":
    """A PAIR socket that receives sock's events; close it with close().

    Its inproc address is ours and never reused: pyzmq's default names it
    after the socket's fd, and with one context for every Client a closed
    socket's monitor may still hold that name while a new socket gets the
    same fd number."""
    global _open, _monitors
    with _lock:
        _monitors += 1
        addr = "inproc://hearth.monitor.%d" % _monitors
    pair = sock.get_monitor_socket(events, addr)
    with _lock:
        _open += 1
    return pair


def close_monitor(sock: "zmq.Socket[Any]", pair: "zmq.Socket[Any]") -> None:
    """Stops sock's monitor, then closes its PAIR (made by monitor()).

    In this order: libzmq's I/O thread sends each event to the monitor
    blocking, and a monitor whose PAIR is gone would block that thread for
    good; with one context for the process, that is every Client's and
    Worker's I/O, not just this socket's."""
    if not sock.closed:
        sock.disable_monitor()
    close(pair)


def close(sock: "zmq.Socket[Any]", linger: int = 0) -> None:
    """Closes a socket made by socket() or monitor(); idempotent."""
    global _open
    if sock.closed:
        return
    sock.close(linger=linger)
    with _lock:
        _open -= 1


def open_sockets() -> int:
    """How many sockets made here are open (for tests)."""
    with _lock:
        return _open


def _flush_at_exit() -> None:
    with _lock:
        context = _context if _pid == os.getpid() else None
        idle = _open == 0
    #   Only our sockets live on this context, so when all are closed
    #   term() waits for nothing but their linger (at most a Worker's
    #   _FLUSH_LINGER_MS).
    if context is not None and idle:
        context.term()


atexit.register(_flush_at_exit)
