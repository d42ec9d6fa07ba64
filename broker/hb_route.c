/*  hb_route - routes (pipelines) run inside the broker. See hb_route.h. */
#include "hb_broker.h"
#include "hb_route.h"

#include <jansson.h>
#include <stdarg.h>

struct _hb_route_t {
    hearth_route_t spec;
    char *text;                 /* the expression or pipeline name          */
    hb_job_t *parent;           /* the client's request; NULL once answered */
    int stage;                  /* running stage                            */
    int pending;                /* children out, +1 while a stage starts    */
    zmq_msg_t document;         /* the running stage's input                */
    zmq_msg_t reply[HEARTH_ROUTE_GROUP_MAX];    /* the stage's replies          */
    msgpack_sbuffer trace;      /* one map per finished child               */
    msgpack_packer packer;
    uint32_t trace_count;
};

/* ------------------------------------------------------------- running */

const char *
hb_route_text (hb_route_t *route)
{
    return route->text;
}

static void
s_route_free (hb_route_t *route)
{
    zmq_msg_close (&route->document);
    for (int i = 0; i < HEARTH_ROUTE_GROUP_MAX; i++)
        zmq_msg_close (&route->reply[i]);
    msgpack_sbuffer_destroy (&route->trace);
    hearth_route_free (&route->spec);
    free (route->text);
    free (route);
}

void
hb_route_discard (hb_route_t **route_p)
{
    if (*route_p) {
        s_route_free (*route_p);
        *route_p = NULL;
    }
}

/*  Frees the route once it is answered and no child is out.               */
static void
s_route_settle (hb_route_t *route)
{
    if (!route->parent && route->pending == 0)
        s_route_free (route);
}

typedef struct {
    hb_route_t *route;
    int stage;                  /* -1: no failed stage                       */
} s_meta_arg_t;

/*  Adds `trace` (and `stage` on failure) to the parent's reply metadata.  */
static void
s_extend_meta (hearth_meta_writer_t *writer, void *arg)
{
    s_meta_arg_t *meta = arg;
    hb_route_t *route = meta->route;
    /*  An array header for the entries packed so far.                      */
    uint8_t head[5];
    size_t head_size = 1;
    if (route->trace_count < 16)
        head[0] = (uint8_t) (0x90 | route->trace_count);
    else {
        head[0] = 0xdc;
        head[1] = (uint8_t) (route->trace_count >> 8);
        head[2] = (uint8_t) route->trace_count;
        head_size = 3;
    }
    msgpack_sbuffer array;
    msgpack_sbuffer_init (&array);
    msgpack_sbuffer_write (&array, (const char *) head, head_size);
    msgpack_sbuffer_write (&array, route->trace.data, route->trace.size);
    hearth_meta_put_raw (writer, HEARTH_META_TRACE, array.data, array.size);
    msgpack_sbuffer_destroy (&array);
    if (meta->stage >= 0)
        hearth_meta_put_uint (writer, HEARTH_META_STAGE, (uint64_t) meta->stage);
}

/*  Answers the client and detaches the route from its parent.             */
static void
s_finish (hearth_broker_t *self, hb_route_t *route, int status,
          const char *error, zmq_msg_t *body)
{
    hb_job_t *parent = route->parent;
    s_meta_arg_t arg = { route, status == HEARTH_STATUS_OK ? -1 : route->stage };
    hb_answer (self, parent, status, error, s_extend_meta, &arg, body);
    parent->route = NULL;
    route->parent = NULL;
    hb_jobs_release (self->jobs, &parent);
}

static void
s_fail (hearth_broker_t *self, hb_route_t *route, int status,
        const char *format, ...) __attribute__ ((format (printf, 4, 5)));

static void
s_fail (hearth_broker_t *self, hb_route_t *route, int status,
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
    zmq_msg_copy (&body, &route->document);
    s_finish (self, route, status, error, &body);
}

/*  Sends the current stage's children.                                     */
static void
s_start_stage (hearth_broker_t *self, hb_route_t *route)
{
    hb_job_t *parent = route->parent;
    int stage = route->stage;
    /*  Hold the route while children are submitted: one may be answered
        (queue full) before the loop ends.                                   */
    route->pending = hearth_route_stage_size (&route->spec, stage) + 1;
    for (int i = 0; i < hearth_route_stage_size (&route->spec, stage); i++) {
        const char *name = hearth_route_service (&route->spec, stage, i);
        hb_service_t *service = hb_service_lookup (self, name, HB_FIND);
        hb_job_t *child = service ? hb_jobs_create (self->jobs, parent->deadline_at)
                                  : NULL;
        if (!child) {
            route->pending--;
            if (route->parent)
                s_fail (self, route, service ? HEARTH_STATUS_UNAVAILABLE
                                             : HEARTH_STATUS_NOT_FOUND,
                        "stage %d: %s '%s'", stage,
                        service ? "broker out of memory for" : "no such service",
                        name);
            continue;
        }
        child->client_proto = HB_PROTO_ROUTE;
        child->route = route;
        child->route_index = i;
        child->service = service;
        child->received_at = self->now;
        child->idempotent = parent->idempotent;
        zmq_msg_copy (&child->meta, &parent->meta);
        zmq_msg_copy (&child->body, &route->document);
        if (route->parent)
            hb_submit (self, child);
        else
            hb_fail (self, child, HEARTH_STATUS_UNAVAILABLE, "route ended");
    }
    route->pending--;
}

