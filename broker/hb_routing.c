/*  hb_routing - what happens to a job between its arrival and its reply,
    whichever protocol its client and worker speak: queueing, dispatch to
    the least recently used worker with free credit, replies, deadlines,
    worker death, heartbeats and shutdown.
*/
#include "hb_broker.h"

#include <errno.h>
#include "hearth/hearth.h"
#include <stdarg.h>

/*  Keys the broker sets in reply metadata; a worker's own are replaced.    */
static const char *const s_reply_keys[] = {
    HEARTH_META_SERVICE, HEARTH_META_WORKER, HEARTH_META_VERSION,
    HEARTH_META_QUEUE_MS, HEARTH_META_RUN_MS, NULL
};
/*  Keys the broker sets in request metadata for the worker.                */
static const char *const s_request_keys[] = {
    HEARTH_META_DEADLINE, HEARTH_META_ATTEMPT, NULL
};

hb_service_t *
hb_service_lookup (hearth_broker_t *self, const char *name, hb_lookup_t mode)
{
    hb_service_t *service = zhashx_lookup (self->services, name);
    if (service || mode == HB_FIND)
        return service;
    if (mode == HB_FIND_OR_QUEUE && self->idle_services >= HB_IDLE_SERVICES_MAX)
        return NULL;
    service = hb_service_new (name);
    if (!service)
        return NULL;
    if (zhashx_insert (self->services, name, service)) {
        hb_service_destroy (&service);
        return NULL;
    }
    service->empty_since = self->now;
    self->idle_services++;
    return service;
}

/*  The name a job's client asked for: its service, or its route.          */
static const char *
s_asked_for (hb_job_t *job)
{
    return job->service ? job->service->name
         : job->route ? hb_route_text (job->route) : "(route)";
}

static void s_fail_native (hearth_broker_t *self, hb_job_t *job, int status,
                           const char *format, ...)
    __attribute__ ((format (printf, 4, 5)));

/*  Every accepted job is answered exactly once; the drain waits for these. */
static void
s_answered (hearth_broker_t *self, hb_job_t *job)
{
    if (!job->answered) {
        job->answered = true;
        self->open_jobs--;
    }
}

static void
s_send_client_reply (hearth_broker_t *self, hb_job_t *job, int status,
                     zmq_msg_t *meta, hearth_part_t *body, int body_count)
{
    char status_text[3];
    hearth_wire_status_encode (status, status_text);
    uint8_t command = HEARTH_CLIENT_REPLY;
    hearth_part_t parts[8 + HEARTH_FRAMES_MAX];
    int count = 0;
    parts[count++] = HEARTH_PART_BYTES (job->client, job->client_len);
    parts[count++] = HEARTH_PART_EMPTY;
    if (job->client_proto == HB_PROTO_NATIVE) {
        parts[count++] = HEARTH_PART_STR (HEARTH_CLIENT_HEADER);
        parts[count++] = HEARTH_PART_BYTES (&command, 1);
        parts[count++] = HEARTH_PART_BYTES (job->request_id, job->request_id_len);
        parts[count++] = HEARTH_PART_BYTES (status_text, 3);
        parts[count++] = HEARTH_PART_MSG (meta);
    }
    else {
        parts[count++] = HEARTH_PART_STR (HEARTH_MDPC_HEADER);
        parts[count++] = HEARTH_PART_BYTES (s_asked_for (job),
                                            strlen (s_asked_for (job)));
        zmq_msg_close (meta);
    }
    for (int i = 0; i < body_count; i++)
        parts[count++] = body[i];
    s_answered (self, job);
    self->stats.replies++;
    if (status != HEARTH_STATUS_OK) {
        self->stats.errors++;
        if (job->service)
            job->service->errors++;
    }
    if (hb_send (self, parts, count)) {
        /*  The client went away or stopped reading: nobody to tell.        */
        self->stats.undeliverable++;
        hearth_log_debug ("reply to a gone client dropped (%s)",
                          zmq_strerror (errno));
    }
}

/*  Builds reply metadata: the worker's map (if any, if well-formed) minus
    the keys the broker owns, then the broker's figures.                     */
