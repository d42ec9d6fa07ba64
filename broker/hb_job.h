/*  hb_job - one client request inside the broker, from arrival to reply.

    Jobs are found by id through a slot table: the id is the slot index in
    its low 32 bits and a generation in the high 32, so a stale id (a late
    reply after a resend or a deadline) can never reach a newer job that
    reuses the slot, and lookup costs no hashing.
*/
#ifndef HB_JOB_H_INCLUDED
#define HB_JOB_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>
#include <zmq.h>

typedef struct _hb_service_t hb_service_t;
typedef struct _hb_worker_t hb_worker_t;

/*  The protocol a peer (client or worker) speaks.                           */
typedef enum { HB_PROTO_NATIVE = 0, HB_PROTO_MDP = 1 } hb_proto_t;

/*  Where a job's answer goes: to the native (HMP/1) or MDP/0.1 client that
    sent it, or to the pipeline the job is one stage of (hb_pipeline.h).
    hb_reply.c is the one place that decides by it.                          */
typedef enum {
    HB_SINK_NATIVE = 0,
    HB_SINK_MDP,
    HB_SINK_PIPELINE
} hb_sink_t;

typedef struct _hb_pipeline_t hb_pipeline_t;

#define HB_IDENTITY_MAX 255
/*  Client identity and request id kept in the job itself up to this many
    bytes together; longer ones get an allocation of their size, so a job
    costs what its peer's ids need, not 2 x 255 bytes.                       */
#define HB_JOB_INLINE_ADDRESSES 24

typedef struct _hb_job_t {
    uint64_t id;
    hb_sink_t sink;                     /* who gets the answer              */
    uint8_t *client;                    /* ROUTER identity of the client,
                                           in addresses                     */
    uint8_t *request_id;                /* native request id, echoed, after
                                           the client's in addresses        */
    uint8_t client_len;
    uint8_t request_id_len;
    uint8_t *addresses;                 /* both: inline_addresses when they
                                           fit (libzmq's ids are 5 bytes),
                                           else allocated to their size     */
    uint8_t inline_addresses[HB_JOB_INLINE_ADDRESSES];
    hb_service_t *service;
    zmq_msg_t meta;                     /* client's metadata map (native)   */
    zmq_msg_t body;                     /* first (usually only) body frame  */
    zmq_msg_t *more;                    /* further MDP body frames, or NULL */
    int more_count;
    int64_t received_at;                /* ms, monotonic                    */
    int64_t dispatched_at;
    int64_t deadline_at;
    bool idempotent;                    /* as the client flagged it         */
    bool answered;                      /* client already has its reply     */
    int attempt;                        /* 1, or 2 once resent              */
    hb_worker_t *worker;                /* holding it, or NULL              */
    hb_pipeline_t *pipeline;            /* the pipeline it runs (a client's
                                           job) or is a stage of (sink
                                           PIPELINE), or NULL               */
    int pipeline_slot;                  /* place in its stage's group       */
    void *queue_handle;                 /* in service queue, or NULL        */
    void *worker_handle;                /* in worker's job list, or NULL    */
    size_t heap_index;                  /* in the deadline heap, or SIZE_MAX*/
    size_t bytes;                       /* counted by hb_jobs_hold, or 0    */
} hb_job_t;

/*  The table of live jobs and their deadline heap.                         */
typedef struct _hb_jobs_t hb_jobs_t;

hb_jobs_t *hb_jobs_new (void);
/*  Destroys the table and every job still in it.                           */
void hb_jobs_destroy (hb_jobs_t **self_p);

/*  Creates a job, assigns its id and adds it to the table and the deadline
    heap. meta and body are initialised empty. Returns NULL out of memory.  */
hb_job_t *hb_jobs_create (hb_jobs_t *self, int64_t deadline_at);
/*  Sets the job's client identity and (native) request id, copied: both
    at most 255 bytes. Returns 0, or -1 out of memory.                       */
int hb_job_set_addresses (hb_job_t *job, const void *client, size_t client_len,
                          const void *request_id, size_t request_id_len);

/*  Removes a job from the table and heap and frees it. Nulls *job_p.       */
void hb_jobs_release (hb_jobs_t *self, hb_job_t **job_p);
/*  The live job with this id, or NULL.                                     */
hb_job_t *hb_jobs_find (hb_jobs_t *self, uint64_t id);
/*  Number of live jobs.                                                    */
size_t hb_jobs_count (hb_jobs_t *self);

/*  Counts the job's memory (itself and its frames, as they are now) in the
    table's total, once; hb_jobs_release takes it out again. Returns the
    new total.                                                               */
size_t hb_jobs_hold (hb_jobs_t *self, hb_job_t *job);

/*  The job with the earliest deadline still in the heap, or NULL.          */
hb_job_t *hb_jobs_earliest (hb_jobs_t *self);
/*  Takes a job out of the deadline heap (no more expiry for it).           */
void hb_jobs_forget_deadline (hb_jobs_t *self, hb_job_t *job);

/*  Calls fn for every live job (for shutdown). fn may not release jobs.     */
void hb_jobs_each (hb_jobs_t *self, void (*fn) (hb_job_t *job, void *arg),
                   void *arg);

/*  True if a job waits for a worker of a service that has none: MDP/0.1
    clients do (RFC 7) and so do pipeline stages (the pipeline's deadline
    decides); a native client learns after linger_ms (PROTOCOL.md 5).       */
static inline bool
hb_job_waits_for_workers (const hb_job_t *job)
{
    return job->sink != HB_SINK_NATIVE;
}

/*  True if whoever waits for the job can be told it failed: a native
    client or a pipeline; an MDP/0.1 client cannot (MDP has no error reply),
    so refusing it early would only lose it silently.                        */
static inline bool
hb_job_hears_errors (const hb_job_t *job)
{
    return job->sink != HB_SINK_MDP;
}

/*  Job ids on the wire are 8 bytes big-endian.                              */
void hb_job_id_encode (uint64_t id, uint8_t out[8]);
/*  Decodes an 8-byte id; returns 0, or -1 if size is not 8.                */
int hb_job_id_decode (const void *data, size_t size, uint64_t *id);

#endif
