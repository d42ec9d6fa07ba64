/*  hearth_job - a request held by a worker, and the handler's views of it.
    See hearth_job.h.
*/
#include "hearth_job.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "hearth_clock.h"
#include "hearth_wire.h"

/*  Reads the two keys the library acts on. Unknown keys are the broker's
    and the client's business and are left for the handler.                  */
static int
s_read_meta (hearth_request_t *request, const void *data, size_t size,
             int64_t now)
{
    hearth_meta_iter_t iter;
    hearth_meta_entry_t entry;
    if (hearth_meta_iter_init (&iter, data, size))
        return -2;
    request->deadline_at = -1;
    request->attempt = 1;
    int rc;
    while ((rc = hearth_meta_iter_next (&iter, &entry)) == 1) {
        uint64_t value;
        if (hearth_meta_key_is (&entry, HEARTH_META_DEADLINE)) {
            if (hearth_meta_value_uint (&entry, &value))
                return -2;
            /*  Clamp: a budget of years is "no practical deadline", and an
                unclamped one would overflow the addition.                   */
            if (value > INT32_MAX)
                value = INT32_MAX;
            request->deadline_at = now + (int64_t) value;
        }
        else
        if (hearth_meta_key_is (&entry, HEARTH_META_ATTEMPT)) {
            if (hearth_meta_value_uint (&entry, &value) || value == 0
            ||  value > 1000)
                return -2;
            request->attempt = (int) value;
        }
    }
    return rc;
}

int
hearth_job_accept (hearth_job_t *self, zmq_msg_t *job_id, zmq_msg_t *meta,
                   zmq_msg_t *body, int64_t now, uint64_t epoch)
{
    if (s_read_meta (&self->request, zmq_msg_data (meta), zmq_msg_size (meta),
                     now))
        return -2;
    zmq_msg_init (&self->job_id);
    zmq_msg_init (&self->request.meta);
    zmq_msg_init (&self->request.body);
    zmq_msg_move (&self->job_id, job_id);
    zmq_msg_move (&self->request.meta, meta);
    zmq_msg_move (&self->request.body, body);
    self->response.body = NULL;
    self->response.size = 0;
    self->response.error = NULL;
    self->epoch = epoch;
    self->status = HEARTH_STATUS_WORKER_ERROR;
    self->held = true;
    return 0;
}

void
hearth_job_release (hearth_job_t *self)
{
    if (!self->held)
        return;
    zmq_msg_close (&self->job_id);
    zmq_msg_close (&self->request.meta);
    zmq_msg_close (&self->request.body);
    free (self->response.body);
    free (self->response.error);
    self->response.body = NULL;
    self->response.error = NULL;
    self->held = false;
}

void
hearth_job_run (hearth_job_t *self, hearth_handler_fn *handler, void *arg)
{
    /*  The caller has given up: running it would only delay the jobs
        queued behind it.                                                    */
    if (self->request.deadline_at >= 0
    &&  self->request.deadline_at <= hearth_clock_ms ()) {
        hearth_job_fail (self, HEARTH_STATUS_TIMEOUT,
                         "deadline passed before a handler was free");
        return;
    }
    int status = handler (&self->request, &self->response, arg);
    if (status < 100 || status > 599) {
        char text[80];
        snprintf (text, sizeof text, "handler returned invalid status %d",
                  status);
        if (!self->response.error)
            hearth_response_set_error (&self->response, text);
        status = HEARTH_STATUS_WORKER_ERROR;
    }
    self->status = status;
}

void
hearth_job_fail (hearth_job_t *self, int status, const char *error)
{
    self->status = status;
    free (self->response.body);
    self->response.body = NULL;
    self->response.size = 0;
    hearth_response_set_error (&self->response, error);
}

static void
s_free_body (void *data, void *hint)
{
    free (data);
}

