/*  hb_broker - the broker's state, and the functions its modules share.
    Internal to broker/; the embedding API is hearth_broker.h.

    The modules, one job each:
      hearth_broker.c  the object, its socket and its loop
      hb_native.c      HMP/1 clients and workers: one handler per command
      hb_mdp.c         MDP/0.1 clients and workers: likewise
      hb_discovery.c   services the broker answers itself (mmi., hearth.)
      hb_dispatch.c    accepting, queueing and dispatching jobs
      hb_reply.c       every answer to a job, by its sink
      hb_timer.c       deadlines, the tick, how long to sleep
      hb_worker.c      workers: states, credit, liveness, command table
      hb_service.c     services: queues, ready lists, linger
      hb_pipeline.c    pipelines run in the broker
      hb_merge.c       a group's JSON merge, on its own thread
      hb_job.c         the job table and its deadline heap
*/
#ifndef HB_BROKER_H_INCLUDED
#define HB_BROKER_H_INCLUDED

#include <signal.h>
#include <czmq.h>
#include "hearth/hearth_proto.h"
#include "hearth_broker.h"
#include "hearth_clock.h"
#include "hearth_route_expr.h"
#include "hearth_log.h"
#include "hearth_meta.h"
#include "hearth_wire.h"
#include "hb_job.h"
#include "hb_service.h"
#include "hb_worker.h"
#include "hb_pipeline.h"
#include "hb_merge.h"

/*  Services with no worker are kept up to this many, so that made-up MDP
    service names cannot grow memory without bound.                         */
#define HB_IDLE_SERVICES_MAX 4096
/*  Workers' descriptors held in all, so that many registrations of large
    ones cannot grow memory without bound (PROTOCOL.md 7).                  */
#define HB_DESCRIPTOR_BYTES_MAX (64 * 1024 * 1024)

struct _hearth_broker_t {
    hearth_broker_config_t config;
    void *context;
    void *router;
    int router_fd;              /* its ZMQ_FD, polled directly              */
    hb_merge_t *merge;          /* the merge thread of pipelines, owned     */
    int merge_fd;               /* its pipe's ZMQ_FD, polled with router_fd */
    unsigned sends;             /* messages sent since the last read that
                                   ended at EAGAIN (ZMQ_FD edge, below)     */
    zhashx_t *workers;          /* hb_identity_t -> hb_worker_t *, owned    */
    zhashx_t *services;         /* name -> hb_service_t *, owned            */
    zhashx_t *pipelines;        /* name -> route expression (char *), owned */
    zlistx_t *idle;             /* hb_service_t * with no workers, longest
                                   idle first, not owned (hb_service.h)     */
    uint64_t registrations;     /* workers registered so far                */
    uint64_t random;            /* xorshift state, seeded from the kernel   */
    size_t descriptor_bytes;    /* of all registered workers' descriptors   */
    hb_jobs_t *jobs;            /* every live job, owned                    */
    size_t open_jobs;           /* accepted and not yet answered            */
    volatile sig_atomic_t stop_requested;
    bool draining;
    int64_t drain_until;
    int64_t now;                /* ms, refreshed for every message          */
    int64_t next_tick;          /* heartbeat, expiry and linger checks      */
    hearth_meta_writer_t writer;/* reused for every metadata frame we build */
    hearth_broker_stats_t stats;
    hearth_log_limit_t drop_log;    /* rate limits on lines that input  */
    hearth_log_limit_t mdp_log;     /* or a flood could repeat: drops,  */
    hearth_log_limit_t refusal_log; /* MDP answers dropped, refusals    */
};

/*  Frame indices of a message as the ROUTER delivers it: identity first,
    then the protocol's frame 0 (delimiter), 1 (header), 2, ...              */
#define HB_IDENTITY 0
#define HB_FRAME(n) ((n) + 1)

/* ---------------------------------------------------- hearth_broker.c */

/*  Drops a message: counts it and logs why with a sanitised sample of the
    frame that was wrong (rate limited).                                     */
void hb_drop (hearth_broker_t *self, hearth_frames_t *msg, int frame,
              const char *why);
/*  The next of the broker's random numbers (xorshift64*, seeded from
    getrandom): unpredictable to peers, for worker ids.                      */
