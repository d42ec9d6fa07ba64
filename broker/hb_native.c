/*  hb_native - HMP/1 clients and workers (schemas/PROTOCOL.md sections 3
    and 4). One handler per command; every frame is checked before use.
*/
#include "hb_broker.h"

#include <stdio.h>

/* ---------------------------------------------------------------- client */

typedef struct {
    char service[HEARTH_SERVICE_MAX + 1];
    int64_t deadline_ms;
    bool idempotent;
} s_request_t;

/*  Checks a REQUEST whose request id is usable. Returns 0, or the status
    to answer with and the reason in error.                                  */
static int
s_check_request (hearth_broker_t *self, hearth_frames_t *msg, s_request_t *req,
                 char *error, size_t size)
{
    /*  Size first: a message too large may not have been kept whole, and
        it is its size the caller needs to hear about.                       */
    if (msg->total > self->config.max_message) {
        snprintf (error, size, "message of %zu bytes exceeds the limit of %zu",
                  msg->total, self->config.max_message);
        return HEARTH_STATUS_TOO_LARGE;
    }
    if (msg->frames != HEARTH_CLIENT_REQUEST_FRAMES + 1) {
        snprintf (error, size, "REQUEST must have %d frames, not %zu",
                  HEARTH_CLIENT_REQUEST_FRAMES, msg->frames - 1);
        return HEARTH_STATUS_BAD_REQUEST;
    }
    if (hb_service_name (msg, HB_FRAME (4), req->service)) {
        snprintf (error, size, "service name must be 1 to %d bytes with no "
                  "control characters", HEARTH_SERVICE_MAX);
        return HEARTH_STATUS_BAD_REQUEST;
    }
    const void *meta = hearth_frames_data (msg, HB_FRAME (5));
    size_t meta_size = hearth_frames_size (msg, HB_FRAME (5));
    hearth_meta_iter_t iter;
    hearth_meta_entry_t entry;
    int rc = meta_size > HEARTH_META_MAX ? -2
           : hearth_meta_iter_init (&iter, meta, meta_size);
    req->deadline_ms = self->config.default_deadline_ms;
    req->idempotent = false;
    while (rc == 0 && (rc = hearth_meta_iter_next (&iter, &entry)) == 1) {
        uint64_t deadline;
        rc = 0;
        if (hearth_meta_key_is (&entry, HEARTH_META_DEADLINE)) {
            if (hearth_meta_value_uint (&entry, &deadline)) {
                snprintf (error, size, "metadata 'deadline' must be an "
                          "unsigned integer (ms)");
                return HEARTH_STATUS_BAD_REQUEST;
            }
            /*  Budgets beyond a day are taken as a day: no overflow, and
                still never "forever".                                        */
            req->deadline_ms = deadline > 86400000 ? 86400000 : (int64_t) deadline;
        }
        else
        if (hearth_meta_key_is (&entry, HEARTH_META_IDEMPOTENT)
        &&  hearth_meta_value_bool (&entry, &req->idempotent)) {
            snprintf (error, size, "metadata 'idempotent' must be a boolean");
            return HEARTH_STATUS_BAD_REQUEST;
        }
    }
    if (rc < 0) {
        snprintf (error, size, "metadata must be a msgpack map of at most %d "
                  "bytes and %d levels", HEARTH_META_MAX, HEARTH_META_DEPTH_MAX);
        return HEARTH_STATUS_BAD_REQUEST;
    }
    return 0;
}