static int
s_reply_meta (hearth_broker_t *self, hb_job_t *job, zmq_msg_t *worker_meta,
              const char *error,
              void (*extend) (hearth_meta_writer_t *writer, void *arg),
              void *arg, zmq_msg_t *out)
{
    hearth_meta_writer_t *writer = &self->writer;
    hearth_meta_writer_reset (writer);
    if (worker_meta)
        hearth_meta_copy (writer, zmq_msg_data (worker_meta),
                          zmq_msg_size (worker_meta), s_reply_keys);
    if (error)
        hearth_meta_put_str (writer, HEARTH_META_ERROR, error);
    hearth_meta_put_str (writer, HEARTH_META_SERVICE, s_asked_for (job));
    if (extend)
        extend (writer, arg);
    int64_t started = job->dispatched_at ? job->dispatched_at : self->now;
    hearth_meta_put_uint (writer, HEARTH_META_QUEUE_MS,
                          (uint64_t) (started - job->received_at));
    if (job->worker) {
        hearth_meta_put_str (writer, HEARTH_META_WORKER, job->worker->id_text);
        if (job->worker->version)
            hearth_meta_put_str (writer, HEARTH_META_VERSION, job->worker->version);
        hearth_meta_put_uint (writer, HEARTH_META_RUN_MS,
                              (uint64_t) (self->now - job->dispatched_at));
    }
    return hearth_meta_writer_to_msg (writer, out);
}

/*  Joins frames [first, count) of msg into one frame in out (moved when
    there is just one). Returns 0, or -1 out of memory.                     */
static int
s_join_frames (hearth_frames_t *msg, int first, zmq_msg_t *out)
{
    zmq_msg_init (out);
    if (!msg || first >= msg->count)
        return 0;
    if (msg->count - first == 1)
        return zmq_msg_move (out, &msg->frame[first]);
    size_t total = 0;
    for (int i = first; i < msg->count; i++)
        total += hearth_frames_size (msg, i);
    zmq_msg_close (out);
    if (zmq_msg_init_size (out, total)) {
        zmq_msg_init (out);
        return -1;
    }
    uint8_t *cursor = zmq_msg_data (out);
    for (int i = first; i < msg->count; i++) {
        memcpy (cursor, hearth_frames_data (msg, i), hearth_frames_size (msg, i));
        cursor += hearth_frames_size (msg, i);
    }
    return 0;
}

/*  A stage of a route answered: the route takes the outcome.              */
static void
s_relay_to_route (hearth_broker_t *self, hb_job_t *job, int status,
                  zmq_msg_t *meta, hearth_frames_t *msg, int first)
{
    const char *error = NULL;
    size_t error_len = 0;
    hearth_meta_entry_t entry;
    if (meta && hearth_meta_find (zmq_msg_data (meta), zmq_msg_size (meta),
                                  HEARTH_META_ERROR, &entry) == 1)
        hearth_meta_value_str (&entry, &error, &error_len);
    if (!error && status != HEARTH_STATUS_OK) {
        error = hearth_status_text (status);
        error_len = strlen (error);
    }
    zmq_msg_t body;
    if (s_join_frames (msg, first, &body)) {
        status = HEARTH_STATUS_UNAVAILABLE;
        error = "broker out of memory";
        error_len = strlen (error);
    }
    s_answered (self, job);
    hb_route_child_done (self, job, status, error, error_len, &body);
    zmq_msg_close (&body);
}