int
hearth_job_reply (hearth_job_t *self, void *socket,
                  hearth_meta_writer_t *writer, size_t max_message)
{
    hearth_response_t *response = &self->response;
    /*  The broker refuses what exceeds its max_message; better the caller
        learns why than waits for a deadline.                                */
    size_t error_size = response->error ? strlen (response->error) : 0;
    if (max_message && response->size + error_size + 64 > max_message) {
        char text[120];
        snprintf (text, sizeof text,
                  "reply body of %zu bytes exceeds the broker's max_message "
                  "of %zu", response->size, max_message);
        hearth_job_fail (self, HEARTH_STATUS_WORKER_ERROR, text);
    }
    char status[3];
    hearth_wire_status_encode (self->status, status);

    /*  A non-success status always says why, even if the handler did not. */
    const char *error = response->error;
    if (!error && self->status >= 400)
        error = hearth_status_text (self->status);
    zmq_msg_t meta, body;
    hearth_meta_writer_reset (writer);
    if (error)
        hearth_meta_put_str (writer, HEARTH_META_ERROR, error);
    if (error ? hearth_meta_writer_to_msg (writer, &meta) : zmq_msg_init (&meta))
        return -1;
    if (response->body) {
        if (zmq_msg_init_data (&body, response->body, response->size,
                               s_free_body, NULL)) {
            zmq_msg_close (&meta);
            return -1;
        }
        response->body = NULL;      /* now owned by the frame */
        response->size = 0;
    }
    else
        zmq_msg_init (&body);
    char command = HEARTH_WORKER_REPLY;
    hearth_part_t parts[] = {
        HEARTH_PART_EMPTY,
        HEARTH_PART_STR (HEARTH_WORKER_HEADER),
        HEARTH_PART_BYTES (&command, 1),
        HEARTH_PART_MSG (&self->job_id),
        HEARTH_PART_BYTES (status, 3),
        HEARTH_PART_MSG (&meta),
        HEARTH_PART_MSG (&body),
    };
    int rc = hearth_wire_send (socket, parts, HEARTH_WORKER_REPLY_FRAMES);
    /*  The job-id frame was consumed; leave a closable empty one.          */
    zmq_msg_init (&self->job_id);
    return rc;
}

/* --------------------------------------------------- public request API */

const void *
hearth_request_body (const hearth_request_t *self, size_t *size)
{
    zmq_msg_t *body = (zmq_msg_t *) &self->body;
    if (size)
        *size = zmq_msg_size (body);
    const void *data = zmq_msg_data (body);
    return data ? data : "";
}

const void *
hearth_request_meta (const hearth_request_t *self, size_t *size)
{
    zmq_msg_t *meta = (zmq_msg_t *) &self->meta;
    if (size)
        *size = zmq_msg_size (meta);
    const void *data = zmq_msg_data (meta);
    return data ? data : "";
}

int64_t
hearth_request_remaining_ms (const hearth_request_t *self)
{
    if (self->deadline_at < 0)
        return -1;
    /*  0 once passed, so an overdue request is never mistaken for one
        without a deadline.                                                  */
    int64_t remaining = self->deadline_at - hearth_clock_ms ();
    return remaining > 0 ? remaining : 0;
}

int
hearth_request_attempt (const hearth_request_t *self)
{
    return self->attempt;
}

int
hearth_response_set_body (hearth_response_t *self, const void *data,
                          size_t size)
{
    void *copy = NULL;
    if (size) {
        copy = malloc (size);
        if (!copy)
            return -1;
        memcpy (copy, data, size);
    }
    hearth_response_take_body (self, copy, size);
    return 0;
}

void
hearth_response_take_body (hearth_response_t *self, void *data, size_t size)
{
    free (self->body);
    self->body = data;
    self->size = data ? size : 0;
}

void
hearth_response_set_error (hearth_response_t *self, const char *text)
{
    free (self->error);
    self->error = text ? strdup (text) : NULL;
}
