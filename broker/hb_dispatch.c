/*  hb_dispatch - a job's way from arrival to a worker: the broker-wide
    memory budget and the service's queue bound, the FIFO queue, and
    dispatch to the least recently used worker with free credit, in the
    worker's protocol.
*/
#include "hb_broker.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>

/*  Keys the broker sets in request metadata for the worker.                */
static const char *const s_request_keys[] = {
    HEARTH_META_DEADLINE, HEARTH_META_ATTEMPT, NULL
};

bool
hb_dispatch_accept (hearth_broker_t *self, hb_job_t *job)
{
    self->open_jobs++;
    self->stats.requests++;
    /*  Per-service queue bounds alone would let many services, or huge
        messages, hold more than the machine has.                             */
    size_t held = hb_jobs_hold (self->jobs, job);
    if (held <= self->config.max_pending_bytes)
        return true;
    hb_reply_fail (self, job, HEARTH_STATUS_UNAVAILABLE,
                   "the broker holds its limit of %zu bytes of requests "
                   "(max_pending_bytes): try again later",
                   self->config.max_pending_bytes);
    return false;
}

/*  Refuses (503, true) a job that would wait out its deadline: one the
    service's recent pace says cannot be answered in time, so its caller
    learns now rather than after the whole deadline, and a worker never
    spends a run on it. Only a judgement, so only made when it is safe to
    be wrong: with a free worker, without enough replies to judge by, or
    for an MDP client, who cannot be told and would lose the request
    silently (PROTOCOL.md 5.1), the job is admitted as before.               */
static bool
s_overloaded (hearth_broker_t *self, hb_job_t *job)
{
    hb_service_t *service = job->service;
    int64_t remaining = job->deadline_at - self->now;
    if (!hb_job_hears_errors (job) || remaining <= 0)
        return false;           /* an expired one gets its 504 (5.3)        */
    /*  Only a fifth of the budget is left for the estimate's error: a
        worker that slows for a while would otherwise make every request
        admitted at the limit (in a steady overload, all of them) late.     */
    int64_t expected = hb_service_expected_ms (service);
    if (expected < 0 || expected <= remaining - remaining / 5)
        return false;
    self->stats.overloaded++;
    hb_reply_fail (self, job, HEARTH_STATUS_UNAVAILABLE,
                   "service '%s' is overloaded: about %" PRId64 " ms to a "
                   "reply, over 4/5 of the deadline of %" PRId64 " ms",
                   service->name, expected, remaining);
    return true;
}

void
hb_dispatch_submit (hearth_broker_t *self, hb_job_t *job)
{
    hb_service_t *service = job->service;
    service->requests++;
    if (!hb_dispatch_accept (self, job))
        return;
    /*  MDP clients cannot be told the queue is full (no error reply), and
        the guide's clients send thousands at once: the byte budget above
        bounds their requests, queue_max only those who can hear a 503.      */
    if (hb_job_hears_errors (job)
    &&  hb_service_queued (service) >= (size_t) self->config.queue_max) {
        hb_reply_fail (self, job, HEARTH_STATUS_UNAVAILABLE,
                       "queue of service '%s' is full (%d requests)",
                       service->name, self->config.queue_max);
        return;
    }
    if (s_overloaded (self, job))
        return;
    if (hb_service_enqueue (service, job)) {
        hb_reply_fail (self, job, HEARTH_STATUS_UNAVAILABLE,
                       "broker out of memory");
        return;
    }
    hb_dispatch_service (self, service);
}

/*  Copies the job's body for sending (the job keeps it for a resend):
    every frame for an MDP worker, one joined frame for a native one.
    Returns the number of frames in body[], or -1.                           */
