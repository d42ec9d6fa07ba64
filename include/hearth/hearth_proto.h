/*  hearth_proto.h - wire constants shared by broker, workers and clients.

    Every frame layout, command byte, status code and metadata key that
    crosses the wire is named here and nowhere else, so the broker and the
    libraries cannot drift apart. The prose specification is
    schemas/PROTOCOL.md; a change here changes it in the same commit.
*/
#ifndef HEARTH_PROTO_H_INCLUDED
#define HEARTH_PROTO_H_INCLUDED

/*  Protocol headers (frame 1, after the empty delimiter frame 0).          */
#define HEARTH_MDPC_HEADER      "MDPC01"     /* RFC 7 client                */
#define HEARTH_MDPW_HEADER      "MDPW01"     /* RFC 7 worker                */
#define HEARTH_CLIENT_HEADER    "HEARTHC1"   /* Hearth native client        */
#define HEARTH_WORKER_HEADER    "HEARTHW1"   /* Hearth native worker        */

/*  MDP/0.1 worker commands (RFC 7), one byte in frame 2.                   */
#define HEARTH_MDPW_READY       0x01
#define HEARTH_MDPW_REQUEST     0x02
#define HEARTH_MDPW_REPLY       0x03
#define HEARTH_MDPW_HEARTBEAT   0x04
#define HEARTH_MDPW_DISCONNECT  0x05

/*  Native client commands, one byte in frame 2.
    REQUEST   C->B  "" HEARTHC1 0x01 request-id service metadata body
    REPLY     B->C  "" HEARTHC1 0x02 request-id status  metadata body        */
#define HEARTH_CLIENT_REQUEST   0x01
#define HEARTH_CLIENT_REPLY     0x02

/*  Native worker commands, one byte in frame 2.
    READY      W->B  "" HEARTHW1 0x01 service descriptor
    REQUEST    B->W  "" HEARTHW1 0x02 job-id metadata body
    REPLY      W->B  "" HEARTHW1 0x03 job-id status metadata body
    HEARTBEAT  W<>B  "" HEARTHW1 0x04
    DISCONNECT W<>B  "" HEARTHW1 0x05 [reason]
    REGISTERED B->W  "" HEARTHW1 0x06 status settings                         */
#define HEARTH_WORKER_READY      0x01
#define HEARTH_WORKER_REQUEST    0x02
#define HEARTH_WORKER_REPLY      0x03
#define HEARTH_WORKER_HEARTBEAT  0x04
#define HEARTH_WORKER_DISCONNECT 0x05
#define HEARTH_WORKER_REGISTERED 0x06

/*  Frame counts of the native messages, delimiter included.                */
#define HEARTH_CLIENT_REQUEST_FRAMES  7
#define HEARTH_CLIENT_REPLY_FRAMES    7
#define HEARTH_WORKER_READY_FRAMES    5
#define HEARTH_WORKER_REQUEST_FRAMES  6
#define HEARTH_WORKER_REPLY_FRAMES    7
#define HEARTH_WORKER_REGISTERED_FRAMES 5

/*  Limits on identifiers.                                                  */
#define HEARTH_SERVICE_MAX      255   /* bytes in a service name            */
#define HEARTH_REQUEST_ID_MAX   255   /* bytes in a client request id       */
#define HEARTH_JOB_ID_SIZE      8     /* bytes in a broker job id           */
#define HEARTH_META_MAX         65536 /* bytes in a metadata frame          */
/*  Body frames of an MDP/0.1 request or reply (PROTOCOL.md 9): a request
    with more is dropped at arrival, a reply with more is not relayed.       */
#define HEARTH_MDP_BODY_MAX     32

/*  Status codes, sent as three ASCII digits ("200"), grouped like HTTP.    */
#define HEARTH_STATUS_OK             200
#define HEARTH_STATUS_BAD_REQUEST    400
#define HEARTH_STATUS_FORBIDDEN      403
#define HEARTH_STATUS_NOT_FOUND      404
#define HEARTH_STATUS_TOO_LARGE      413
#define HEARTH_STATUS_WORKER_ERROR   500
#define HEARTH_STATUS_NOT_IMPL       501
#define HEARTH_STATUS_WORKER_LOST    502
#define HEARTH_STATUS_UNAVAILABLE    503
#define HEARTH_STATUS_TIMEOUT        504