void
hb_route_start (hearth_broker_t *self, hb_job_t *parent,
                hearth_route_t *spec, const char *text)
{
    hb_route_t *route = calloc (1, sizeof *route);
    char *copy = strdup (text);
    if (!route || !copy) {
        free (route);
        free (copy);
        hearth_route_free (spec);
        hb_answer (self, parent, HEARTH_STATUS_UNAVAILABLE,
                   "broker out of memory", NULL, NULL, NULL);
        hb_jobs_release (self->jobs, &parent);
        return;
    }
    route->spec = *spec;
    memset (spec, 0, sizeof *spec);       /* taken over */
    route->text = copy;
    route->parent = parent;
    zmq_msg_init (&route->document);
    zmq_msg_move (&route->document, &parent->body);
    for (int i = 0; i < HEARTH_ROUTE_GROUP_MAX; i++)
        zmq_msg_init (&route->reply[i]);
    msgpack_sbuffer_init (&route->trace);
    msgpack_packer_init (&route->packer, &route->trace, msgpack_sbuffer_write);
    parent->route = route;
    s_start_stage (self, route);
    s_route_settle (route);
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
s_trace (hearth_broker_t *self, hb_route_t *route, hb_job_t *child, int status)
{
    msgpack_packer *pk = &route->packer;
    hb_worker_t *worker = child->worker;
    int64_t started = child->dispatched_at ? child->dispatched_at : self->now;
    msgpack_pack_map (pk, 7);
    s_pack_uint (pk, "stage", (uint64_t) route->stage);
    s_pack_str (pk, HEARTH_META_SERVICE, child->service->name);
    s_pack_str (pk, HEARTH_META_WORKER, worker ? worker->id_text : "");
    s_pack_str (pk, HEARTH_META_VERSION, worker && worker->version ? worker->version : "");
    s_pack_uint (pk, "status", (uint64_t) status);
    s_pack_uint (pk, HEARTH_META_QUEUE_MS, (uint64_t) (started - child->received_at));
    s_pack_uint (pk, HEARTH_META_RUN_MS,
                 (uint64_t) (child->dispatched_at ? self->now - child->dispatched_at : 0));
    route->trace_count++;
}

/*  Deep-merges the group's JSON objects, later services winning. Returns
    0 with the merged document in out, or -1 with the reason in error.      */
static int
s_merge_group (hb_route_t *route, int size, zmq_msg_t *out, char *error,
               size_t error_size)
{
    json_t *merged = NULL;
    for (int i = 0; i < size; i++) {
        json_error_t parse;
        json_t *doc = json_loadb (zmq_msg_data (&route->reply[i]),
                                  zmq_msg_size (&route->reply[i]), 0, &parse);
        if (!json_is_object (doc)) {
            snprintf (error, error_size, "stage %d: reply of '%s' is not a JSON "
                      "object, so the group cannot be merged", route->stage,
                      hearth_route_service (&route->spec, route->stage, i));
            json_decref (doc);
            json_decref (merged);
            return -1;
        }
        if (!merged)
            merged = doc;
        else {
            json_object_update_recursive (merged, doc);
            json_decref (doc);
        }
    }
    char *text = json_dumps (merged, JSON_COMPACT);
    json_decref (merged);
    if (!text || zmq_msg_init_size (out, strlen (text))) {
        free (text);
        snprintf (error, error_size, "broker out of memory merging stage %d",
                  route->stage);
        return -1;
    }
    memcpy (zmq_msg_data (out), text, strlen (text));
    free (text);
    return 0;
}

/*  All children of the stage answered 200: next stage, or the end.        */
static void
s_stage_complete (hearth_broker_t *self, hb_route_t *route)
{
    int size = hearth_route_stage_size (&route->spec, route->stage);
    zmq_msg_t next;
    if (size == 1) {
        zmq_msg_init (&next);
        zmq_msg_move (&next, &route->reply[0]);
    }
    else {
        char error[600];
        if (s_merge_group (route, size, &next, error, sizeof error)) {
            s_fail (self, route, HEARTH_STATUS_WORKER_ERROR, "%s", error);
            return;
        }
    }
    zmq_msg_close (&route->document);
    zmq_msg_init (&route->document);
    zmq_msg_move (&route->document, &next);
    zmq_msg_close (&next);
    for (int i = 0; i < size; i++) {
        zmq_msg_close (&route->reply[i]);
        zmq_msg_init (&route->reply[i]);
    }
    if (++route->stage < route->spec.stage_count) {
        s_start_stage (self, route);
        return;
    }
    zmq_msg_t body;
    zmq_msg_init (&body);
    zmq_msg_move (&body, &route->document);
    s_finish (self, route, HEARTH_STATUS_OK, NULL, &body);
}

void
hb_route_child_done (hearth_broker_t *self, hb_job_t *child, int status,
                     const char *error, size_t error_len, zmq_msg_t *body)
{
    hb_route_t *route = child->route;
    child->route = NULL;
    route->pending--;
    if (route->parent) {
        s_trace (self, route, child, status);
        if (status != HEARTH_STATUS_OK)
            s_fail (self, route, status, "stage %d (%s): %.*s", route->stage,
                    child->service->name, (int) (error ? error_len : 0),
                    error ? error : "");
        else {
            if (body)
                zmq_msg_move (&route->reply[child->route_index], body);
            if (route->pending == 0)
                s_stage_complete (self, route);
        }
    }
    s_route_settle (route);
}

void
hb_route_expire (hearth_broker_t *self, hb_job_t *parent)
{
    hb_route_t *route = parent->route;
    s_fail (self, route, HEARTH_STATUS_TIMEOUT,
            "deadline exceeded at stage %d (%s) of route '%s'", route->stage,
            hearth_route_service (&route->spec, route->stage, 0), route->text);
    s_route_settle (route);
}
