"""Typed exceptions. Every error carries the status (None when the library
itself gave up without any status), the error text, and the reply metadata
(an empty dict when there was no reply)."""

from . import protocol as P


class HearthError(Exception):
    """Base of every Hearth error: .status, .error (message), .meta, and
    .body: the reply body (for a failed route, the document as it was
    given to the failing stage; b"" when there was no reply)."""

    default_status = None

    def __init__(self, error="", status=None, meta=None, body=b""):
        self.status = self.default_status if status is None else status
        self.error = error
        self.meta = meta if meta is not None else {}
        self.body = body
        super().__init__(error)

    def __str__(self):
        if self.status is None:
            return self.error
        return "%d %s" % (self.status, self.error)


class BadRequest(HearthError):
    """400, 413, 403, 501 (and unknown 4xx): the caller's fault. A handler
    raises it to answer 400 with its message."""
    default_status = P.HEARTH_STATUS_BAD_REQUEST


class NoSuchService(HearthError):
    """404: the broker knows no service of that name."""
    default_status = P.HEARTH_STATUS_NOT_FOUND


class WorkerError(HearthError):
    """500: the worker reported a failure."""
    default_status = P.HEARTH_STATUS_WORKER_ERROR


class WorkerLost(HearthError):
    """502: the worker died or disconnected holding the request."""
    default_status = P.HEARTH_STATUS_WORKER_LOST


class Unavailable(HearthError):
    """503: queue full, no workers, or broker shutting down."""
    default_status = P.HEARTH_STATUS_UNAVAILABLE


class Timeout(HearthError, TimeoutError):
    """504 from the broker, or the local deadline passed."""
    default_status = P.HEARTH_STATUS_TIMEOUT


class BrokerUnreachable(HearthError, ConnectionError):
    """No connection to the broker within the connect timeout, or the
    connection dropped while the request was in flight. No status."""


class Rejected(HearthError):
    """A worker's registration was refused (REGISTERED 400 or 403)."""


_BY_STATUS = {
    P.HEARTH_STATUS_BAD_REQUEST: BadRequest,
    P.HEARTH_STATUS_FORBIDDEN: BadRequest,
    P.HEARTH_STATUS_TOO_LARGE: BadRequest,
    P.HEARTH_STATUS_NOT_IMPL: BadRequest,
    P.HEARTH_STATUS_NOT_FOUND: NoSuchService,
    P.HEARTH_STATUS_WORKER_ERROR: WorkerError,
    P.HEARTH_STATUS_WORKER_LOST: WorkerLost,
    P.HEARTH_STATUS_UNAVAILABLE: Unavailable,
    P.HEARTH_STATUS_TIMEOUT: Timeout,
}


def error_for(status, meta, body=b""):
    """The exception for a non-200 reply. Unknown codes go by class: 4xx is
    the caller's fault (BadRequest), anything else a plain HearthError."""
    cls = _BY_STATUS.get(status)
    if cls is None:
        cls = BadRequest if 400 <= status < 500 else HearthError
    text = meta.get(P.HEARTH_META_ERROR) if isinstance(meta, dict) else None
    if not isinstance(text, str):
        text = "status %d" % status
    return cls(text, status=status, meta=meta, body=body)