void
hb_relay_reply (hearth_broker_t *self, hb_job_t *job, int status,
                zmq_msg_t *meta, hearth_frames_t *msg, int first)
{
    if (job->client_proto == HB_PROTO_ROUTE) {
        s_relay_to_route (self, job, status, meta, msg, first);
        return;
    }
    if (job->client_proto == HB_PROTO_MDP && status != HEARTH_STATUS_OK) {
        /*  MDP has no error reply: the client will time out and retry.     */
        hearth_log_warn ("status %d from worker %s for an MDP client of '%s' "
                         "dropped: MDP/0.1 has no error reply", status,
                         job->worker ? job->worker->id_text : "?",
                         s_asked_for (job));
        s_answered (self, job);
        self->stats.errors++;
        job->service->errors++;
        return;
    }
    zmq_msg_t reply_meta;
    if (job->client_proto == HB_PROTO_MDP
    ||  s_reply_meta (self, job, meta, NULL, NULL, NULL, &reply_meta))
        zmq_msg_init (&reply_meta);
    hearth_part_t body[HEARTH_FRAMES_MAX];
    int body_count = 0;
    zmq_msg_t joined;
    if (job->client_proto == HB_PROTO_NATIVE) {
        /*  A native reply has one body frame: an MDP worker's are joined.  */
        if (s_join_frames (msg, first, &joined) == 0)
            body[body_count++] = HEARTH_PART_MSG (&joined);
    }
    else
        for (int i = first; msg && i < msg->count; i++)
            body[body_count++] = HEARTH_PART_MSG (&msg->frame[i]);
    if (body_count == 0)
        body[body_count++] = HEARTH_PART_EMPTY;
    /*  Moved frames are consumed by the send; hearth_frames_close later
        closes the (now empty) zmq_msg_t slots, which is harmless.          */
    s_send_client_reply (self, job, status, &reply_meta, body, body_count);
}

void
hb_answer (hearth_broker_t *self, hb_job_t *job, int status, const char *error,
           void (*extend) (hearth_meta_writer_t *writer, void *arg), void *arg,
           zmq_msg_t *body)
{
    zmq_msg_t empty;
    zmq_msg_init (&empty);
    if (!body)
        body = &empty;
    if (job->client_proto == HB_PROTO_MDP && status != HEARTH_STATUS_OK) {
        hearth_log_info ("MDP request for '%s' dropped: %s", s_asked_for (job),
                         error ? error : hearth_status_text (status));
        s_answered (self, job);
        zmq_msg_close (body);
        return;
    }
    zmq_msg_t meta;
    if (job->client_proto == HB_PROTO_MDP
    ||  s_reply_meta (self, job, NULL, error, extend, arg, &meta))
        zmq_msg_init (&meta);
    hearth_part_t part = HEARTH_PART_MSG (body);
    s_send_client_reply (self, job, status, &meta, &part, 1);
}

static void
s_fail_native (hearth_broker_t *self, hb_job_t *job, int status,
               const char *format, ...)
{
    char error[512];
    va_list args;
    va_start (args, format);
    vsnprintf (error, sizeof error, format, args);
    va_end (args);
    hb_answer (self, job, status, error, NULL, NULL, NULL);
}

/*  Takes a job off its queue and its worker, without returning credit.     */
static void
s_detach (hearth_broker_t *self, hb_job_t *job)
{
    if (job->queue_handle)
        hb_service_unqueue (job->service, job);
    if (job->worker)
        hb_worker_job_done (self, job->worker, job);
}

void
hb_fail (hearth_broker_t *self, hb_job_t *job, int status, const char *format,
         ...)
{
    char error[512];
    va_list args;
    va_start (args, format);
    vsnprintf (error, sizeof error, format, args);
    va_end (args);
    if (!job->answered && job->client_proto == HB_PROTO_ROUTE) {
        s_answered (self, job);
        hb_route_child_done (self, job, status, error, strlen (error), NULL);
    }
    else
    if (!job->answered)
        hb_answer (self, job, status, error, NULL, NULL, NULL);
    s_detach (self, job);
    hb_jobs_release (self->jobs, &job);
}

