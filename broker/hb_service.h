/*  hb_service - a service: its FIFO queue of jobs and its workers with free
    credit in least-recently-used order.
*/
#ifndef HB_SERVICE_H_INCLUDED
#define HB_SERVICE_H_INCLUDED

#include <czmq.h>
#include "hearth/hearth_proto.h"
#include "hearth_wire.h"
#include "hb_job.h"

typedef struct _hearth_broker_t hearth_broker_t;

struct _hb_service_t {
    char *name;
    zlistx_t *queue;            /* hb_job_t *, FIFO, not owned              */
    zlistx_t *ready;            /* hb_worker_t * with free credit, LRU first*/
    size_t workers;             /* registered workers, all protocols        */
    size_t mdp_workers;         /* of which MDP/0.1                         */
    size_t draining;            /* of which finishing after DISCONNECT      */
    size_t credit;              /* sum of the workers' credit               */
    size_t in_flight;           /* jobs held by workers                     */
    int64_t empty_since;        /* ms when the last worker left, or 0       */
    void *idle_handle;          /* in the broker's idle list while it has
                                   no workers, or NULL                      */
    bool offered;               /* has had a worker: native requests and
                                   pipelines may wait for one (PROTOCOL 5.1) */
    hb_worker_t *publisher;     /* whose descriptor discovery shows: the
                                   longest registered native worker, so a
                                   newcomer cannot take it over; or NULL    */
    size_t idempotent_workers;  /* workers whose descriptor says idempotent */
    uint64_t requests, errors;  /* counters for discovery                   */
    double run_ms;              /* mean ms from dispatch to reply (moving)  */
    uint64_t completions;       /* replies that run_ms has learnt from      */
};

/*  The service-time estimate learns from this many replies before the
    broker refuses anything on its word (PROTOCOL.md 5.1).                  */
#define HB_SERVICE_ESTIMATE_MIN 8

/*  Creates a service named name (copied). NULL out of memory.              */
hb_service_t *hb_service_new (const char *name);
/*  Destroys a service whose queue and ready list are empty. Idempotent.    */
void hb_service_destroy (hb_service_t **self_p);

/*  Queue operations keep job->queue_handle in step.                        */
int hb_service_enqueue (hb_service_t *self, hb_job_t *job);
int hb_service_enqueue_front (hb_service_t *self, hb_job_t *job);
hb_job_t *hb_service_dequeue (hb_service_t *self);
void hb_service_unqueue (hb_service_t *self, hb_job_t *job);
size_t hb_service_queued (hb_service_t *self);

/*  True if every worker serving the service declares it idempotent, so
    any of its requests may run again (PROTOCOL.md 5.4).                    */
bool hb_service_idempotent (const hb_service_t *self);

/*  Learns from one reply: a worker held a job for run_ms.                  */
void hb_service_completed (hb_service_t *self, int64_t run_ms);
/*  The ms a request queued now can expect to wait for its reply: until
    every job ahead of it, queued or at a worker, has finished at the
    service's pace (credit jobs at a time, run_ms each), then its own run.
    -1 when there is no such wait to judge by: a worker has free credit,
    the service has no credit at all (linger applies), or fewer than
    HB_SERVICE_ESTIMATE_MIN replies have been seen.                         */
int64_t hb_service_expected_ms (hb_service_t *self);

/* ----------------------------------- the broker's services (need self) */

typedef enum {
    HB_FIND,                    /* only an existing service                 */
    HB_FIND_OFFERED,            /* only one that has had a worker: MDP
                                   requests alone do not make a service     */
    HB_FIND_OR_QUEUE,           /* create one for a client (MDP), bounded   */
    HB_FIND_OR_CREATE           /* create one for a registering worker      */
} hb_lookup_t;

/*  Finds a service by name, creating it as mode allows. NULL if absent,
    over the bound of worker-less services, or out of memory.               */
hb_service_t *hb_service_lookup (hearth_broker_t *self, const char *name,
                                 hb_lookup_t mode);

/*  Copies a service name frame into name: 1 to 255 bytes with no NUL or
    control characters, so it is a safe C string and safe to log. 0 or -1. */
int hb_service_name (hearth_frames_t *msg, int frame,
                     char name[HEARTH_SERVICE_MAX + 1]);

/*  Moves a service in or out of the broker's worker-less services, kept
    longest idle first. Past HB_IDLE_SERVICES_MAX of them, the longest idle
    one with an empty queue (never service itself) is forgotten at once: a
    peer registering and leaving under ever new names cannot grow memory
    until the next linger check.                                             */
void hb_service_set_idle (hearth_broker_t *self, hb_service_t *service,
                          bool idle);

/*  Worker-less services: after linger_ms their native callers get 503
    (the others wait for their deadline, hb_job_waits_for_workers), and an
    empty one is forgotten. Called on each tick.                            */
void hb_service_linger_all (hearth_broker_t *self);

#endif
