/*  hb_mdp - MDP/0.1 clients and workers, exactly as ZeroMQ RFC 7 has them
    (schemas/PROTOCOL.md section 9). MDP has no error replies and no answer
    to READY: what the spec leaves open is decided as RFC 7 suggests.
*/
#include "hb_broker.h"

#define S_STR(x) S_STR2 (x)
#define S_STR2(x) #x

/*  Moves the body frames from first on into the job: MDP workers get them
    as they came (RFC 7); native workers get them joined (PROTOCOL.md 9.1).  */
static int
s_take_body (hearth_frames_t *msg, int first, hb_job_t *job)
{
    zmq_msg_move (&job->body, &msg->frame[first]);
    int more = msg->count - first - 1;
    if (more == 0)
        return 0;
    job->more = malloc ((size_t) more * sizeof *job->more);
    if (!job->more)
        return -1;
    for (int i = 0; i < more; i++) {
        zmq_msg_init (&job->more[i]);
        zmq_msg_move (&job->more[i], &msg->frame[first + 1 + i]);
    }
    job->more_count = more;
    return 0;
}

/*  The body frames of msg from frame first on, read or not (0 if none).   */
static size_t
s_body_frames (hearth_frames_t *msg, int first)
{
    return msg->frames > (size_t) first ? msg->frames - (size_t) first : 0;
}

void
hb_mdp_client (hearth_broker_t *self, hearth_frames_t *msg)
{
    char name[HEARTH_SERVICE_MAX + 1];
    if (msg->count < HB_FRAME (2) + 1 || hb_service_name (msg, HB_FRAME (2), name)) {
        hb_drop (self, msg, HB_FRAME (2), "MDP request without a valid service name");
        return;
    }
    if (msg->total > self->config.max_message) {
        hb_drop (self, msg, HB_FRAME (2), "MDP request too large");
        return;
    }
    /*  Refused here, at arrival, rather than accepted and lost later: MDP
        has no error reply, so the log line is all anyone will learn.       */
    if (s_body_frames (msg, HB_FRAME (3)) > HEARTH_MDP_BODY_MAX) {
        hb_drop (self, msg, HB_FRAME (2), "MDP request with more than "
                 S_STR (HEARTH_MDP_BODY_MAX) " body frames");
        return;
    }
    if (self->draining) {
        hb_drop (self, msg, HB_FRAME (2), "MDP request while shutting down");
        return;
    }
    if (hb_is_reserved (name)) {
        hb_discovery (self, msg, HB_PROTO_MDP, name, HB_FRAME (3));
        return;
    }
    /*  RFC 7: a request for a service with no worker yet waits for one.    */
    const char *route = hb_pipeline_for (self, name);
    hb_service_t *service = route ? NULL
                          : hb_service_lookup (self, name, HB_FIND_OR_QUEUE);
    if (!route && !service) {
        hb_drop (self, msg, HB_FRAME (2), "too many services without workers");
        return;
    }
    hb_job_t *job = hb_jobs_create (self->jobs,
                                    self->now + self->config.default_deadline_ms);
    if (!job) {
        hb_drop (self, msg, HB_FRAME (2), "broker out of memory");
        return;
    }
    if (hb_job_set_addresses (job, hearth_frames_data (msg, HB_IDENTITY),
                              hearth_frames_size (msg, HB_IDENTITY), NULL, 0)) {
        hb_jobs_release (self->jobs, &job);
        hb_drop (self, msg, HB_FRAME (2), "broker out of memory");
        return;
    }
    job->sink = HB_SINK_MDP;
    job->service = service;
    job->received_at = self->now;
    job->idempotent = true;     /* RFC 7 assumes idempotent workers */
    if (msg->count > HB_FRAME (3) && s_take_body (msg, HB_FRAME (3), job)) {
        hb_jobs_release (self->jobs, &job);
        hb_drop (self, msg, HB_FRAME (2), "broker out of memory");
        return;
    }
    if (route)
        hb_pipeline_submit (self, job, name, route);
    else
        hb_dispatch_submit (self, job);
}