uint64_t hb_broker_random (hearth_broker_t *self);
/*  Sends parts to the peer whose identity is first; logs failures other
    than EHOSTUNREACH and EAGAIN, which callers handle. 0 or -1 (errno).    */
int hb_send (hearth_broker_t *self, hearth_part_t *parts, int count);

/* ------------------------------------------------------- hb_dispatch.c */

/*  Accepts a job: counts it as open (it will be answered exactly once)
    and against the broker-wide memory budget, max_pending_bytes. Past the
    budget, answers 503, releases the job and returns false.                */
bool hb_dispatch_accept (hearth_broker_t *self, hb_job_t *job);
/*  Accepts a job for its service, queues it and dispatches. On refusal
    (budget, queue full, overloaded: PROTOCOL.md 5.1) answers the job
    itself (503) and releases it.                                           */
void hb_dispatch_submit (hearth_broker_t *self, hb_job_t *job);
/*  Sends queued jobs of service to its ready workers while both last.      */
void hb_dispatch_service (hearth_broker_t *self, hb_service_t *service);

/* ---------------------------------------------------------- hb_reply.c */

/*  What a job is answered with: a status and, for the body, either one
    frame (moved) or frames [first, count) of a worker's message.           */
typedef struct {
    int status;
    const char *error;          /* broker-made error text, or NULL          */
    zmq_msg_t *worker_meta;     /* the worker's metadata map, or NULL       */
    zmq_msg_t *body;            /* one body frame (moved), or NULL          */
    hearth_frames_t *frames;    /* or the worker's message, or NULL         */
    int first;                  /* its first body frame                      */
    /*  Adds metadata of the job's own (pipelines: the trace), or NULL.     */
    void (*extend) (hearth_meta_writer_t *writer, void *arg);
    void *arg;
} hb_outcome_t;

/*  Answers job, once, by its sink: a native client gets a REPLY with the
    status and metadata; an MDP client the body on 200 (else nothing: MDP
    has no error reply; logged); a pipeline takes the stage's outcome.
    A job already answered gets nothing. Does not release the job.          */
void hb_reply_deliver (hearth_broker_t *self, hb_job_t *job,
                       hb_outcome_t *outcome);
/*  Answers with a worker's reply: status, its metadata frame (or NULL)
    and body frames [first, ...) of msg. Does not release the job.          */
void hb_reply_relay (hearth_broker_t *self, hb_job_t *job, int status,
                     zmq_msg_t *meta, hearth_frames_t *msg, int first);
/*  Answers with a broker-made reply: status, error text or NULL, metadata
    added by extend (may be NULL), and body (moved; NULL for none).          */
void hb_reply_answer (hearth_broker_t *self, hb_job_t *job, int status,
                      const char *error,
                      void (*extend) (hearth_meta_writer_t *writer, void *arg),
                      void *arg, zmq_msg_t *body);
/*  Answers with a broker-made error; the job lives on (held by a worker). */
void hb_reply_error (hearth_broker_t *self, hb_job_t *job, int status,
                     const char *format, ...)
    __attribute__ ((format (printf, 4, 5)));
/*  Answers with a broker-made error, takes the job off its queue and its
    worker (credit back) and releases it.                                    */
void hb_reply_fail (hearth_broker_t *self, hb_job_t *job, int status,
                    const char *format, ...)
    __attribute__ ((format (printf, 4, 5)));
/*  A native reply made without a job (errors before a job exists, broker
    services): status, error text (or NULL), body.                          */
void hb_reply_direct (hearth_broker_t *self, hearth_frames_t *request,
                      int status, const char *error, const void *body,
                      size_t size);

/* ---------------------------------------------------------- hb_timer.c */

/*  Answers every job whose deadline has passed (504).                     */
void hb_timer_expire (hearth_broker_t *self);
/*  Heartbeats, liveness and linger; sets the next tick.                    */
void hb_timer_tick (hearth_broker_t *self);
/*  Milliseconds from now until the next timer (a deadline, the tick, the
    end of the drain), at most 100.                                          */
int hb_timer_wait_ms (hearth_broker_t *self, int64_t now);

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