void
hb_reply_direct (hearth_broker_t *self, hearth_frames_t *request, int status,
                 const char *error, const void *body, size_t size)
{
    char status_text[3];
    hearth_wire_status_encode (status, status_text);
    uint8_t command = HEARTH_CLIENT_REPLY;
    zmq_msg_t meta;
    hearth_meta_writer_reset (&self->writer);
    if (error)
        hearth_meta_put_str (&self->writer, HEARTH_META_ERROR, error);
    if (hearth_meta_writer_to_msg (&self->writer, &meta))
        zmq_msg_init (&meta);
    hearth_part_t parts[] = {
        HEARTH_PART_MSG (&request->frame[HB_IDENTITY]),
        HEARTH_PART_EMPTY,
        HEARTH_PART_STR (HEARTH_CLIENT_HEADER),
        HEARTH_PART_BYTES (&command, 1),
        HEARTH_PART_MSG (&request->frame[HB_FRAME (3)]),
        HEARTH_PART_BYTES (status_text, 3),
        HEARTH_PART_MSG (&meta),
        HEARTH_PART_BYTES (body, size)
    };
    self->stats.replies++;
    if (status != HEARTH_STATUS_OK)
        self->stats.errors++;
    if (hb_send (self, parts, 8))
        self->stats.undeliverable++;
}

/*  Counts the job against the broker-wide memory budget; past it, answers
    503 and returns true. Per-service queue bounds alone would let many
    services, or huge messages, hold more than the machine has.             */
static bool
s_over_budget (hearth_broker_t *self, hb_job_t *job)
{
    size_t held = hb_jobs_hold (self->jobs, job);
    if (held <= self->config.max_pending_bytes)
        return false;
    hb_fail (self, job, HEARTH_STATUS_UNAVAILABLE,
             "the broker holds its limit of %zu bytes of requests "
             "(max_pending_bytes): try again later",
             self->config.max_pending_bytes);
    return true;
}

void
hb_submit (hearth_broker_t *self, hb_job_t *job)
{
    hb_service_t *service = job->service;
    self->open_jobs++;
    self->stats.requests++;
    service->requests++;
    if (s_over_budget (self, job))
        return;
    if (hb_service_queued (service) >= (size_t) self->config.queue_max) {
        hb_fail (self, job, HEARTH_STATUS_UNAVAILABLE,
                 "queue of service '%s' is full (%d requests)", service->name,
                 self->config.queue_max);
        return;
    }
    if (hb_service_enqueue (service, job)) {
        hb_fail (self, job, HEARTH_STATUS_UNAVAILABLE, "broker out of memory");
        return;
    }
    hb_dispatch (self, service);
}

/*  Copies the job's body for sending (the job keeps it for a resend):
    every frame for an MDP worker, one joined frame for a native one.
    Returns the number of frames in body[], or -1.                           */
