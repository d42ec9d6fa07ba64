/*  hb_pipeline - pipelines run inside the broker. See hb_pipeline.h. */
#include "hb_broker.h"

#include <stdarg.h>
#include "hb_merge.h"

struct _hb_pipeline_t {
    hearth_route_expr_t spec;
    char *text;                 /* the expression or pipeline name          */
    hb_job_t *parent;           /* the client's request; NULL once answered */
    int stage;                  /* running stage                            */
    int pending;                /* children out, +1 while a stage starts    */
    bool merging;               /* the group's replies are at the merge
                                   thread (hb_merge.h)                       */
    zmq_msg_t document;         /* the running stage's input                */
    zmq_msg_t reply[HEARTH_ROUTE_GROUP_MAX];    /* the stage's replies          */
    msgpack_sbuffer trace;      /* one map per finished child               */
    msgpack_packer packer;
    uint32_t trace_count;
};

/* ------------------------------------------------------------- running */

const char *
hb_pipeline_text (hb_pipeline_t *pipeline)
{
    return pipeline->text;
}

static void
s_pipeline_free (hb_pipeline_t *pipeline)
{
    zmq_msg_close (&pipeline->document);
    for (int i = 0; i < HEARTH_ROUTE_GROUP_MAX; i++)
        zmq_msg_close (&pipeline->reply[i]);
    msgpack_sbuffer_destroy (&pipeline->trace);
    hearth_route_expr_free (&pipeline->spec);
    free (pipeline->text);
    free (pipeline);
}

void
hb_pipeline_discard (hb_pipeline_t **pipeline_p)
{
    if (*pipeline_p) {
        s_pipeline_free (*pipeline_p);
        *pipeline_p = NULL;
    }
}

/*  Frees the pipeline once it is answered and no child is out.               */
static void
s_pipeline_settle (hb_pipeline_t *pipeline)
{
    if (!pipeline->parent && pipeline->pending == 0)
        s_pipeline_free (pipeline);
}

typedef struct {
    hb_pipeline_t *pipeline;
    int stage;                  /* -1: no failed stage                       */
} s_meta_arg_t;

/*  Adds `trace` (and `stage` on failure) to the parent's reply metadata.  */
static void
s_extend_meta (hearth_meta_writer_t *writer, void *arg)
{
    s_meta_arg_t *meta = arg;
    hb_pipeline_t *pipeline = meta->pipeline;
    /*  An array header for the entries packed so far.                      */
    uint8_t head[5];
    size_t head_size = 1;
    if (pipeline->trace_count < 16)
        head[0] = (uint8_t) (0x90 | pipeline->trace_count);
    else {
        head[0] = 0xdc;
        head[1] = (uint8_t) (pipeline->trace_count >> 8);
        head[2] = (uint8_t) pipeline->trace_count;
        head_size = 3;
    }
    msgpack_sbuffer array;
    msgpack_sbuffer_init (&array);
    msgpack_sbuffer_write (&array, (const char *) head, head_size);
    msgpack_sbuffer_write (&array, pipeline->trace.data, pipeline->trace.size);
    hearth_meta_put_raw (writer, HEARTH_META_TRACE, array.data, array.size);
    msgpack_sbuffer_destroy (&array);
    if (meta->stage >= 0)
        hearth_meta_put_uint (writer, HEARTH_META_STAGE, (uint64_t) meta->stage);
}

/*  Answers the client and detaches the pipeline from its parent.             */
static void
s_finish (hearth_broker_t *self, hb_pipeline_t *pipeline, int status,
          const char *error, zmq_msg_t *body)
{
    hb_job_t *parent = pipeline->parent;
    s_meta_arg_t arg = { pipeline, status == HEARTH_STATUS_OK ? -1 : pipeline->stage };
    hb_reply_answer (self, parent, status, error, s_extend_meta, &arg, body);
    parent->pipeline = NULL;
    pipeline->parent = NULL;
    hb_jobs_release (self->jobs, &parent);
}

static void
s_fail (hearth_broker_t *self, hb_pipeline_t *pipeline, int status,
        const char *format, ...) __attribute__ ((format (printf, 4, 5)));

