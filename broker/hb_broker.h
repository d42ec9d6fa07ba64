/*  hb_broker - the broker's state and the mechanisms its protocol handlers
    share: submitting, dispatching and answering jobs, removing workers.
    Internal to broker/; the embedding API is hearth_broker.h.
*/
#ifndef HB_BROKER_H_INCLUDED
#define HB_BROKER_H_INCLUDED

#include <signal.h>
#include <czmq.h>
#include "hearth/hearth_proto.h"
#include "hearth_broker.h"
#include "hearth_clock.h"
#include "hearth_route.h"
#include "hearth_log.h"
#include "hearth_meta.h"
#include "hearth_wire.h"
#include "hb_job.h"
#include "hb_service.h"
#include "hb_worker.h"
#include "hb_route.h"

/*  Services with no worker are kept up to this many, so that made-up MDP
    service names cannot grow memory without bound.                         */
#define HB_IDLE_SERVICES_MAX 4096

struct _hearth_broker_t {
    hearth_broker_config_t config;
    void *context;
    void *router;
    int router_fd;              /* its ZMQ_FD, polled directly              */
    unsigned sends;             /* messages sent since the last read that
                                   ended at EAGAIN (ZMQ_FD edge, below)     */
    zhashx_t *workers;          /* hb_identity_t -> hb_worker_t *, owned    */
    zhashx_t *services;         /* name -> hb_service_t *, owned            */
    zhashx_t *pipelines;        /* name -> route expression (char *), owned */
    size_t idle_services;       /* services with no workers                 */
    hb_jobs_t *jobs;            /* every live job, owned                    */
    size_t open_jobs;           /* accepted and not yet answered            */
    volatile sig_atomic_t stop_requested;
    bool draining;
    int64_t drain_until;
    int64_t now;                /* ms, refreshed for every message          */
    int64_t next_tick;          /* heartbeat, expiry and linger checks      */
    hearth_meta_writer_t writer;/* reused for every metadata frame we build */
    hearth_broker_stats_t stats;
    int64_t log_window;         /* rate limit on logging bad input          */
    int log_count;
    uint64_t log_suppressed;
};

/*  Frame indices of a message as the ROUTER delivers it: identity first,
    then the protocol's frame 0 (delimiter), 1 (header), 2, ...              */
#define HB_IDENTITY 0
#define HB_FRAME(n) ((n) + 1)

/* -------------------------------------------------------- hb_broker.c */

/*  Drops a message: counts it and logs why with a sanitised sample of the
    frame that was wrong (rate limited).                                     */
void hb_drop (hearth_broker_t *self, hearth_frames_t *msg, int frame,
              const char *why);
/*  Sends parts to the peer whose identity is first; logs failures other
    than EHOSTUNREACH, which callers handle. 0 or -1 (errno).               */
int hb_send (hearth_broker_t *self, hearth_part_t *parts, int count);

/* ------------------------------------------------------- hb_routing.c */

typedef enum {
    HB_FIND,                    /* only an existing service                 */
    HB_FIND_OR_QUEUE,           /* create one for a client (MDP), bounded   */
    HB_FIND_OR_CREATE           /* create one for a registering worker      */
} hb_lookup_t;

/*  Finds a service by name, creating it as mode allows. NULL if absent,
    over the bound of worker-less services, or out of memory.               */
hb_service_t *hb_service_lookup (hearth_broker_t *self, const char *name,
                                 hb_lookup_t mode);
/*  Queues a job for its service and dispatches. On refusal (queue full)
    answers the job itself (503 or drop for MDP) and releases it.            */
void hb_submit (hearth_broker_t *self, hb_job_t *job);
/*  Sends queued jobs of service to its ready workers while both last.      */
void hb_dispatch (hearth_broker_t *self, hb_service_t *service);
/*  Answers a job with a broker-made error (native: REPLY with status and
    error text; MDP: logged and dropped, MDP has no error reply), detaches
    it from queue and worker and releases it.                                */
void hb_fail (hearth_broker_t *self, hb_job_t *job, int status,
              const char *format, ...) __attribute__ ((format (printf, 4, 5)));
/*  Answers job's client (native or MDP; an MDP client only on 200) with a
    broker-made reply: status, error text or NULL, extra metadata added by
    extend (may be NULL), and body (moved; NULL for an empty body).         */
void hb_answer (hearth_broker_t *self, hb_job_t *job, int status,
                const char *error,
                void (*extend) (hearth_meta_writer_t *writer, void *arg),
                void *arg, zmq_msg_t *body);
