"""Wire constants of HMP/1, mirroring include/hearth/hearth_proto.h.

The C header is the single source of truth; tests/test_protocol.py checks
that every name here has the header's value, so the two cannot drift apart.
Strings that travel as frames are bytes; metadata keys stay str (msgpack
map keys).
"""

from typing import Optional

# Protocol headers (frame 1, after the empty delimiter frame 0).
HEARTH_MDPC_HEADER = b"MDPC01"
HEARTH_MDPW_HEADER = b"MDPW01"
HEARTH_CLIENT_HEADER = b"HEARTHC1"
HEARTH_WORKER_HEADER = b"HEARTHW1"

# MDP/0.1 worker commands (RFC 7, frame 2).
HEARTH_MDPW_READY = 0x01
HEARTH_MDPW_REQUEST = 0x02
HEARTH_MDPW_REPLY = 0x03
HEARTH_MDPW_HEARTBEAT = 0x04
HEARTH_MDPW_DISCONNECT = 0x05

# Native client commands (frame 2).
HEARTH_CLIENT_REQUEST = 0x01
HEARTH_CLIENT_REPLY = 0x02

# Native worker commands (frame 2).
HEARTH_WORKER_READY = 0x01
HEARTH_WORKER_REQUEST = 0x02
HEARTH_WORKER_REPLY = 0x03
HEARTH_WORKER_HEARTBEAT = 0x04
HEARTH_WORKER_DISCONNECT = 0x05
HEARTH_WORKER_REGISTERED = 0x06

# Frame counts, delimiter included.
HEARTH_CLIENT_REQUEST_FRAMES = 7
HEARTH_CLIENT_REPLY_FRAMES = 7
HEARTH_WORKER_READY_FRAMES = 5
HEARTH_WORKER_REQUEST_FRAMES = 6
HEARTH_WORKER_REPLY_FRAMES = 7
HEARTH_WORKER_REGISTERED_FRAMES = 5

# Limits.
HEARTH_SERVICE_MAX = 255
HEARTH_REQUEST_ID_MAX = 255
HEARTH_JOB_ID_SIZE = 8
HEARTH_META_MAX = 65536
HEARTH_MDP_BODY_MAX = 32

# Status codes (three ASCII digits on the wire).
HEARTH_STATUS_OK = 200
HEARTH_STATUS_BAD_REQUEST = 400
HEARTH_STATUS_FORBIDDEN = 403
HEARTH_STATUS_NOT_FOUND = 404
HEARTH_STATUS_TOO_LARGE = 413
HEARTH_STATUS_WORKER_ERROR = 500
HEARTH_STATUS_NOT_IMPL = 501
HEARTH_STATUS_WORKER_LOST = 502
HEARTH_STATUS_UNAVAILABLE = 503
HEARTH_STATUS_TIMEOUT = 504

# Broker-owned services.
HEARTH_MMI_PREFIX = "mmi."
HEARTH_MMI_SERVICE = "mmi.service"
HEARTH_INTERNAL_PREFIX = "hearth."
HEARTH_SVC_PING = "hearth.ping"
HEARTH_SVC_SERVICES = "hearth.services"

# Metadata keys.
HEARTH_META_DEADLINE = "deadline"
HEARTH_META_IDEMPOTENT = "idempotent"
HEARTH_META_CLIENT = "client"
HEARTH_META_CLIENT_VER = "client_version"
HEARTH_META_ATTEMPT = "attempt"
HEARTH_META_ERROR = "error"
HEARTH_META_WORKER = "worker"
HEARTH_META_SERVICE = "service"
HEARTH_META_VERSION = "version"
HEARTH_META_QUEUE_MS = "queue_ms"
HEARTH_META_RUN_MS = "run_ms"
HEARTH_META_TRACE = "trace"          # route replies: one map per stage call
HEARTH_META_STAGE = "stage"          # route errors: the 0-based failing stage

# Descriptor keys (READY) and settings keys (REGISTERED).
HEARTH_DESC_SERVICE = "service"
HEARTH_DESC_VERSION = "version"
HEARTH_DESC_DESCRIPTION = "description"
HEARTH_DESC_CREDIT = "credit"
HEARTH_DESC_CONCURRENCY = "concurrency"
HEARTH_DESC_IDEMPOTENT = "idempotent"
HEARTH_DESC_INPUT_SCHEMA = "input_schema"
HEARTH_DESC_OUTPUT_SCHEMA = "output_schema"
HEARTH_DESC_EXAMPLE = "example"
HEARTH_SET_HEARTBEAT = "heartbeat_ms"
HEARTH_SET_LIVENESS = "liveness"
HEARTH_SET_MAX_MESSAGE = "max_message"
HEARTH_SET_WORKER_ID = "worker_id"

# Defaults.
HEARTH_DEFAULT_ENDPOINT = "tcp://127.0.0.1:5555"
HEARTH_DEFAULT_HEARTBEAT_MS = 1000
HEARTH_DEFAULT_LIVENESS = 3
HEARTH_DEFAULT_QUEUE_MAX = 1000
HEARTH_DEFAULT_MAX_MESSAGE = 16 * 1024 * 1024
HEARTH_DEFAULT_MAX_PENDING_BYTES = 1024 * 1024 * 1024
HEARTH_DEFAULT_DEADLINE_MS = 30000
HEARTH_DEFAULT_GRACE_MS = 5000
HEARTH_DEFAULT_LINGER_MS = 5000
HEARTH_DEFAULT_SEND_HWM = 100000
HEARTH_CREDIT_MAX = 10000

# Route expressions (PROTOCOL.md s. 11): these characters, and the space,
# cannot be in service names.
ROUTE_SEPARATOR = ","
ROUTE_GROUP_OPEN = "["
ROUTE_GROUP_CLOSE = "]"

# One-byte command frames and the status frames, built once.
CLIENT_REQUEST_FRAME = bytes([HEARTH_CLIENT_REQUEST])
CLIENT_REPLY_FRAME = bytes([HEARTH_CLIENT_REPLY])
WORKER_READY_FRAME = bytes([HEARTH_WORKER_READY])
WORKER_REQUEST_FRAME = bytes([HEARTH_WORKER_REQUEST])
WORKER_REPLY_FRAME = bytes([HEARTH_WORKER_REPLY])
WORKER_HEARTBEAT_FRAME = bytes([HEARTH_WORKER_HEARTBEAT])
WORKER_DISCONNECT_FRAME = bytes([HEARTH_WORKER_DISCONNECT])
WORKER_REGISTERED_FRAME = bytes([HEARTH_WORKER_REGISTERED])


def status_frame(status: int) -> bytes:
    """The three-ASCII-digit frame of a status code."""
    return b"%03d" % status


def parse_status(frame: bytes) -> Optional[int]:
    """The status code in a status frame, or None if it is not three digits."""
    if len(frame) != 3 or not frame.isdigit():
        return None
    return int(frame)