static void
s_fail (hearth_broker_t *self, hb_pipeline_t *pipeline, int status,
        const char *format, ...)
{
    char error[600];
    va_list args;
    va_start (args, format);
    vsnprintf (error, sizeof error, format, args);
    va_end (args);
    /*  The body is the document as the failing stage was given it.        */
    zmq_msg_t body;
    zmq_msg_init (&body);
    zmq_msg_copy (&body, &pipeline->document);
    s_finish (self, pipeline, status, error, &body);
}

/*  Sends the current stage's children.                                     */
static void
s_start_stage (hearth_broker_t *self, hb_pipeline_t *pipeline)
{
    hb_job_t *parent = pipeline->parent;
    int stage = pipeline->stage;
    /*  Hold the pipeline while children are submitted: one may be answered
        (queue full) before the loop ends.                                   */
    pipeline->pending = hearth_route_expr_stage_size (&pipeline->spec, stage) + 1;
    for (int i = 0; i < hearth_route_expr_stage_size (&pipeline->spec, stage); i++) {
        const char *name = hearth_route_expr_service (&pipeline->spec, stage, i);
        hb_service_t *service = hb_service_lookup (self, name, HB_FIND);
        hb_job_t *child = service ? hb_jobs_create (self->jobs, parent->deadline_at)
                                  : NULL;
        if (!child) {
            pipeline->pending--;
            if (pipeline->parent)
                s_fail (self, pipeline, service ? HEARTH_STATUS_UNAVAILABLE
                                             : HEARTH_STATUS_NOT_FOUND,
                        "stage %d: %s '%s'", stage,
                        service ? "broker out of memory for" : "no such service",
                        name);
            continue;
        }
        child->sink = HB_SINK_PIPELINE;
        child->pipeline = pipeline;
        child->pipeline_slot = i;
        child->service = service;
        child->received_at = self->now;
        child->idempotent = parent->idempotent;
        zmq_msg_copy (&child->meta, &parent->meta);
        zmq_msg_copy (&child->body, &pipeline->document);
        if (pipeline->parent)
            hb_dispatch_submit (self, child);
        else
            hb_reply_fail (self, child, HEARTH_STATUS_UNAVAILABLE, "route ended");
    }
    pipeline->pending--;
}

static void
s_start (hearth_broker_t *self, hb_job_t *parent,
                hearth_route_expr_t *spec, const char *text)
{
    hb_pipeline_t *pipeline = calloc (1, sizeof *pipeline);
    char *copy = strdup (text);
    if (!pipeline || !copy) {
        free (pipeline);
        free (copy);
        hearth_route_expr_free (spec);
        hb_reply_answer (self, parent, HEARTH_STATUS_UNAVAILABLE,
                   "broker out of memory", NULL, NULL, NULL);
        hb_jobs_release (self->jobs, &parent);
        return;
    }
    pipeline->spec = *spec;
    memset (spec, 0, sizeof *spec);       /* taken over */
    pipeline->text = copy;
    pipeline->parent = parent;
    zmq_msg_init (&pipeline->document);
    zmq_msg_move (&pipeline->document, &parent->body);
    for (int i = 0; i < HEARTH_ROUTE_GROUP_MAX; i++)
        zmq_msg_init (&pipeline->reply[i]);
    msgpack_sbuffer_init (&pipeline->trace);
    msgpack_packer_init (&pipeline->packer, &pipeline->trace, msgpack_sbuffer_write);
    parent->pipeline = pipeline;
    s_start_stage (self, pipeline);
    s_pipeline_settle (pipeline);
}

static void
s_pack_str (msgpack_packer *pk, const char *key, const char *value)
{
    msgpack_pack_str (pk, strlen (key));
    msgpack_pack_str_body (pk, key, strlen (key));
    msgpack_pack_str (pk, strlen (value));
    msgpack_pack_str_body (pk, value, strlen (value));
}

static void
s_pack_uint (msgpack_packer *pk, const char *key, uint64_t value)
{
    msgpack_pack_str (pk, strlen (key));
    msgpack_pack_str_body (pk, key, strlen (key));
    msgpack_pack_uint64 (pk, value);
}

