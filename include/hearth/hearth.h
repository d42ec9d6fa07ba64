/*  hearth.h - public API of libhearth: errors, client, worker.

    Ownership is said at each declaration. A "T **" argument is taken only
    on success and set to NULL then. Functions that return int return a
    hearth_error_t: 0 (HEARTH_OK) on success.
*/
#ifndef HEARTH_H_INCLUDED
#define HEARTH_H_INCLUDED

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include "hearth_proto.h"
#include "hearth/hearth_version.h"     /* HEARTH_VERSION_STRING, generated */

#ifdef __cplusplus
extern "C" {
#endif

/*  HEARTH_EXPORT marks what libhearth exports. The library is built with
    hidden visibility and HEARTH_BUILDING_LIB defined, so its shared object
    exports the functions declared here and nothing else; to a program that
    includes this header the mark means nothing.                             */
#if defined (HEARTH_BUILDING_LIB) && defined (__GNUC__)
#   define HEARTH_EXPORT __attribute__ ((visibility ("default")))
#else
#   define HEARTH_EXPORT
#endif

/* ---------------------------------------------------------------- errors */

typedef enum {
    HEARTH_OK = 0,
    HEARTH_EINVAL,          /* bad argument from the caller                  */
    HEARTH_ENOMEM,          /* out of memory                                 */
    HEARTH_EMALFORMED,      /* 400: the broker found the request malformed   */
    HEARTH_EFORBIDDEN,      /* 403: reserved name, refused                   */
    HEARTH_ENOSERVICE,      /* 404: no such service                          */
    HEARTH_ETOOLARGE,       /* 413: message larger than the broker allows    */
    HEARTH_EWORKER,         /* 500: the worker reported an error             */
    HEARTH_ENOTIMPL,        /* 501: not implemented (unknown mmi. service)   */
    HEARTH_EWORKERLOST,     /* 502: the worker died with the request         */
    HEARTH_EUNAVAILABLE,    /* 503: no workers, queue full, shutting down    */
    HEARTH_ETIMEOUT,        /* 504 or local: the deadline passed             */
    HEARTH_EUNREACHABLE,    /* no connection to the broker could be made     */
    HEARTH_EBROKERLOST,     /* the broker connection dropped while waiting   */
    HEARTH_EPROTO,          /* the peer sent something outside the protocol  */
    HEARTH_EREJECTED,       /* worker registration refused by the broker     */
    HEARTH_ESYS,            /* system or libzmq failure (see errno)          */
    HEARTH_ESTATUS,         /* a status code this library does not know      */
    HEARTH_ERROR_COUNT
} hearth_error_t;

/*  A short, static, human-readable description of an error code.           */
HEARTH_EXPORT const char *hearth_strerror (int error);

/*  A short, static, machine-friendly name ("HEARTH_ETIMEOUT").             */
HEARTH_EXPORT const char *hearth_error_name (int error);

/*  Maps a wire status code to an error code (200 -> HEARTH_OK).            */
HEARTH_EXPORT hearth_error_t hearth_error_from_status (int status);

/*  The reason phrase of a wire status code ("Gateway Timeout").            */
HEARTH_EXPORT const char *hearth_status_text (int status);

/* ----------------------------------------------------------------- reply */

/*  A reply received by a client. Owned by the caller of the function that
    returned it; free with hearth_reply_destroy.                             */
typedef struct _hearth_reply_t hearth_reply_t;

HEARTH_EXPORT void hearth_reply_destroy (hearth_reply_t **self_p);
/*  The request id this reply answers (as returned by hearth_client_send).  */
HEARTH_EXPORT uint64_t hearth_reply_id (const hearth_reply_t *self);
/*  The wire status code (200, 404, 504, ...).                              */
HEARTH_EXPORT int hearth_reply_status (const hearth_reply_t *self);
/*  The body; valid while the reply lives. Never NULL (may be empty).       */
HEARTH_EXPORT const void *hearth_reply_body (const hearth_reply_t *self, size_t *size);
/*  The "error" text from the metadata, NUL-terminated, or NULL if none.    */
HEARTH_EXPORT const char *hearth_reply_error (const hearth_reply_t *self);
/*  The raw msgpack metadata map; valid while the reply lives.              */
HEARTH_EXPORT const void *hearth_reply_meta (const hearth_reply_t *self, size_t *size);
/*  An unsigned integer from the metadata (e.g. "run_ms"), or -1.           */
HEARTH_EXPORT int64_t hearth_reply_meta_uint (const hearth_reply_t *self,
                                              const char *key);
/*  A string from the metadata, copied and NUL-terminated into buf (size
    bufsize); returns buf, or NULL if the key is absent or not a string.    */
HEARTH_EXPORT const char *hearth_reply_meta_str (const hearth_reply_t *self,
                                                 const char *key,
                                                 char *buf, size_t bufsize);

/* ---------------------------------------------------------------- client */

typedef struct _hearth_client_t hearth_client_t;

/*  Request flags.                                                          */
#define HEARTH_IDEMPOTENT 0x01   /* the broker may resend it once if the
                                    worker dies with it                      */

/*  Creates a client connected (asynchronously) to the broker at endpoint,
    e.g. "tcp://127.0.0.1:5555". Returns NULL if the endpoint is invalid.
    Not thread-safe: use one client per thread.                              */
HEARTH_EXPORT hearth_client_t *hearth_client_new (const char *endpoint);

/*  Destroys the client; pending requests are abandoned. Idempotent.        */
HEARTH_EXPORT void hearth_client_destroy (hearth_client_t **self_p);

/*  Sets the name and version sent in every request's metadata. Copied.     */
HEARTH_EXPORT void hearth_client_set_name (hearth_client_t *self, const char *name,
                                           const char *version);

/*  How long a call waits for the first connection to the broker before it
    fails with HEARTH_EUNREACHABLE (default 2000 ms; never longer than the
    call's own timeout).                                                     */
HEARTH_EXPORT void hearth_client_set_connect_timeout (hearth_client_t *self,
                                                      int timeout_ms);

/*  Synchronous call: sends body to service and waits up to timeout_ms
    (which also travels as the request's deadline; <= 0 means the default,
    HEARTH_DEFAULT_DEADLINE_MS). Returns HEARTH_OK when a 200 reply came;
    otherwise the error. Whenever the broker answered (any status), the
    reply is stored in *reply_p (caller owns it); else *reply_p is NULL.
    reply_p may be NULL if the caller does not want the reply.             */
HEARTH_EXPORT int hearth_client_call (hearth_client_t *self, const char *service,
                                      const void *body, size_t size, int timeout_ms,
                                      int flags, hearth_reply_t **reply_p);

/*  Asynchronous send: queues a request and returns at once. The request id
    is stored in *id_p. Many requests may be in flight on one client.       */
HEARTH_EXPORT int hearth_client_send (hearth_client_t *self, const char *service,
                                      const void *body, size_t size, int timeout_ms,
                                      int flags, uint64_t *id_p);

/*  Waits up to wait_ms (0: do not wait, -1: until a reply or nothing is
    pending) for the next reply to any in-flight request. Returns HEARTH_OK
    with *reply_p set (any status: check hearth_reply_status). A request
    whose deadline passes locally, or that was in flight when the broker
    connection dropped, yields a reply made by the library with status 504
    or 502 and an error text, so every send gets exactly one reply.
    Returns HEARTH_ETIMEOUT if nothing arrived within wait_ms, and
    HEARTH_EINVAL if nothing is pending. Returns HEARTH_EUNREACHABLE when
    there has been no connection to the broker for the connect timeout
    (the requests stay pending and still get their replies).                 */
HEARTH_EXPORT int hearth_client_recv (hearth_client_t *self, int wait_ms,
                                      hearth_reply_t **reply_p);

/*  Number of requests sent and not yet answered.                           */
HEARTH_EXPORT size_t hearth_client_pending (const hearth_client_t *self);

/*  True once a connection to the broker has been established.              */
HEARTH_EXPORT bool hearth_client_connected (hearth_client_t *self);

/*  The underlying ZeroMQ socket, for zmq_poll integration (read only).
    Replies made by the library (local 502/504) do not make it readable:
    poll with a timeout and call hearth_client_recv (self, 0, ...).          */
HEARTH_EXPORT void *hearth_client_socket (hearth_client_t *self);

/* ---------------------------------------------------------------- worker */

/*  What a worker tells the broker about its service. Strings are copied by
    hearth_worker_new; NULL means absent.                                    */
typedef struct {
    const char *service;        /* required, not "mmi." or "hearth."        */
    const char *version;        /* e.g. "1.2.0"                              */
    const char *description;    /* one line for humans                       */
    int concurrency;            /* handler threads, default 1                */
    int credit;                 /* requests held at once, default concurrency*/
    bool idempotent;            /* requests may be resent on worker death    */
    const char *input_schema;   /* JSON Schema text, or NULL                 */
    const char *output_schema;  /* JSON Schema text, or NULL                 */
    const char *example;        /* an example request body, or NULL          */
} hearth_descriptor_t;

typedef struct _hearth_worker_t hearth_worker_t;
typedef struct _hearth_request_t hearth_request_t;
typedef struct _hearth_response_t hearth_response_t;

/*  The request body; valid during the handler call. Never NULL.            */
HEARTH_EXPORT const void *hearth_request_body (const hearth_request_t *self,
                                               size_t *size);
/*  The raw msgpack metadata map; valid during the handler call.            */
HEARTH_EXPORT const void *hearth_request_meta (const hearth_request_t *self,
                                               size_t *size);
/*  Milliseconds left before the caller's deadline (0 once it has passed),
    or -1 if the request carries no deadline.                                */
HEARTH_EXPORT int64_t hearth_request_remaining_ms (const hearth_request_t *self);
/*  1 on the first delivery, 2 when the broker resent it after a death.     */
HEARTH_EXPORT int hearth_request_attempt (const hearth_request_t *self);

/*  Sets the reply body (copied). Returns 0, or -1 out of memory.           */
HEARTH_EXPORT int hearth_response_set_body (hearth_response_t *self, const void *data,
                                            size_t size);
/*  Takes ownership of a malloc'd buffer as the reply body.                 */
HEARTH_EXPORT void hearth_response_take_body (hearth_response_t *self, void *data,
                                              size_t size);
/*  Sets the error text sent with a non-200 status (copied).                */
HEARTH_EXPORT void hearth_response_set_error (hearth_response_t *self, const char *text);

/*  A handler: called on a worker thread with one request; fills response
    and returns the status (200 on success, 400 for bad input, 500 ...).
    Called concurrently from up to `concurrency` threads.                    */
typedef int (hearth_handler_fn) (const hearth_request_t *request,
                                 hearth_response_t *response, void *arg);

/*  Creates a worker for the broker at endpoint. Returns NULL on a bad
    argument (no service, reserved name, bad counts).                        */
HEARTH_EXPORT hearth_worker_t *hearth_worker_new (const char *endpoint,
                                                  const hearth_descriptor_t *descriptor,
                                                  hearth_handler_fn *handler, void *arg);

/*  Destroys a worker that is not running. Idempotent.                      */
HEARTH_EXPORT void hearth_worker_destroy (hearth_worker_t **self_p);

/*  Connects, registers and serves until hearth_worker_stop is called
    (returns HEARTH_OK after finishing in-flight requests) or the broker
    refuses the registration (returns HEARTH_EREJECTED). Survives broker
    restarts and DISCONNECT by reconnecting with backoff.                    */
HEARTH_EXPORT int hearth_worker_run (hearth_worker_t *self);

/*  Asks a running worker to stop. Safe from a signal handler and from any
    thread. Called from a handler, it also orders the goodbye: the worker
    sends DISCONNECT before that handler's reply, so the broker routes
    nothing new to it once the reply frees its credit.                       */
HEARTH_EXPORT void hearth_worker_stop (hearth_worker_t *self);

/*  For concurrency 1 and credit 1 only, before hearth_worker_run: runs the
    handler on the thread that calls hearth_worker_run instead of a handler
    thread, which saves two thread wake-ups per request. A watchdog thread
    keeps heartbeats going while a handler runs long; but run (and a stop)
    then waits for a running handler to return, so use it with handlers
    that end. Returns 0, or HEARTH_EINVAL (a count above 1, or running).    */
HEARTH_EXPORT int hearth_worker_set_inline (hearth_worker_t *self, bool on);

/*  True while registered with a broker (for readiness checks).              */
HEARTH_EXPORT bool hearth_worker_registered (hearth_worker_t *self);

#ifdef __cplusplus
}
#endif

#endif