static void
s_client_request (hearth_broker_t *self, hearth_frames_t *msg)
{
    s_request_t req;
    char error[320];
    int status = s_check_request (self, msg, &req, error, sizeof error);
    if (status) {
        hb_reply_direct (self, msg, status, error, "", 0);
        return;
    }
    if (self->draining) {
        hb_reply_direct (self, msg, HEARTH_STATUS_UNAVAILABLE,
                         "broker shutting down", "", 0);
        return;
    }
    if (hb_is_reserved (req.service)) {
        hb_discovery (self, msg, HB_PROTO_NATIVE, req.service, HB_FRAME (6));
        return;
    }
    const char *route = hb_pipeline_for (self, req.service);
    hb_service_t *service = route ? NULL
                          : hb_service_lookup (self, req.service, HB_FIND_OFFERED);
    if (!route && !service) {
        snprintf (error, sizeof error, "no such service '%s'", req.service);
        hb_reply_direct (self, msg, HEARTH_STATUS_NOT_FOUND, error, "", 0);
        return;
    }
    if (req.deadline_ms == 0) {
        hb_reply_direct (self, msg, HEARTH_STATUS_TIMEOUT,
                         "deadline already passed on arrival", "", 0);
        return;
    }
    hb_job_t *job = hb_jobs_create (self->jobs, self->now + req.deadline_ms);
    if (!job) {
        hb_reply_direct (self, msg, HEARTH_STATUS_UNAVAILABLE,
                         "broker out of memory", "", 0);
        return;
    }
    if (hb_job_set_addresses (job, hearth_frames_data (msg, HB_IDENTITY),
                              hearth_frames_size (msg, HB_IDENTITY),
                              hearth_frames_data (msg, HB_FRAME (3)),
                              hearth_frames_size (msg, HB_FRAME (3)))) {
        hb_jobs_release (self->jobs, &job);
        hb_reply_direct (self, msg, HEARTH_STATUS_UNAVAILABLE,
                         "broker out of memory", "", 0);
        return;
    }
    job->sink = HB_SINK_NATIVE;
    job->service = service;
    job->received_at = self->now;
    job->idempotent = req.idempotent;
    zmq_msg_move (&job->meta, &msg->frame[HB_FRAME (5)]);
    zmq_msg_move (&job->body, &msg->frame[HB_FRAME (6)]);
    if (route)
        hb_pipeline_submit (self, job, req.service, route);
    else
        hb_dispatch_submit (self, job);
}

/*  REQUEST: checked in two steps, since until its request id is known to
    be usable there is nothing to answer, only to drop.                      */
static void
s_client_request_checked (hearth_broker_t *self, hearth_frames_t *msg)
{
    if (msg->count <= HB_FRAME (3)
    ||  hearth_frames_size (msg, HB_FRAME (3)) == 0
    ||  hearth_frames_size (msg, HB_FRAME (3)) > HEARTH_REQUEST_ID_MAX)
        /*  Without a usable request id a reply could not be matched.       */
        hb_drop (self, msg, HB_FRAME (3), "REQUEST without a 1-255 byte id");
    else
    if (hearth_frames_size (msg, HB_IDENTITY) > HB_IDENTITY_MAX)
        hb_drop (self, msg, HB_IDENTITY, "identity too long");
    else
        s_client_request (self, msg);
}

typedef struct {
    int command;
    void (*handler) (hearth_broker_t *self, hearth_frames_t *msg);
} s_client_command_t;

static const s_client_command_t s_client_commands[] = {
    { HEARTH_CLIENT_REQUEST, s_client_request_checked },
    { 0, NULL }
};

void
hb_native_client (hearth_broker_t *self, hearth_frames_t *msg)
{
    int command = hearth_frames_command (msg, HB_FRAME (2));
    const s_client_command_t *entry = s_client_commands;
    while (entry->handler && entry->command != command)
        entry++;
    if (entry->handler)
        entry->handler (self, msg);
    else
        hb_drop (self, msg, HB_FRAME (2), "not a native client command");
}

/* ---------------------------------------------------------------- worker */

static void
s_send_registered (hearth_broker_t *self, hearth_frames_t *msg, int status,
                   const char *error, hb_worker_t *worker)
{
    char status_text[3];
    hearth_wire_status_encode (status, status_text);
    uint8_t command = HEARTH_WORKER_REGISTERED;
    hearth_meta_writer_t *writer = &self->writer;
    hearth_meta_writer_reset (writer);
    if (worker) {
        hearth_meta_put_uint (writer, HEARTH_SET_HEARTBEAT,
                              (uint64_t) self->config.heartbeat_ms);
        hearth_meta_put_uint (writer, HEARTH_SET_LIVENESS,
                              (uint64_t) self->config.liveness);
        hearth_meta_put_uint (writer, HEARTH_SET_MAX_MESSAGE,
                              (uint64_t) self->config.max_message);
        hearth_meta_put_str (writer, HEARTH_SET_WORKER_ID, worker->id);
    }
    if (error)
        hearth_meta_put_str (writer, HEARTH_META_ERROR, error);
    zmq_msg_t settings;
    if (hearth_meta_writer_to_msg (writer, &settings))
        zmq_msg_init (&settings);
    hearth_part_t parts[] = {
        HEARTH_PART_BYTES (hearth_frames_data (msg, HB_IDENTITY),
                           hearth_frames_size (msg, HB_IDENTITY)),
        HEARTH_PART_EMPTY,
        HEARTH_PART_STR (HEARTH_WORKER_HEADER),
        HEARTH_PART_BYTES (&command, 1),
        HEARTH_PART_BYTES (status_text, 3),
        HEARTH_PART_MSG (&settings)
    };
    hb_send (self, parts, 6);
}

