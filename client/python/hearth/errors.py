"""Typed exceptions. Every error carries the status (None when the library
itself gave up without any status), the error text, and the reply metadata
(an empty dict when there was no reply).

A status maps to its class exactly as the C library maps it to an error
code (common/hearth_error.c, hearth_error_from_status): each class names
its C code in `code` and has the C library's hearth_strerror text in
`description`, and tests/test_protocol.py compares the two mappings for
every status 000 to 999. Where C has a code finer than an older class of
this library (403, 413, 501, a dropped connection) the new class is a
subclass of the old one, so `except BadRequest` still catches what it
always caught."""

from typing import Any, Dict, Optional, Type

from . import protocol as P

#   Metadata as unpacked from msgpack: string keys, any values.
Meta = Dict[str, Any]


class HearthError(Exception):
    """Base of every Hearth error: .status, .error (message), .meta, and
    .body: the reply body (for a failed route, the document as it was
    given to the failing stage; b"" when there was no reply)."""

    default_status: Optional[int] = None
    #   The C library's name of this error (hearth_error_name), and its
    #   hearth_strerror text; None where C has no such error.
    code: Optional[str] = None
    description = "hearth error"

    def __init__(self, error: str = "", status: Optional[int] = None,
                 meta: Optional[Meta] = None, body: bytes = b"") -> None:
        self.status: Optional[int] = self.default_status if status is None else status
        self.error = error
        self.meta: Meta = meta if meta is not None else {}
        self.body = body
        super().__init__(error)

    def __str__(self) -> str:
        if self.status is None:
            return self.error
        return "%d %s" % (self.status, self.error)


class BadRequest(HearthError):
    """400 (and unknown 4xx): the caller's fault; also the base of 403,
    413 and 501. A handler raises it to answer 400 with its message."""
    default_status = P.HEARTH_STATUS_BAD_REQUEST
    code = "HEARTH_EMALFORMED"
    description = "malformed request"


class Forbidden(BadRequest):
    """403: a reserved name, refused."""
    default_status = P.HEARTH_STATUS_FORBIDDEN
    code = "HEARTH_EFORBIDDEN"
    description = "forbidden"


class TooLarge(BadRequest):
    """413: the message is larger than the broker allows."""
    default_status = P.HEARTH_STATUS_TOO_LARGE
    code = "HEARTH_ETOOLARGE"
    description = "message too large"


class Unimplemented(BadRequest, NotImplementedError):
    """501: not implemented. A BadRequest, as before this class existed."""
    default_status = P.HEARTH_STATUS_NOT_IMPL
    code = "HEARTH_ENOTIMPL"
    description = "not implemented"


class NoSuchService(HearthError):
    """404: the broker knows no service of that name."""
    default_status = P.HEARTH_STATUS_NOT_FOUND
    code = "HEARTH_ENOSERVICE"
    description = "no such service"


class WorkerError(HearthError):
    """500 (and unknown 5xx): the worker reported a failure."""
    default_status = P.HEARTH_STATUS_WORKER_ERROR
    code = "HEARTH_EWORKER"
    description = "worker error"


class WorkerLost(HearthError):
    """502: the worker died or disconnected holding the request."""
    default_status = P.HEARTH_STATUS_WORKER_LOST
    code = "HEARTH_EWORKERLOST"
    description = "worker lost"


class Unavailable(HearthError):
    """503: queue full, no workers, or broker shutting down."""
    default_status = P.HEARTH_STATUS_UNAVAILABLE
    code = "HEARTH_EUNAVAILABLE"
    description = "service unavailable"


class Timeout(HearthError, TimeoutError):
    """504 from the broker, or the local deadline passed."""
    default_status = P.HEARTH_STATUS_TIMEOUT
    code = "HEARTH_ETIMEOUT"
    description = "deadline exceeded"


class UnknownStatus(HearthError):
    """A status outside 2xx, 4xx and 5xx, which no class claims."""
    code = "HEARTH_ESTATUS"
    description = "unknown status code"


class BrokerUnreachable(HearthError, ConnectionError):
    """No connection to the broker within the connect timeout. No status."""
    code = "HEARTH_EUNREACHABLE"
    description = "broker unreachable"


class BrokerLost(BrokerUnreachable):
    """The connection to the broker dropped while the request was in
    flight: the broker can no longer answer it. No status."""
    code = "HEARTH_EBROKERLOST"
    description = "broker connection lost"


class ProtocolError(HearthError):
    """The peer sent something outside the protocol (a status frame that is
    not three digits). No status."""
    code = "HEARTH_EPROTO"
    description = "protocol error"


class Rejected(HearthError):
    """A worker's registration was refused (REGISTERED 400 or 403)."""
    code = "HEARTH_EREJECTED"
    description = "registration rejected"


class BadReply(HearthError, ValueError):
    """A successful reply whose body does not decode as the caller asked
    (JSON was expected). .status and .meta are the reply's, .body its
    bytes. No C counterpart: the C library hands over bytes only."""
    description = "reply is not JSON"


#   hearth_error_from_status's switch, one row per known status.
_BY_STATUS: Dict[int, Type[HearthError]] = {
    P.HEARTH_STATUS_BAD_REQUEST: BadRequest,
    P.HEARTH_STATUS_FORBIDDEN: Forbidden,
    P.HEARTH_STATUS_NOT_FOUND: NoSuchService,
    P.HEARTH_STATUS_TOO_LARGE: TooLarge,
    P.HEARTH_STATUS_WORKER_ERROR: WorkerError,
    P.HEARTH_STATUS_NOT_IMPL: Unimplemented,
    P.HEARTH_STATUS_WORKER_LOST: WorkerLost,
    P.HEARTH_STATUS_UNAVAILABLE: Unavailable,
    P.HEARTH_STATUS_TIMEOUT: Timeout,
}


def is_success(status: int) -> bool:
    """True for a status that means success: any 2xx, as in C (an unknown
    2xx falls into its class, HEARTH_OK)."""
    return 200 <= status < 300


def class_for_status(status: int) -> Optional[Type[HearthError]]:
    """The exception class of a status, None for success. Unknown codes go
    by class as in C and HTTP: 4xx BadRequest, 5xx WorkerError, anything
    else UnknownStatus."""
    cls = _BY_STATUS.get(status)
    if cls is not None:
        return cls
    if is_success(status):
        return None
    if 400 <= status < 500:
        return BadRequest
    if 500 <= status < 600:
        return WorkerError
    return UnknownStatus


def error_for(status: int, meta: Any, body: bytes = b"") -> HearthError:
    """The exception for a reply that is not a success (see is_success)."""
    cls = class_for_status(status)
    if cls is None:
        raise ValueError("status %d is a success, not an error" % status)
    return cls(error_text(status, meta), status=status,
               meta=meta if isinstance(meta, dict) else {}, body=body)


def error_text(status: int, meta: Any) -> str:
    """The `error` text of a reply's metadata, else one naming the status."""
    text = meta.get(P.HEARTH_META_ERROR) if isinstance(meta, dict) else None
    return text if isinstance(text, str) else "status %d" % status