static void
s_worker_ready (hearth_broker_t *self, hb_worker_t *unregistered,
                hearth_frames_t *msg)
{
    (void) unregistered;
    char name[HEARTH_SERVICE_MAX + 1];
    hb_identity_t identity;
    if (msg->count != HB_FRAME (3) + 1 || hb_service_name (msg, HB_FRAME (3), name)
    ||  hb_identity_set (&identity, hearth_frames_data (msg, HB_IDENTITY),
                         hearth_frames_size (msg, HB_IDENTITY))) {
        hb_drop (self, msg, HB_FRAME (3), "malformed MDP READY");
        return;
    }
    if (hearth_route_expr_name_check (name)) {
        /*  RFC 8: mmi. belongs to the broker; the worker is disconnected.  */
        hearth_log_limited (&self->refusal_log, HEARTH_LOG_WARN,
                            "MDP worker tried to register reserved or "
                            "route-like name '%s'", name);
        hb_worker_send_disconnect (self, &identity, HB_PROTO_MDP);
        return;
    }
    hb_service_t *service = hb_service_lookup (self, name, HB_FIND_OR_CREATE);
    hb_worker_t *worker = service ? hb_worker_new (&identity, HB_PROTO_MDP) : NULL;
    if (!worker || hb_worker_attach (self, worker, service)) {
        hb_worker_destroy (&worker);
        hb_worker_send_disconnect (self, &identity, HB_PROTO_MDP);
        return;
    }
    hb_dispatch_service (self, service);
}

static void
s_worker_reply (hearth_broker_t *self, hb_worker_t *worker, hearth_frames_t *msg)
{
    uint64_t id;
    hb_job_t *job = NULL;
    if (msg->count > HB_FRAME (3)
    &&  hb_job_id_decode (hearth_frames_data (msg, HB_FRAME (3)),
                          hearth_frames_size (msg, HB_FRAME (3)), &id) == 0)
        job = hb_jobs_find (self->jobs, id);
    if (msg->count < HB_FRAME (4) + 1
    ||  hearth_frames_size (msg, HB_FRAME (4)) != 0) {
        hb_drop (self, msg, HB_FRAME (3), "malformed MDP REPLY");
        /*  As for a native worker (PROTOCOL.md 4.6): a REPLY naming a job
            it holds ends that job now, rather than at its deadline.        */
        if (job && job->worker == worker) {
            hb_reply_fail (self, job, HEARTH_STATUS_WORKER_ERROR,
                           "MDP worker %s sent a malformed reply", worker->id);
            hb_worker_replied (self, worker);
        }
        return;
    }
    if (!job || job->worker != worker) {
        /*  RFC 7: a valid but unexpected command gets DISCONNECT.          */
        hb_worker_remove (self, worker, "REPLY for a client it does not hold", true);
        return;
    }
    /*  A reply that was not read whole cannot be relayed, but the job is
        answered and the worker's credit returned like any other reply's.   */
    size_t body = s_body_frames (msg, HB_FRAME (5));
    if (body > HEARTH_MDP_BODY_MAX)
        hb_reply_error (self, job, HEARTH_STATUS_WORKER_ERROR,
                        "the MDP worker's reply has %zu body frames, more "
                        "than %d", body, HEARTH_MDP_BODY_MAX);
    else
    if (msg->truncated)
        hb_reply_error (self, job, HEARTH_STATUS_WORKER_ERROR,
                        "the MDP worker's reply of %zu bytes is over the "
                        "limit of %zu", msg->total, self->config.max_message);
    else
        hb_reply_relay (self, job, HEARTH_STATUS_OK, NULL, msg, HB_FRAME (5));
    hb_service_completed (job->service, self->now - job->dispatched_at);
    hb_worker_release (worker, job);
    hb_jobs_release (self->jobs, &job);
    hb_worker_replied (self, worker);
}

/*  RFC 7: a DISCONNECT from a worker needs no answer.                     */
static void
s_worker_disconnect (hearth_broker_t *self, hb_worker_t *worker,
                     hearth_frames_t *msg)
{
    (void) msg;
    hb_worker_remove (self, worker, "disconnected", false);
}

static const hb_worker_command_t s_worker_commands[] = {
    { HEARTH_MDPW_READY,      "READY",      true,  s_worker_ready },
    { HEARTH_MDPW_REPLY,      "REPLY",      false, s_worker_reply },
    { HEARTH_MDPW_HEARTBEAT,  "HEARTBEAT",  false, hb_worker_on_heartbeat },
    { HEARTH_MDPW_DISCONNECT, "DISCONNECT", false, s_worker_disconnect },
    { 0, NULL, false, NULL }
};

void
hb_mdp_worker (hearth_broker_t *self, hearth_frames_t *msg)
{
    hb_worker_message (self, msg, HB_PROTO_MDP, s_worker_commands);
}
