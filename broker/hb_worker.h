/*  hb_worker - a worker as the broker sees it, and everything the broker
    does to workers: registration, the credit it has, its state, liveness,
    removal, and the command table both worker protocols are served by.

    A worker's life, in states (schemas/PROTOCOL.md 4):

        DETACHED --attach--> READY <--hold/release--> FULL
                               |  ^                     |
                   send failed |  | it speaks again     |
                               v  |                     |
                             RESTED                     |
        any registered state --DISCONNECT holding jobs--> DRAINING
        any state --remove--> DETACHED (then destroyed)

    READY: it has free credit and is in its service's ready list, least
    recently used first. FULL: it holds as many jobs as its credit. RESTED:
    a send to it failed (its pipe is full: e.g. it was stopped with SIGSTOP),
    so it gets no work until any message from it shows it reads again; then
    it is READY or FULL by its credit. DRAINING: it said DISCONNECT while
    holding jobs; it finishes them and gets no more (PROTOCOL.md 4.5).
    hb_worker_set_state is the only function that changes the state, and
    with it the ready-list membership and the service's draining count.
*/
#ifndef HB_WORKER_H_INCLUDED
#define HB_WORKER_H_INCLUDED

#include <czmq.h>
#include "hearth_wire.h"
#include "hb_job.h"

typedef struct _hearth_broker_t hearth_broker_t;

/*  A ROUTER identity, the key of the worker table.                         */
typedef struct {
    uint8_t size;
    uint8_t bytes[HB_IDENTITY_MAX];
} hb_identity_t;

/*  Hex digits of a worker's id (64 random bits).                          */
#define HB_WORKER_ID_SIZE 16

typedef enum {
    HB_WORKER_DETACHED = 0,     /* not (or no longer) registered            */
    HB_WORKER_READY,            /* free credit: in the service's ready list */
    HB_WORKER_FULL,             /* holds as many jobs as its credit         */
    HB_WORKER_RESTED,           /* a send failed: no work until it speaks   */
    HB_WORKER_DRAINING          /* finishing its jobs after DISCONNECT      */
} hb_worker_state_t;

struct _hb_worker_t {
    hb_identity_t identity;
    char id[HB_WORKER_ID_SIZE + 1];     /* opaque, the broker's own: for
                                           logs, REGISTERED and metadata;
                                           never the routing id, which would
                                           tell a peer libzmq's next ones   */
    hb_proto_t proto;
    hb_worker_state_t state;    /* changed by hb_worker_set_state only      */
    hb_service_t *service;      /* NULL until attached                      */
    size_t credit;              /* jobs it may hold                         */
    zlistx_t *jobs;             /* hb_job_t * it holds, not owned           */
    void *ready_handle;         /* in service->ready while READY            */
    int64_t heard_at;           /* ms of its last message                   */
    uint8_t *descriptor;        /* its READY descriptor (msgpack), or NULL  */
    size_t descriptor_size;
    uint64_t registered;        /* registration order, for the publisher    */
    char *version;              /* from its descriptor, or NULL             */
    bool idempotent;            /* from its descriptor                      */
};

/* ------------------------------------------------- the worker object */

/*  A zhashx keyed by hb_identity_t (keys copied), values not owned.        */
zhashx_t *hb_worker_table_new (void);
/*  Fills identity from a ROUTER identity frame; -1 if too long or empty.   */
int hb_identity_set (hb_identity_t *identity, const void *data, size_t size);

/*  A DETACHED worker with credit 1. NULL out of memory.                    */
hb_worker_t *hb_worker_new (const hb_identity_t *identity, hb_proto_t proto);
/*  Keeps a copy of the worker's descriptor. 0, or -1 out of memory.       */
int hb_worker_set_descriptor (hb_worker_t *self, const void *data, size_t size);
/*  Destroys a worker that holds no jobs. Idempotent.                        */
void hb_worker_destroy (hb_worker_t **self_p);

/*  The state's name, for logs and tests.                                   */
const char *hb_worker_state_name (hb_worker_state_t state);