/*  Broker-owned services. Names starting with these prefixes are reserved:
    a worker that registers one is refused (RFC 8 for mmi.).                */
#define HEARTH_MMI_PREFIX        "mmi."
#define HEARTH_MMI_SERVICE       "mmi.service"
#define HEARTH_INTERNAL_PREFIX   "hearth."
#define HEARTH_SVC_PING          "hearth.ping"
#define HEARTH_SVC_SERVICES      "hearth.services"

/*  Metadata keys (msgpack map, string keys; unknown keys are ignored).      */
/*  Request metadata, client -> broker -> worker.                           */
#define HEARTH_META_DEADLINE     "deadline"      /* uint: remaining budget, ms */
#define HEARTH_META_IDEMPOTENT   "idempotent"    /* bool                       */
#define HEARTH_META_CLIENT       "client"        /* str: client name           */
#define HEARTH_META_CLIENT_VER   "client_version"/* str                        */
#define HEARTH_META_ATTEMPT      "attempt"       /* uint: 1, or 2 on a resend  */
/*  Reply metadata, worker -> broker -> client.                             */
#define HEARTH_META_ERROR        "error"         /* str: why, on non-200       */
#define HEARTH_META_WORKER       "worker"        /* str: worker identity       */
#define HEARTH_META_SERVICE      "service"       /* str                        */
#define HEARTH_META_VERSION      "version"       /* str: worker's version      */
#define HEARTH_META_QUEUE_MS     "queue_ms"      /* uint: time queued          */
#define HEARTH_META_RUN_MS       "run_ms"        /* uint: time at the worker   */
/*  Route replies, broker -> client.                                        */
#define HEARTH_META_TRACE        "trace"         /* array: one map per stage call */
#define HEARTH_META_STAGE        "stage"         /* uint: the stage that failed */

/*  Descriptor keys (READY frame 4) and settings keys (REGISTERED frame 4). */
#define HEARTH_DESC_SERVICE      "service"
#define HEARTH_DESC_VERSION      "version"
#define HEARTH_DESC_DESCRIPTION  "description"
#define HEARTH_DESC_CREDIT       "credit"
#define HEARTH_DESC_CONCURRENCY  "concurrency"
#define HEARTH_DESC_IDEMPOTENT   "idempotent"
#define HEARTH_DESC_INPUT_SCHEMA "input_schema"
#define HEARTH_DESC_OUTPUT_SCHEMA "output_schema"
#define HEARTH_DESC_EXAMPLE      "example"
#define HEARTH_SET_HEARTBEAT     "heartbeat_ms"
#define HEARTH_SET_LIVENESS      "liveness"
#define HEARTH_SET_MAX_MESSAGE   "max_message"
#define HEARTH_SET_WORKER_ID     "worker_id"

/*  Defaults.                                                               */
#define HEARTH_DEFAULT_ENDPOINT      "tcp://127.0.0.1:5555"
#define HEARTH_DEFAULT_HEARTBEAT_MS  1000
#define HEARTH_DEFAULT_LIVENESS      3
#define HEARTH_DEFAULT_QUEUE_MAX     1000
#define HEARTH_DEFAULT_MAX_MESSAGE   (16 * 1024 * 1024)
#define HEARTH_DEFAULT_MAX_PENDING_BYTES (1024 * 1024 * 1024)
#define HEARTH_DEFAULT_DEADLINE_MS   30000
#define HEARTH_DEFAULT_GRACE_MS      5000
#define HEARTH_DEFAULT_LINGER_MS     5000
#define HEARTH_DEFAULT_SEND_HWM      100000   /* messages queued per peer   */
#define HEARTH_CREDIT_MAX            10000

#endif
