/*  hb_reply - every answer to a job goes through hb_reply_deliver, which
    decides once, by the job's sink, whether it goes to a native client (a
    REPLY with status and metadata), an MDP/0.1 client (a reply on 200;
    MDP has no error reply, so other outcomes are logged and dropped), or
    the pipeline the job is a stage of. Each job is answered at most once.
*/
#include "hb_broker.h"

#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include "hearth/hearth.h"

/*  Keys the broker sets in reply metadata; a worker's own are replaced.    */
static const char *const s_reply_keys[] = {
    HEARTH_META_SERVICE, HEARTH_META_WORKER, HEARTH_META_VERSION,
    HEARTH_META_QUEUE_MS, HEARTH_META_RUN_MS, NULL
};

/*  The name a job's client asked for: its service, or its pipeline.       */
static const char *
s_asked_for (hb_job_t *job)
{
    return job->service ? job->service->name
         : job->pipeline ? hb_pipeline_text (job->pipeline) : "(route)";
}

/*  Joins the outcome's body frames into one frame in out (moved when there
    is just one). Returns 0, or -1 out of memory.                           */
static int
s_join_body (hb_outcome_t *outcome, zmq_msg_t *out)
{
    zmq_msg_init (out);
    if (outcome->body)
        return zmq_msg_move (out, outcome->body);
    hearth_frames_t *msg = outcome->frames;
    int first = outcome->first;
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

/*  The error text of an outcome: the broker's, else the worker's metadata
    'error', else the status's name for a failure; NULL on success.         */
static const char *
s_error_text (hb_outcome_t *outcome, size_t *len)
{
    hearth_meta_entry_t entry;
    const char *text = outcome->error;
    *len = text ? strlen (text) : 0;
    if (!text && outcome->worker_meta
    &&  hearth_meta_find (zmq_msg_data (outcome->worker_meta),
                          zmq_msg_size (outcome->worker_meta),
                          HEARTH_META_ERROR, &entry) == 1
    &&  hearth_meta_value_str (&entry, &text, len))
        text = NULL;
    if (!text && outcome->status != HEARTH_STATUS_OK) {
        text = hearth_status_text (outcome->status);
        *len = strlen (text);
    }
    return text;
}

/*  Builds reply metadata: the worker's map (if any, if well-formed) minus
    the keys the broker owns, then the broker's figures.                     */
static int
s_reply_meta (hearth_broker_t *self, hb_job_t *job, hb_outcome_t *outcome,
              zmq_msg_t *out)
{
    hearth_meta_writer_t *writer = &self->writer;
    hearth_meta_writer_reset (writer);
    if (outcome->worker_meta)
        hearth_meta_copy (writer, zmq_msg_data (outcome->worker_meta),
                          zmq_msg_size (outcome->worker_meta), s_reply_keys);
    if (outcome->error)
        hearth_meta_put_str (writer, HEARTH_META_ERROR, outcome->error);
    hearth_meta_put_str (writer, HEARTH_META_SERVICE, s_asked_for (job));
    if (outcome->extend)
        outcome->extend (writer, outcome->arg);
    int64_t started = job->dispatched_at ? job->dispatched_at : self->now;
    hearth_meta_put_uint (writer, HEARTH_META_QUEUE_MS,
                          (uint64_t) (started - job->received_at));
    if (job->worker) {
        hearth_meta_put_str (writer, HEARTH_META_WORKER, job->worker->id);
        if (job->worker->version)
            hearth_meta_put_str (writer, HEARTH_META_VERSION, job->worker->version);
        hearth_meta_put_uint (writer, HEARTH_META_RUN_MS,
                              (uint64_t) (self->now - job->dispatched_at));
    }
    return hearth_meta_writer_to_msg (writer, out);
}

/*  Sends the client's reply: identity, then the protocol's header frames
    (head, count), then the body parts. Counts it.                           */
static void
s_send (hearth_broker_t *self, hb_job_t *job, int status,
        hearth_part_t *head, int head_count, hearth_part_t *body, int body_count)
{
    hearth_part_t parts[8 + HEARTH_FRAMES_MAX];
    int count = 0;
    parts[count++] = HEARTH_PART_BYTES (job->client, job->client_len);
    parts[count++] = HEARTH_PART_EMPTY;
    for (int i = 0; i < head_count; i++)
        parts[count++] = head[i];
    for (int i = 0; i < body_count; i++)
        parts[count++] = body[i];
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

static void
s_to_native (hearth_broker_t *self, hb_job_t *job, hb_outcome_t *outcome)
{
    char status_text[3];
    hearth_wire_status_encode (outcome->status, status_text);
    uint8_t command = HEARTH_CLIENT_REPLY;
    zmq_msg_t meta, body;
    if (s_reply_meta (self, job, outcome, &meta))
        zmq_msg_init (&meta);
    /*  A native reply has one body frame: an MDP worker's are joined.      */
    int joined = s_join_body (outcome, &body) == 0;
    hearth_part_t head[] = {
        HEARTH_PART_STR (HEARTH_CLIENT_HEADER),
        HEARTH_PART_BYTES (&command, 1),
        HEARTH_PART_BYTES (job->request_id, job->request_id_len),
        HEARTH_PART_BYTES (status_text, 3),
        HEARTH_PART_MSG (&meta)
    };
    hearth_part_t part = joined ? HEARTH_PART_MSG (&body) : HEARTH_PART_EMPTY;
    if (!joined)
        zmq_msg_close (&body);
    s_send (self, job, outcome->status, head, 5, &part, 1);
}

static void
s_to_mdp (hearth_broker_t *self, hb_job_t *job, hb_outcome_t *outcome)
{
    const char *asked = s_asked_for (job);
    if (outcome->status != HEARTH_STATUS_OK) {
        /*  MDP has no error reply: the client will time out and retry.     */
        size_t len;
        const char *error = s_error_text (outcome, &len);
        /*  Limited: a flood of MDP requests refused would repeat it.       */
        if (outcome->frames)
            hearth_log_limited (&self->mdp_log, HEARTH_LOG_WARN,
                                "status %d from worker %s for an MDP client of "
                                "'%s' dropped: MDP/0.1 has no error reply",
                                outcome->status,
                                job->worker ? job->worker->id : "?", asked);
        else
            hearth_log_limited (&self->mdp_log, HEARTH_LOG_INFO,
                                "MDP request for '%s' dropped: %.*s", asked,
                                (int) len, error);
        /*  Not a reply sent, so not in stats.errors; the service's count
            is of every failed request.                                      */
        if (job->service)
            job->service->errors++;
        if (outcome->body)
            zmq_msg_close (outcome->body);
        return;
    }
    hearth_part_t head[] = {
        HEARTH_PART_STR (HEARTH_MDPC_HEADER),
        HEARTH_PART_BYTES (asked, strlen (asked))
    };
    hearth_part_t body[HEARTH_MDP_BODY_MAX];
    int body_count = 0;
    /*  An MDP client gets the body frames as the worker sent them: at most
        HEARTH_MDP_BODY_MAX, as hb_mdp's REPLY handler makes sure.           */
    if (outcome->body)
        body[body_count++] = HEARTH_PART_MSG (outcome->body);
    else
        for (int i = outcome->first; outcome->frames && i < outcome->frames->count; i++) {
            assert (body_count < HEARTH_MDP_BODY_MAX);
            body[body_count++] = HEARTH_PART_MSG (&outcome->frames->frame[i]);
        }
    if (body_count == 0)
        body[body_count++] = HEARTH_PART_EMPTY;
    /*  Moved frames are consumed by the send; hearth_frames_close later
        closes the (now empty) zmq_msg_t slots, which is harmless.          */
    s_send (self, job, outcome->status, head, 2, body, body_count);
}

static void
s_to_pipeline (hearth_broker_t *self, hb_job_t *job, hb_outcome_t *outcome)
{
    size_t error_len;
    const char *error = s_error_text (outcome, &error_len);
    int status = outcome->status;
    zmq_msg_t body;
    if (s_join_body (outcome, &body)) {
        status = HEARTH_STATUS_UNAVAILABLE;
        error = "broker out of memory";
        error_len = strlen (error);
    }
    hb_pipeline_stage_done (self, job, status, error, error_len, &body);
    zmq_msg_close (&body);
}

void
hb_reply_deliver (hearth_broker_t *self, hb_job_t *job, hb_outcome_t *outcome)
{
    if (job->answered) {
        if (outcome->body)
            zmq_msg_close (outcome->body);
        return;
    }
    /*  Every accepted job is answered exactly once; the drain waits for
        these.                                                                */
    job->answered = true;
    self->open_jobs--;
    switch (job->sink) {
        case HB_SINK_NATIVE:   s_to_native (self, job, outcome); break;
        case HB_SINK_MDP:      s_to_mdp (self, job, outcome); break;
        case HB_SINK_PIPELINE: s_to_pipeline (self, job, outcome); break;
    }
}

void
hb_reply_relay (hearth_broker_t *self, hb_job_t *job, int status,
                zmq_msg_t *meta, hearth_frames_t *msg, int first)
{
    hb_outcome_t outcome = {
        .status = status, .worker_meta = meta, .frames = msg, .first = first
    };
    hb_reply_deliver (self, job, &outcome);
}

void
hb_reply_answer (hearth_broker_t *self, hb_job_t *job, int status,
                 const char *error,
                 void (*extend) (hearth_meta_writer_t *writer, void *arg),
                 void *arg, zmq_msg_t *body)
{
    hb_outcome_t outcome = {
        .status = status, .error = error, .body = body,
        .extend = extend, .arg = arg
    };
    hb_reply_deliver (self, job, &outcome);
}

static void
s_answer_error (hearth_broker_t *self, hb_job_t *job, int status,
                const char *format, va_list args)
{
    char error[512];
    vsnprintf (error, sizeof error, format, args);
    hb_reply_answer (self, job, status, error, NULL, NULL, NULL);
}

void
hb_reply_error (hearth_broker_t *self, hb_job_t *job, int status,
                const char *format, ...)
{
    va_list args;
    va_start (args, format);
    s_answer_error (self, job, status, format, args);
    va_end (args);
}

void
hb_reply_fail (hearth_broker_t *self, hb_job_t *job, int status,
               const char *format, ...)
{
    va_list args;
    va_start (args, format);
    s_answer_error (self, job, status, format, args);
    va_end (args);
    /*  Off its queue and its worker (whose credit comes back), then gone. */
    if (job->queue_handle)
        hb_service_unqueue (job->service, job);
    if (job->worker)
        hb_worker_release (job->worker, job);
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