typedef struct {
    size_t credit;
    bool idempotent;
    char version[128];
} s_descriptor_t;

static bool
s_is_str_key (const hearth_meta_entry_t *entry)
{
    static const char *const keys[] = {
        HEARTH_DESC_VERSION, HEARTH_DESC_DESCRIPTION, HEARTH_DESC_INPUT_SCHEMA,
        HEARTH_DESC_OUTPUT_SCHEMA, HEARTH_DESC_EXAMPLE, HEARTH_DESC_SERVICE, NULL
    };
    for (int i = 0; keys[i]; i++)
        if (hearth_meta_key_is (entry, keys[i]))
            return true;
    return false;
}

/*  Reads the facts the broker needs from a descriptor. Returns NULL, or
    what is wrong with it.                                                   */
static const char *
s_parse_descriptor (const void *data, size_t size, const char *service,
                    s_descriptor_t *desc)
{
    hearth_meta_iter_t iter;
    hearth_meta_entry_t entry;
    desc->credit = 1;
    desc->idempotent = false;
    desc->version[0] = 0;
    if (size > HEARTH_META_MAX || hearth_meta_validate (data, size)
    ||  hearth_meta_iter_init (&iter, data, size))
        return "descriptor must be a msgpack map of at most 65536 bytes";
    while (hearth_meta_iter_next (&iter, &entry) == 1) {
        const char *str;
        size_t len;
        uint64_t number;
        if (s_is_str_key (&entry)) {
            if (hearth_meta_value_str (&entry, &str, &len))
                return "descriptor text fields must be strings";
            if (hearth_meta_key_is (&entry, HEARTH_DESC_SERVICE)
            && (len != strlen (service) || memcmp (str, service, len)))
                return "descriptor 'service' differs from the READY frame";
            if (hearth_meta_key_is (&entry, HEARTH_DESC_VERSION))
                snprintf (desc->version, sizeof desc->version, "%.*s",
                          (int) (len < 127 ? len : 127), str);
        }
        else
        if (hearth_meta_key_is (&entry, HEARTH_DESC_CREDIT)) {
            if (hearth_meta_value_uint (&entry, &number)
            ||  number < 1 || number > HEARTH_CREDIT_MAX)
                return "descriptor 'credit' must be an integer from 1 to 10000";
            desc->credit = (size_t) number;
        }
        else
        if (hearth_meta_key_is (&entry, HEARTH_DESC_CONCURRENCY)) {
            if (hearth_meta_value_uint (&entry, &number))
                return "descriptor 'concurrency' must be an unsigned integer";
        }
        else
        if (hearth_meta_key_is (&entry, HEARTH_DESC_IDEMPOTENT)
        &&  hearth_meta_value_bool (&entry, &desc->idempotent))
            return "descriptor 'idempotent' must be a boolean";
    }
    return NULL;
}