static int
s_copy_body (hb_job_t *job, hb_proto_t proto, zmq_msg_t *body)
{
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
    zmq_msg_t meta, body[HEARTH_FRAMES_MAX];
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
    hearth_part_t parts[6 + HEARTH_FRAMES_MAX];
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

/*  Records that worker holds job; keeps it in the ready list, at the end
    (least recently used first), only while it has credit left.              */
static void
s_assign (hearth_broker_t *self, hb_worker_t *worker, hb_job_t *job)
{
    hb_service_t *service = worker->service;
    job->worker = worker;
    job->dispatched_at = self->now;
    job->worker_handle = zlistx_add_end (worker->jobs, job);
    service->in_flight++;
    if (zlistx_size (worker->jobs) >= worker->credit) {
        zlistx_delete (service->ready, worker->ready_handle);
        worker->ready_handle = NULL;
    }
    else
        zlistx_move_end (service->ready, worker->ready_handle);
}

void
hb_dispatch (hearth_broker_t *self, hb_service_t *service)
{
    while (hb_service_queued (service) && zlistx_size (service->ready)) {
        hb_worker_t *worker = zlistx_first (service->ready);
        hb_job_t *job = hb_service_dequeue (service);
        if (s_send_job (self, worker, job) == 0) {
            s_assign (self, worker, job);
            continue;
        }
        /*  The job goes back first in line either way.                     */
        hb_service_enqueue_front (service, job);
        if (errno == EHOSTUNREACH)
            hb_worker_remove (self, worker, "connection gone", false);
        else {
            /*  Its pipe is full (EAGAIN): rest it until it speaks again
                rather than spin on it.                                      */
            zlistx_delete (service->ready, worker->ready_handle);
            worker->ready_handle = NULL;
            hearth_log_warn ("worker %s of '%s' not accepting requests: %s",
                             worker->id_text, service->name,
                             zmq_strerror (errno));
        }
    }
}

int
hb_worker_attach (hearth_broker_t *self, hb_worker_t *worker,
                  hb_service_t *service)
{
    worker->ready_handle = zlistx_add_end (service->ready, worker);
    if (!worker->ready_handle)
        return -1;
    if (zhashx_insert (self->workers, &worker->identity, worker)) {
        zlistx_delete (service->ready, worker->ready_handle);
        worker->ready_handle = NULL;
        return -1;
    }
    worker->service = service;
    worker->heard_at = self->now;
    if (service->workers == 0) {
        self->idle_services--;
        service->empty_since = 0;
    }
    service->workers++;
    service->credit += worker->credit;
    if (worker->proto == HB_PROTO_MDP)
        service->mdp_workers++;
    hearth_log_info ("worker %s registered for '%s' (%s, credit %zu)",
                     worker->id_text, service->name,
                     worker->proto == HB_PROTO_MDP ? "MDP/0.1" : "HMP/1",
                     worker->credit);
    return 0;
}

void
hb_worker_job_done (hearth_broker_t *self, hb_worker_t *worker, hb_job_t *job)
{
    hb_service_t *service = worker->service;
    zlistx_delete (worker->jobs, job->worker_handle);
    job->worker_handle = NULL;
    job->worker = NULL;
    service->in_flight--;
    if (!worker->ready_handle && !worker->draining)
        worker->ready_handle = zlistx_add_end (service->ready, worker);
}

void
hb_worker_replied (hearth_broker_t *self, hb_worker_t *worker)
{
    if (worker->draining && zlistx_size (worker->jobs) == 0)
        /*  Our DISCONNECT back is the acknowledgement: nothing more will
            be routed to it, so it may close (PROTOCOL.md 4.5).             */
        hb_worker_remove (self, worker, "drained after DISCONNECT", true);
    else
        hb_dispatch (self, worker->service);
}

void
hb_worker_send_disconnect (hearth_broker_t *self, const hb_identity_t *identity,
                           hb_proto_t proto)
{
    uint8_t command = proto == HB_PROTO_NATIVE ? HEARTH_WORKER_DISCONNECT
                                               : HEARTH_MDPW_DISCONNECT;
    hearth_part_t parts[] = {
        HEARTH_PART_BYTES (identity->bytes, identity->size),
        HEARTH_PART_EMPTY,
        proto == HB_PROTO_NATIVE ? HEARTH_PART_STR (HEARTH_WORKER_HEADER)
                                 : HEARTH_PART_STR (HEARTH_MDPW_HEADER),
        HEARTH_PART_BYTES (&command, 1)
    };
    hb_send (self, parts, 4);
}

/*  A job whose worker died: resent once if that is safe, else 502.         */
static void
s_orphan (hearth_broker_t *self, hb_job_t *job, const char *worker_id,
          const char *reason)
{
    hb_service_t *service = job->service;
    bool idempotent = job->idempotent || service->idempotent
                   || job->client_proto == HB_PROTO_MDP;
    if (!job->answered && idempotent && job->attempt < 2
    &&  job->deadline_at > self->now
    &&  hb_service_enqueue_front (service, job) == 0) {
        job->attempt++;
        job->dispatched_at = 0;
        self->stats.resent++;
        hearth_log_info ("resending request for '%s': worker %s %s",
                         service->name, worker_id, reason);
        return;
    }
    hb_fail (self, job, HEARTH_STATUS_WORKER_LOST,
             "worker %s of '%s' lost with the request: %s", worker_id,
             service->name, reason);
}

void
hb_worker_remove (hearth_broker_t *self, hb_worker_t *worker,
                  const char *reason, bool disconnect)
{
    hb_service_t *service = worker->service;
    hearth_log_info ("worker %s of '%s' removed: %s (%zu request%s held)",
                     worker->id_text, service->name, reason,
                     zlistx_size (worker->jobs),
                     zlistx_size (worker->jobs) == 1 ? "" : "s");
    if (disconnect)
        hb_worker_send_disconnect (self, &worker->identity, worker->proto);
    if (worker->ready_handle)
        zlistx_delete (service->ready, worker->ready_handle);
    worker->ready_handle = NULL;
    hb_job_t *job;
    while ((job = zlistx_first (worker->jobs))) {
        zlistx_delete (worker->jobs, job->worker_handle);
        job->worker_handle = NULL;
        job->worker = NULL;
        service->in_flight--;
        s_orphan (self, job, worker->id_text, reason);
    }
    service->workers--;
    service->credit -= worker->credit;
    if (worker->proto == HB_PROTO_MDP)
        service->mdp_workers--;
    if (worker->draining)
        service->draining--;
    if (service->workers == 0) {
        service->empty_since = self->now;
        self->idle_services++;
    }
    zhashx_delete (self->workers, &worker->identity);
    hb_worker_destroy (&worker);
    hb_dispatch (self, service);
}

_Static_assert (HEARTH_WORKER_READY == HEARTH_MDPW_READY
             && HEARTH_WORKER_REPLY == HEARTH_MDPW_REPLY
             && HEARTH_WORKER_HEARTBEAT == HEARTH_MDPW_HEARTBEAT
             && HEARTH_WORKER_DISCONNECT == HEARTH_MDPW_DISCONNECT,
                "one worker dispatcher serves both protocols");

void
hb_worker_message (hearth_broker_t *self, hearth_frames_t *msg,
                   hb_proto_t proto, hb_ready_fn *ready, hb_reply_fn *reply)
{
    int command = hearth_frames_command (msg, HB_FRAME (2));
    hb_worker_t *worker = hb_worker_lookup (self, msg);
    if (worker)
        worker->heard_at = self->now;
    if (command == HEARTH_WORKER_READY) {
        if (worker)
            hb_worker_remove (self, worker, "sent a second READY", true);
        else
            ready (self, msg);
        return;
    }
    if (command != HEARTH_WORKER_REPLY && command != HEARTH_WORKER_HEARTBEAT
    &&  command != HEARTH_WORKER_DISCONNECT) {
        hb_drop (self, msg, HB_FRAME (2), "unknown worker command");
        return;
    }
    if (!worker || worker->proto != proto) {
        /*  Unknown (e.g. we restarted): DISCONNECT makes it register again. */
        hb_identity_t identity;
        if (command != HEARTH_WORKER_DISCONNECT
        &&  hb_identity_set (&identity, hearth_frames_data (msg, HB_IDENTITY),
                             hearth_frames_size (msg, HB_IDENTITY)) == 0)
            hb_worker_send_disconnect (self, &identity, proto);
        if (worker)
            hb_worker_remove (self, worker, "switched protocol", false);
    }
    else
    if (command == HEARTH_WORKER_REPLY)
        reply (self, worker, msg);
    else
    if (command == HEARTH_WORKER_DISCONNECT && proto == HB_PROTO_NATIVE
    &&  zlistx_size (worker->jobs) > 0) {
        /*  A worker stopping gracefully finishes what it holds: keep those
            requests with it (silence still means death), send it no more.  */
        worker->draining = true;
        worker->service->draining++;
        if (worker->ready_handle)
            zlistx_delete (worker->service->ready, worker->ready_handle);
        worker->ready_handle = NULL;
        hearth_log_info ("worker %s of '%s' draining %zu request%s",
                         worker->id_text, worker->service->name,
                         zlistx_size (worker->jobs),
                         zlistx_size (worker->jobs) == 1 ? "" : "s");
    }
    else
    if (command == HEARTH_WORKER_DISCONNECT)
        hb_worker_remove (self, worker, "disconnected", proto == HB_PROTO_NATIVE);
}


const char *
hb_route_for (hearth_broker_t *self, const char *name)
{
    const char *route = zhashx_lookup (self->pipelines, name);
    return route ? route : hearth_route_is_expression (name) ? name : NULL;
}

void
hb_submit_route (hearth_broker_t *self, hb_job_t *job, const char *name,
                 const char *route)
{
    hearth_route_t spec;
    char error[320];
    self->open_jobs++;
    self->stats.requests++;
    if (s_over_budget (self, job))
        return;
    int status = HEARTH_STATUS_BAD_REQUEST;
    int rc = hearth_route_parse (route, &spec, error, sizeof error);
    /*  Every stage's service must exist now: fail fast, as for a service. */
    for (int stage = 0; rc == 0 && stage < spec.stage_count; stage++)
        for (int i = 0; rc == 0 && i < hearth_route_stage_size (&spec, stage); i++)
            if (!hb_service_lookup (self, hearth_route_service (&spec, stage, i),
                                    HB_FIND)) {
                snprintf (error, sizeof error, "stage %d: no such service '%s'",
                          stage, hearth_route_service (&spec, stage, i));
                status = HEARTH_STATUS_NOT_FOUND;
                rc = -1;
            }
    if (rc) {
        hearth_route_free (&spec);
        hb_answer (self, job, status, error, NULL, NULL, NULL);
        hb_jobs_release (self->jobs, &job);
        return;
    }
    hb_route_start (self, job, &spec, name);
}

int
hb_service_name (hearth_frames_t *msg, int frame,
                 char name[HEARTH_SERVICE_MAX + 1])
{
    size_t size = hearth_frames_size (msg, frame);
    const uint8_t *data = hearth_frames_data (msg, frame);
    if (size == 0 || size > HEARTH_SERVICE_MAX)
        return -1;
    for (size_t i = 0; i < size; i++)
        if (data[i] < 0x20 || data[i] == 0x7f)
            return -1;
    memcpy (name, data, size);
    name[size] = 0;
    return 0;
}

hb_worker_t *
hb_worker_lookup (hearth_broker_t *self, hearth_frames_t *msg)
{
    hb_identity_t identity;
    if (hb_identity_set (&identity, hearth_frames_data (msg, HB_IDENTITY),
                         hearth_frames_size (msg, HB_IDENTITY)))
        return NULL;
    return zhashx_lookup (self->workers, &identity);
}

void
hb_expire_deadlines (hearth_broker_t *self)
{
    hb_job_t *job;
    while ((job = hb_jobs_earliest (self->jobs)) && job->deadline_at <= self->now) {
        hb_jobs_forget_deadline (self->jobs, job);
        self->stats.expired++;
        int64_t waited = self->now - job->received_at;
        if (job->route && job->client_proto != HB_PROTO_ROUTE) {
            hb_route_expire (self, job);
            continue;
        }
        if (!job->worker) {
            hb_fail (self, job, HEARTH_STATUS_TIMEOUT,
                     "deadline exceeded after %lld ms in the queue of '%s'",
                     (long long) waited, job->service->name);
            continue;
        }
        /*  At a worker: answer now; the job stays held (and its credit
            spent) until the worker replies or is removed.                   */
        if (!job->answered && job->client_proto == HB_PROTO_ROUTE) {
            const char *error = "deadline exceeded at the worker";
            s_answered (self, job);
            hb_route_child_done (self, job, HEARTH_STATUS_TIMEOUT, error,
                                 strlen (error), NULL);
        }
        else
        if (!job->answered)
            s_fail_native (self, job, HEARTH_STATUS_TIMEOUT,
                           "deadline exceeded after %lld ms, %lld of them at "
                           "worker %s", (long long) waited,
                           (long long) (self->now - job->dispatched_at),
                           job->worker->id_text);
    }
}

/*  A worker is dead if silent too long, except a busy MDP worker, which
    cannot heartbeat: it is hung only once its request is overdue.          */
static const char *
s_worker_verdict (hearth_broker_t *self, hb_worker_t *worker)
{
    int64_t expiry = (int64_t) self->config.heartbeat_ms * self->config.liveness;
    hb_job_t *job = zlistx_first (worker->jobs);
    if (worker->proto == HB_PROTO_MDP && job)
        return self->now > job->deadline_at + expiry && self->now - worker->heard_at > expiry
             ? "hung: busy past its request's deadline" : NULL;
    return self->now - worker->heard_at > expiry ? "expired: no heartbeat" : NULL;
}

static void
s_heartbeat_workers (hearth_broker_t *self)
{
    zlistx_t *dead = zlistx_new ();
    if (!dead)
        return;
    hb_worker_t *worker = zhashx_first (self->workers);
    for (; worker; worker = zhashx_next (self->workers)) {
        const char *verdict = s_worker_verdict (self, worker);
        if (!verdict) {
            uint8_t command = worker->proto == HB_PROTO_NATIVE
                            ? HEARTH_WORKER_HEARTBEAT : HEARTH_MDPW_HEARTBEAT;
            hearth_part_t parts[] = {
                HEARTH_PART_BYTES (worker->identity.bytes, worker->identity.size),
                HEARTH_PART_EMPTY,
                worker->proto == HB_PROTO_NATIVE
                    ? HEARTH_PART_STR (HEARTH_WORKER_HEADER)
                    : HEARTH_PART_STR (HEARTH_MDPW_HEADER),
                HEARTH_PART_BYTES (&command, 1)
            };
            if (hb_send (self, parts, 4) == 0 || errno != EHOSTUNREACH)
                continue;
            verdict = "connection gone";
        }
        zlistx_add_end (dead, worker);
        zlistx_add_end (dead, (void *) verdict);
    }
    /*  Removal changes the table, so it waits until the walk is over.      */
    while (zlistx_size (dead)) {
        worker = zlistx_first (dead);
        zlistx_delete (dead, zlistx_cursor (dead));
        const char *verdict = zlistx_first (dead);
        zlistx_delete (dead, zlistx_cursor (dead));
        hb_worker_remove (self, worker, verdict, strcmp (verdict, "connection gone"));
    }
    zlistx_destroy (&dead);
}

/*  Worker-less services: native callers learn after linger_ms; MDP ones
    wait for their deadline (RFC 7); an empty one is then forgotten.         */
static void
s_linger_services (hearth_broker_t *self)
{
    zlistx_t *forget = zlistx_new ();
    if (!forget)
        return;
    hb_service_t *service = zhashx_first (self->services);
    for (; service; service = zhashx_next (self->services)) {
        if (service->workers || self->now - service->empty_since < self->config.linger_ms)
            continue;
        hb_job_t *job = zlistx_first (service->queue);
        while (job) {
            hb_job_t *next = zlistx_next (service->queue);
            if (job->client_proto == HB_PROTO_NATIVE)
                hb_fail (self, job, HEARTH_STATUS_UNAVAILABLE,
                         "no workers for service '%s' for %d ms",
                         service->name, self->config.linger_ms);
            job = next;
        }
        if (hb_service_queued (service) == 0)
            zlistx_add_end (forget, service);
    }
    while ((service = zlistx_first (forget))) {
        zlistx_delete (forget, zlistx_cursor (forget));
        self->idle_services--;
        zhashx_delete (self->services, service->name);
    }
    zlistx_destroy (&forget);
}

void
hb_tick (hearth_broker_t *self)
{
    self->next_tick = self->now + self->config.heartbeat_ms;
    s_heartbeat_workers (self);
    s_linger_services (self);
}

static void
s_fail_for_shutdown (hb_job_t *job, void *arg)
{
    hearth_broker_t *self = arg;
    if (job->client_proto == HB_PROTO_ROUTE)
        job->route = NULL;      /* freed with its parent, below or before  */
    else
    if (!job->answered)
        hb_answer (self, job, HEARTH_STATUS_UNAVAILABLE, "broker shutting down",
                   NULL, NULL, NULL);
    if (job->route && job->client_proto != HB_PROTO_ROUTE)
        hb_route_discard (&job->route);
    s_answered (self, job);
}

void
hb_shutdown (hearth_broker_t *self)
{
    size_t left = hb_jobs_count (self->jobs);
    hb_jobs_each (self->jobs, s_fail_for_shutdown, self);
    hb_worker_t *worker = zhashx_first (self->workers);
    for (; worker; worker = zhashx_next (self->workers))
        hb_worker_send_disconnect (self, &worker->identity, worker->proto);
    hearth_log_info ("stopped: %zu request%s left at shutdown (native "
                     "clients got 503)", left, left == 1 ? "" : "s");
}