/*  Moves the worker to state: joins its service's ready list (at the end)
    on entering READY, leaves it on leaving READY, and keeps the service's
    draining count. The worker must have a service unless state is
    DETACHED. Entering the state it is in changes nothing.                  */
void hb_worker_set_state (hb_worker_t *self, hb_worker_state_t state);

/*  READY or FULL, whichever its held jobs and credit make it.              */
hb_worker_state_t hb_worker_credit_state (hb_worker_t *self);

/*  Records that a READY worker now holds job: FULL once its credit is
    used, else READY again at the end of the ready list (least recently
    used first). -1 out of memory (nothing changed).                         */
int hb_worker_hold (hb_worker_t *self, hb_job_t *job);

/*  Takes job off the worker (it replied, or the job failed): its credit is
    free again, so a FULL worker becomes READY.                              */
void hb_worker_release (hb_worker_t *self, hb_job_t *job);

/*  The worker was heard from at now: a RESTED worker reads again and gets
    its credit state back. True if that made it READY.                      */
bool hb_worker_heard (hb_worker_t *self, int64_t now);

/* ------------------------------------- the broker's workers (need self) */

/*  Registers a DETACHED worker for service: table, counts, READY.          */
int hb_worker_attach (hearth_broker_t *self, hb_worker_t *worker,
                      hb_service_t *service);
/*  The registered worker whose identity is the message's, or NULL.         */
hb_worker_t *hb_worker_lookup (hearth_broker_t *self, hearth_frames_t *msg);
/*  A send to the worker failed with errno: the connection is gone
    (EHOSTUNREACH: removed) or its pipe is full (RESTED).                   */
void hb_worker_send_failed (hearth_broker_t *self, hb_worker_t *worker);
/*  After a worker's REPLY: removes a draining worker that holds nothing
    more, else dispatches its service's queue.                              */
void hb_worker_replied (hearth_broker_t *self, hb_worker_t *worker);
/*  Removes a worker: its jobs are resent (idempotent, first attempt) or
    answered 502; sends DISCONNECT if asked; destroys it.                    */
void hb_worker_remove (hearth_broker_t *self, hb_worker_t *worker,
                       const char *reason, bool disconnect);
/*  Sends DISCONNECT to identity in protocol proto.                          */
void hb_worker_send_disconnect (hearth_broker_t *self,
                                const hb_identity_t *identity, hb_proto_t proto);
/*  Heartbeats every live worker and removes the dead: silent for liveness
    heartbeats, or (MDP, which cannot heartbeat while busy) busy past its
    request's deadline as well. Called on each tick.                         */
void hb_worker_check_all (hearth_broker_t *self);

/* ---------------------------------------------------- command tables */

/*  A worker command handler. worker is NULL for a registering command (the
    sender is not registered), else the registered worker.                   */
typedef void (hb_worker_fn) (hearth_broker_t *self, hb_worker_t *worker,
                             hearth_frames_t *msg);

typedef struct {
    int command;                /* the command byte                          */
    const char *name;           /* for logs                                  */
    bool registers;             /* READY: only from an unregistered peer    */
    hb_worker_fn *handler;
} hb_worker_command_t;

/*  Serves one worker message of protocol proto by its command table
    (ended by a NULL handler). The rules both protocols share are here:
    any message is a sign of life; READY from a registered worker is a
    protocol error (removed with DISCONNECT); any other command from a peer
    that is not registered in this protocol gets DISCONNECT so it registers
    again (e.g. after a broker restart); an unknown command is dropped.     */
void hb_worker_message (hearth_broker_t *self, hearth_frames_t *msg,
                        hb_proto_t proto, const hb_worker_command_t *table);

/*  HEARTBEAT, for either protocol: being heard is all it does.             */
void hb_worker_on_heartbeat (hearth_broker_t *self, hb_worker_t *worker,
                             hearth_frames_t *msg);

/*  A native DISCONNECT: a worker holding jobs drains them (PROTOCOL.md
    4.5); one holding none is removed and gets DISCONNECT back.             */
void hb_worker_on_disconnect_native (hearth_broker_t *self, hb_worker_t *worker,
                                     hearth_frames_t *msg);

#endif