static void
s_trace (hearth_broker_t *self, hb_pipeline_t *pipeline, hb_job_t *child, int status)
{
    msgpack_packer *pk = &pipeline->packer;
    hb_worker_t *worker = child->worker;
    int64_t started = child->dispatched_at ? child->dispatched_at : self->now;
    msgpack_pack_map (pk, 7);
    s_pack_uint (pk, "stage", (uint64_t) pipeline->stage);
    s_pack_str (pk, HEARTH_META_SERVICE, child->service->name);
    s_pack_str (pk, HEARTH_META_WORKER, worker ? worker->id : "");
    s_pack_str (pk, HEARTH_META_VERSION, worker && worker->version ? worker->version : "");
    s_pack_uint (pk, "status", (uint64_t) status);
    s_pack_uint (pk, HEARTH_META_QUEUE_MS, (uint64_t) (started - child->received_at));
    s_pack_uint (pk, HEARTH_META_RUN_MS,
                 (uint64_t) (child->dispatched_at ? self->now - child->dispatched_at : 0));
    pipeline->trace_count++;
}

/*  The stage's output is next (moved): run the next stage, or answer.     */
static void
s_next_stage (hearth_broker_t *self, hb_pipeline_t *pipeline, zmq_msg_t *next)
{
    int size = hearth_route_expr_stage_size (&pipeline->spec, pipeline->stage);
    zmq_msg_close (&pipeline->document);
    zmq_msg_init (&pipeline->document);
    zmq_msg_move (&pipeline->document, next);
    for (int i = 0; i < size; i++) {
        zmq_msg_close (&pipeline->reply[i]);
        zmq_msg_init (&pipeline->reply[i]);
    }
    if (++pipeline->stage < pipeline->spec.stage_count) {
        s_start_stage (self, pipeline);
        return;
    }
    zmq_msg_t body;
    zmq_msg_init (&body);
    zmq_msg_move (&body, &pipeline->document);
    s_finish (self, pipeline, HEARTH_STATUS_OK, NULL, &body);
}

/*  All children of the stage answered 200. One reply is the next document
    as it is; a group's replies go to the merge thread, whose result comes
    back through hb_pipeline_collect: parsing, merging and encoding cost
    time in proportion to the bodies, which the broker's thread must not
    spend while every other caller waits.                                   */
static void
s_stage_complete (hearth_broker_t *self, hb_pipeline_t *pipeline)
{
    int size = hearth_route_expr_stage_size (&pipeline->spec, pipeline->stage);
    if (size == 1) {
        zmq_msg_t next;
        zmq_msg_init (&next);
        zmq_msg_move (&next, &pipeline->reply[0]);
        s_next_stage (self, pipeline, &next);
        zmq_msg_close (&next);
        return;
    }
    /*  By id, not pointer: the pipeline may be answered (deadline) and
        freed before the result is back.                                     */
    hb_merge_request_t request = {
        .id = pipeline->parent->id, .stage = pipeline->stage,
        .deadline_at = pipeline->parent->deadline_at,
        .max_size = self->config.max_message
    };
    if (hb_merge_send (self->merge, &request, pipeline->reply, size))
        s_fail (self, pipeline, HEARTH_STATUS_UNAVAILABLE,
                "stage %d: broker cannot merge the group now (%d merges "
                "waiting)", pipeline->stage, hb_merge_pending (self->merge));
    else
        pipeline->merging = true;
}

/*  A merge is back: the next stage, or the route's failure.               */
static void
s_merged (hearth_broker_t *self, hb_merge_result_t *result)
{
    hb_job_t *parent = hb_jobs_find (self->jobs, result->id);
    hb_pipeline_t *pipeline = parent && parent->sink != HB_SINK_PIPELINE
                            ? parent->pipeline : NULL;
    /*  Its route was answered meanwhile (deadline): nothing waits for it. */
    if (!pipeline || !pipeline->merging || pipeline->stage != result->stage)
        return;
    pipeline->merging = false;
    int stage = pipeline->stage;
    const char *member = result->member >= 0
                       ? hearth_route_expr_service (&pipeline->spec, stage, result->member)
                       : "";
    switch (result->status) {
        case HB_MERGE_OK:
            s_next_stage (self, pipeline, &result->body);
            break;
        case HB_MERGE_NOT_OBJECT:
            s_fail (self, pipeline, HEARTH_STATUS_WORKER_ERROR,
                    "stage %d: reply of '%s' is not a JSON object, so the group "
                    "cannot be merged", stage, member);
            break;
        case HB_MERGE_TOO_MANY_VALUES:
            s_fail (self, pipeline, HEARTH_STATUS_TOO_LARGE,
                    "stage %d: reply of '%s' has more than %d JSON values, too "
                    "many to merge", stage, member, HB_MERGE_VALUES_MAX);
            break;
        case HB_MERGE_TOO_LARGE:
            s_fail (self, pipeline, HEARTH_STATUS_TOO_LARGE,
                    "stage %d: the merged document exceeds the limit of %zu "
                    "bytes", stage, self->config.max_message);
            break;
        case HB_MERGE_LATE:
            /*  The deadline passed; the timer answers 504 naming the stage. */
            break;
        default:
            s_fail (self, pipeline, HEARTH_STATUS_UNAVAILABLE,
                    "broker out of memory merging stage %d", stage);
            break;
    }
    s_pipeline_settle (pipeline);
}