static int
s_copy_body (hb_job_t *job, hb_proto_t proto, zmq_msg_t *body)
{
    /*  hb_mdp_client refuses longer bodies at arrival.                     */
    assert (1 + job->more_count <= HEARTH_MDP_BODY_MAX);
    if (job->more_count == 0 || proto == HB_PROTO_MDP) {
        int count = 1 + job->more_count;
        for (int i = 0; i < count; i++) {
            zmq_msg_init (&body[i]);
            if (zmq_msg_copy (&body[i], i ? &job->more[i - 1] : &job->body)) {
                while (i >= 0)
                    zmq_msg_close (&body[i--]);
                return -1;
            }
        }
        return count;
    }
    size_t total = zmq_msg_size (&job->body);
    for (int i = 0; i < job->more_count; i++)
        total += zmq_msg_size (&job->more[i]);
    if (zmq_msg_init_size (body, total))
        return -1;
    uint8_t *out = zmq_msg_data (body);
    memcpy (out, zmq_msg_data (&job->body), zmq_msg_size (&job->body));
    out += zmq_msg_size (&job->body);
    for (int i = 0; i < job->more_count; i++) {
        memcpy (out, zmq_msg_data (&job->more[i]), zmq_msg_size (&job->more[i]));
        out += zmq_msg_size (&job->more[i]);
    }
    return 1;
}

/*  The request metadata a native worker gets: the client's map with the
    remaining budget and the attempt number set by the broker.              */
static int
s_request_meta (hearth_broker_t *self, hb_job_t *job, zmq_msg_t *meta)
{
    hearth_meta_writer_t *writer = &self->writer;
    hearth_meta_writer_reset (writer);
    hearth_meta_copy (writer, zmq_msg_data (&job->meta),
                      zmq_msg_size (&job->meta), s_request_keys);
    int64_t remaining = job->deadline_at - self->now;
    hearth_meta_put_uint (writer, HEARTH_META_DEADLINE,
                          (uint64_t) (remaining > 0 ? remaining : 0));
    hearth_meta_put_uint (writer, HEARTH_META_ATTEMPT, (uint64_t) job->attempt);
    return hearth_meta_writer_to_msg (writer, meta);
}

/*  Sends job to worker in the worker's protocol. 0, or -1 with errno.      */
static int
s_send_job (hearth_broker_t *self, hb_worker_t *worker, hb_job_t *job)
{
    uint8_t job_id[8];
    hb_job_id_encode (job->id, job_id);
    bool native = worker->proto == HB_PROTO_NATIVE;
    uint8_t command = native ? HEARTH_WORKER_REQUEST : HEARTH_MDPW_REQUEST;
    zmq_msg_t meta, body[HEARTH_MDP_BODY_MAX];
    if (native && s_request_meta (self, job, &meta)) {
        errno = ENOMEM;
        return -1;
    }
    int body_count = s_copy_body (job, worker->proto, body);
    if (body_count < 0) {
        if (native)
            zmq_msg_close (&meta);
        errno = ENOMEM;
        return -1;
    }
    hearth_part_t parts[6 + HEARTH_MDP_BODY_MAX];
    int count = 0;
    parts[count++] = HEARTH_PART_BYTES (worker->identity.bytes,
                                        worker->identity.size);
    parts[count++] = HEARTH_PART_EMPTY;
    parts[count++] = native ? HEARTH_PART_STR (HEARTH_WORKER_HEADER)
                            : HEARTH_PART_STR (HEARTH_MDPW_HEADER);
    parts[count++] = HEARTH_PART_BYTES (&command, 1);
    parts[count++] = HEARTH_PART_BYTES (job_id, 8);
    parts[count++] = native ? HEARTH_PART_MSG (&meta) : HEARTH_PART_EMPTY;
    for (int i = 0; i < body_count; i++)
        parts[count++] = HEARTH_PART_MSG (&body[i]);
    return hb_send (self, parts, count);
}

void
hb_dispatch_service (hearth_broker_t *self, hb_service_t *service)
{
    while (hb_service_queued (service) && zlistx_size (service->ready)) {
        hb_worker_t *worker = zlistx_first (service->ready);
        hb_job_t *job = hb_service_dequeue (service);
        /*  Held before it is sent, so a reply can never find it unheld.    */
        int rc = hb_worker_hold (worker, job);
        if (rc == 0 && s_send_job (self, worker, job) == 0) {
            job->dispatched_at = self->now;
            continue;
        }
        int saved = rc ? ENOMEM : errno;
        if (rc == 0)
            hb_worker_release (worker, job);
        /*  The job goes back first in line either way.                     */
        hb_service_enqueue_front (service, job);
        errno = saved;
        hb_worker_send_failed (self, worker);
    }
}
