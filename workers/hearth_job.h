/*  hearth_job - one request held by a worker, from the broker's REQUEST to
    our REPLY, and the request/response views a handler gets of it.

    Jobs live in a fixed pool allocated when the worker starts, so the
    per-request path allocates nothing but the reply body. A job is touched
    by one thread at a time: a thread holding the worker's lock fills it and
    hands its index to a handler thread through the guarded job queue
    (hearth_jobq); the handler runs it, then takes the worker's lock to send
    the reply and free it. The two mutexes publish everything written
    before each hand-over.
*/
#ifndef HEARTH_JOB_H_INCLUDED
#define HEARTH_JOB_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>
#include <zmq.h>
#include "hearth/hearth.h"
#include "hearth_meta.h"

/*  What the handler writes; sent back once it returns.                    */
struct _hearth_response_t {
    void *body;                 /* malloc'd, owned; NULL for empty          */
    size_t size;
    char *error;                /* malloc'd, owned, or NULL                 */
};

/*  What the handler reads; points into the job's frames.                   */
struct _hearth_request_t {
    zmq_msg_t meta;
    zmq_msg_t body;
    int64_t deadline_at;        /* monotonic ms, or -1 for no deadline      */
    int attempt;
};

typedef struct {
    hearth_request_t request;
    hearth_response_t response;
    zmq_msg_t job_id;           /* the broker's id, echoed in the REPLY     */
    uint64_t epoch;             /* connection it came on; replies to an
                                   older connection are dropped             */
    int status;
    bool held;                  /* frames initialised (not in the free list)*/
} hearth_job_t;

/*  Takes the job-id, metadata and body frames of a REQUEST (moved out of
    the caller's messages, which are left empty) and reads `deadline` and
    `attempt` from the metadata. Returns 0, or -2 if the metadata is not a
    well-formed map or a key has the wrong type (the frames are then left
    with the caller).                                                        */
int hearth_job_accept (hearth_job_t *self, zmq_msg_t *job_id, zmq_msg_t *meta,
                       zmq_msg_t *body, int64_t now, uint64_t epoch);

/*  Runs handler on the job and records the status it returned (invalid
    statuses become 500, with an error text saying so). A job whose
    deadline has passed is not run: it fails with 504.                       */
void hearth_job_run (hearth_job_t *self, hearth_handler_fn *handler, void *arg);

/*  Sets a status and error without running the handler (e.g. 504 when the
    deadline passed before a handler was free).                              */
void hearth_job_fail (hearth_job_t *self, int status, const char *error);

/*  Sends the REPLY for the job on socket: the job-id and body frames are
    moved (zero copy); writer is scratch space for the metadata. If the
    whole reply would exceed max_message the body is replaced by a 500.
    Returns 0, or -1 with errno from libzmq.                                 */
int hearth_job_reply (hearth_job_t *self, void *socket,
                      hearth_meta_writer_t *writer, size_t max_message);

/*  Releases what the job holds and makes it reusable. Idempotent.          */
void hearth_job_release (hearth_job_t *self);

#endif