void
hb_pipeline_collect (hearth_broker_t *self)
{
    hb_merge_result_t result;
    while (hb_merge_recv (self->merge, &result) == 1) {
        s_merged (self, &result);
        zmq_msg_close (&result.body);
    }
}

void
hb_pipeline_stage_done (hearth_broker_t *self, hb_job_t *child, int status,
                     const char *error, size_t error_len, zmq_msg_t *body)
{
    hb_pipeline_t *pipeline = child->pipeline;
    child->pipeline = NULL;
    pipeline->pending--;
    if (pipeline->parent) {
        s_trace (self, pipeline, child, status);
        if (status != HEARTH_STATUS_OK)
            s_fail (self, pipeline, status, "stage %d (%s): %.*s", pipeline->stage,
                    child->service->name, (int) (error ? error_len : 0),
                    error ? error : "");
        else
        if (body && zmq_msg_size (body) > self->config.max_message)
            /*  It would be the next stage's request, or the client's reply. */
            s_fail (self, pipeline, HEARTH_STATUS_TOO_LARGE,
                    "stage %d (%s): reply of %zu bytes exceeds the limit of %zu",
                    pipeline->stage, child->service->name, zmq_msg_size (body),
                    self->config.max_message);
        else {
            if (body)
                zmq_msg_move (&pipeline->reply[child->pipeline_slot], body);
            if (pipeline->pending == 0)
                s_stage_complete (self, pipeline);
        }
    }
    s_pipeline_settle (pipeline);
}

void
hb_pipeline_expire (hearth_broker_t *self, hb_job_t *parent)
{
    hb_pipeline_t *pipeline = parent->pipeline;
    s_fail (self, pipeline, HEARTH_STATUS_TIMEOUT,
            "deadline exceeded %s stage %d (%s) of route '%s'",
            pipeline->merging ? "merging" : "at", pipeline->stage,
            hearth_route_expr_service (&pipeline->spec, pipeline->stage, 0), pipeline->text);
    s_pipeline_settle (pipeline);
}

const char *
hb_pipeline_for (hearth_broker_t *self, const char *name)
{
    const char *route = zhashx_lookup (self->pipelines, name);
    return route ? route : hearth_route_expr_is_expression (name) ? name : NULL;
}

void
hb_pipeline_submit (hearth_broker_t *self, hb_job_t *job, const char *name,
                    const char *route)
{
    hearth_route_expr_t spec;
    char error[320];
    if (!hb_dispatch_accept (self, job))
        return;
    int status = HEARTH_STATUS_BAD_REQUEST;
    int rc = hearth_route_expr_parse (route, &spec, error, sizeof error);
    /*  Every stage's service must exist now: fail fast, as for a service. */
    for (int stage = 0; rc == 0 && stage < spec.stage_count; stage++)
        for (int i = 0; rc == 0 && i < hearth_route_expr_stage_size (&spec, stage); i++)
            if (!hb_service_lookup (self, hearth_route_expr_service (&spec, stage, i),
                                    HB_FIND_OFFERED)) {
                snprintf (error, sizeof error, "stage %d: no such service '%s'",
                          stage, hearth_route_expr_service (&spec, stage, i));
                status = HEARTH_STATUS_NOT_FOUND;
                rc = -1;
            }
    if (rc) {
        hearth_route_expr_free (&spec);
        hb_reply_answer (self, job, status, error, NULL, NULL, NULL);
        hb_jobs_release (self->jobs, &job);
        return;
    }
    s_start (self, job, &spec, name);
}