/*  Answers the client of job with a worker's reply: status, the worker's
    metadata frame (may be NULL) and body frames [first, last) of msg, or
    no body if msg is NULL. Does not release the job.                        */
void hb_relay_reply (hearth_broker_t *self, hb_job_t *job, int status,
                     zmq_msg_t *meta, hearth_frames_t *msg, int first);
/*  A native reply made without a job (errors before a job exists, broker
    services): status, error text (or NULL), body.                          */
void hb_reply_direct (hearth_broker_t *self, hearth_frames_t *request,
                      int status, const char *error, const void *body,
                      size_t size);
/*  Registers a new worker for service: table, counts, ready list.           */
int hb_worker_attach (hearth_broker_t *self, hb_worker_t *worker,
                      hb_service_t *service);
/*  The worker returned a job: credit back, job off its list.               */
void hb_worker_job_done (hearth_broker_t *self, hb_worker_t *worker,
                         hb_job_t *job);
/*  After a worker's REPLY: removes a draining worker that holds nothing
    more, else dispatches its service's queue.                              */
void hb_worker_replied (hearth_broker_t *self, hb_worker_t *worker);
/*  Removes a worker: its jobs are resent (idempotent, first attempt) or
    answered 502; sends DISCONNECT if asked; destroys it.                    */
void hb_worker_remove (hearth_broker_t *self, hb_worker_t *worker,
                       const char *reason, bool disconnect);
/*  Sends a worker DISCONNECT in its protocol.                              */
void hb_worker_send_disconnect (hearth_broker_t *self,
                                const hb_identity_t *identity, hb_proto_t proto);
/*  Handlers of the two worker commands whose frames differ by protocol.   */
typedef void (hb_ready_fn) (hearth_broker_t *self, hearth_frames_t *msg);
typedef void (hb_reply_fn) (hearth_broker_t *self, hb_worker_t *worker,
                            hearth_frames_t *msg);

/*  Handles a worker message of either protocol (their command bytes are
    the same): HEARTBEAT and DISCONNECT here, READY and REPLY by the given
    handlers; an unexpected command gets DISCONNECT (RFC 7).                 */
void hb_worker_message (hearth_broker_t *self, hearth_frames_t *msg,
                        hb_proto_t proto, hb_ready_fn *ready, hb_reply_fn *reply);
/*  Copies a service name frame into name: 1 to 255 bytes with no NUL or
    control characters, so it is a safe C string and safe to log. 0 or -1. */
int hb_service_name (hearth_frames_t *msg, int frame,
                     char name[HEARTH_SERVICE_MAX + 1]);
/*  The route for a requested name: a pipeline's, or the name itself if it
    is a route expression; NULL for a plain service.                         */
const char *hb_route_for (hearth_broker_t *self, const char *name);
/*  Starts a route for a job made from a client's request for name (a
    pipeline, or the route itself). Answers it with 400 if the route does
    not parse, or 404 naming a stage's unknown service.                       */
void hb_submit_route (hearth_broker_t *self, hb_job_t *job, const char *name,
                      const char *route);
/*  The worker registered with this identity, or NULL.                      */
hb_worker_t *hb_worker_lookup (hearth_broker_t *self, hearth_frames_t *msg);
/*  Deadlines, heartbeats, linger: called from the loop.                     */
void hb_expire_deadlines (hearth_broker_t *self);
void hb_tick (hearth_broker_t *self);
/*  Shutdown: answers every job left with 503 and disconnects all workers.  */
void hb_shutdown (hearth_broker_t *self);

/* -------------------------------------------------------- hb_native.c */
void hb_native_client (hearth_broker_t *self, hearth_frames_t *msg);
void hb_native_worker (hearth_broker_t *self, hearth_frames_t *msg);

/* ----------------------------------------------------------- hb_mdp.c */
void hb_mdp_client (hearth_broker_t *self, hearth_frames_t *msg);
void hb_mdp_worker (hearth_broker_t *self, hearth_frames_t *msg);

/* ----------------------------------------------------- hb_discovery.c */
/*  True if name belongs to the broker (mmi. or hearth.).                    */
bool hb_is_reserved (const char *name);
/*  Answers a broker-owned service for a native (proto NATIVE) or MDP
    client; msg is the request, body its body frame index.                   */
void hb_discovery (hearth_broker_t *self, hearth_frames_t *msg, hb_proto_t proto,
                   const char *service, int body);

#endif