static void
s_worker_ready (hearth_broker_t *self, hb_worker_t *unregistered,
                hearth_frames_t *msg)
{
    (void) unregistered;
    char service_name[HEARTH_SERVICE_MAX + 1];
    s_descriptor_t desc;
    const char *error = NULL;
    int status = HEARTH_STATUS_BAD_REQUEST;
    if (msg->count != HEARTH_WORKER_READY_FRAMES + 1)
        error = "READY must have 5 frames";
    else
    if (hb_service_name (msg, HB_FRAME (3), service_name))
        error = "service name must be 1 to 255 bytes with no control characters";
    else
    if (hb_is_reserved (service_name)) {
        status = HEARTH_STATUS_FORBIDDEN;
        error = "service names starting with 'mmi.' or 'hearth.' are reserved";
    }
    else
    if (hearth_route_expr_name_check (service_name))
        error = "service names cannot contain spaces, ',', '[' or ']'";
    else
        error = s_parse_descriptor (hearth_frames_data (msg, HB_FRAME (4)),
                                    hearth_frames_size (msg, HB_FRAME (4)),
                                    service_name, &desc);
    hb_identity_t identity;
    if (!error && hb_identity_set (&identity, hearth_frames_data (msg, HB_IDENTITY),
                                   hearth_frames_size (msg, HB_IDENTITY)))
        error = "identity too long";
    if (!error && self->descriptor_bytes + hearth_frames_size (msg, HB_FRAME (4))
                  > HB_DESCRIPTOR_BYTES_MAX) {
        status = HEARTH_STATUS_UNAVAILABLE;
        error = "the broker holds its limit of 64 MiB of descriptors";
    }
    if (error) {
        hearth_log_limited (&self->refusal_log, HEARTH_LOG_WARN,
                            "worker registration refused (%d): %s", status,
                            error);
        s_send_registered (self, msg, status, error, NULL);
        return;
    }
    hb_service_t *service = hb_service_lookup (self, service_name, HB_FIND_OR_CREATE);
    hb_worker_t *worker = service ? hb_worker_new (&identity, HB_PROTO_NATIVE) : NULL;
    if (worker) {
        worker->credit = desc.credit;
        worker->idempotent = desc.idempotent;
        worker->version = desc.version[0] ? strdup (desc.version) : NULL;
    }
    if (!worker || (desc.version[0] && !worker->version)
    ||  hb_worker_set_descriptor (worker, hearth_frames_data (msg, HB_FRAME (4)),
                                  hearth_frames_size (msg, HB_FRAME (4)))
    ||  hb_worker_attach (self, worker, service)) {
        hb_worker_destroy (&worker);
        s_send_registered (self, msg, HEARTH_STATUS_UNAVAILABLE,
                           "broker out of memory", NULL);
        return;
    }
    s_send_registered (self, msg, HEARTH_STATUS_OK, NULL, worker);
    hb_dispatch_service (self, service);
}

/*  A REPLY frame set that cannot be trusted still returns its credit and
    answers its client, so one bad worker message cannot strand a caller.  */
static void
s_worker_reply (hearth_broker_t *self, hb_worker_t *worker, hearth_frames_t *msg)
{
    uint64_t id;
    hb_job_t *job = NULL;
    if (msg->count > HB_FRAME (3)
    &&  hb_job_id_decode (hearth_frames_data (msg, HB_FRAME (3)),
                          hearth_frames_size (msg, HB_FRAME (3)), &id) == 0)
        job = hb_jobs_find (self->jobs, id);
    if (!job || job->worker != worker) {
        hb_drop (self, msg, HB_FRAME (3), "REPLY for a job this worker does not hold");
        return;
    }
    int status = msg->count == HEARTH_WORKER_REPLY_FRAMES + 1 && !msg->truncated
               ? hearth_wire_status_decode (hearth_frames_data (msg, HB_FRAME (4)),
                                            hearth_frames_size (msg, HB_FRAME (4)))
               : -1;
    zmq_msg_t *meta = status > 0 ? &msg->frame[HB_FRAME (5)] : NULL;
    if (meta && (zmq_msg_size (meta) > HEARTH_META_MAX
             ||  hearth_meta_validate (zmq_msg_data (meta), zmq_msg_size (meta))))
        status = -1;
    if (status < 0) {
        hb_drop (self, msg, HB_FRAME (4), "malformed REPLY");
        hb_reply_fail (self, job, HEARTH_STATUS_WORKER_ERROR,
                       "worker %s sent a malformed reply", worker->id);
    }
    else {
        hb_reply_relay (self, job, status, meta, msg, HB_FRAME (6));
        hb_service_completed (job->service, self->now - job->dispatched_at);
        hb_worker_release (worker, job);
        hb_jobs_release (self->jobs, &job);
    }
    hb_worker_replied (self, worker);
}

static const hb_worker_command_t s_worker_commands[] = {
    { HEARTH_WORKER_READY,      "READY",      true,  s_worker_ready },
    { HEARTH_WORKER_REPLY,      "REPLY",      false, s_worker_reply },
    { HEARTH_WORKER_HEARTBEAT,  "HEARTBEAT",  false, hb_worker_on_heartbeat },
    { HEARTH_WORKER_DISCONNECT, "DISCONNECT", false, hb_worker_on_disconnect_native },
    { 0, NULL, false, NULL }
};

void
hb_native_worker (hearth_broker_t *self, hearth_frames_t *msg)
{
    hb_worker_message (self, msg, HB_PROTO_NATIVE, s_worker_commands);
}
