/*  hb_merge - a parallel group's deep merge, on a thread of its own. See
    hb_merge.h.

    On the pipe, a merge is one multipart message: the request header
    (hb_merge_request_t as bytes: both ends are this process), then one
    frame per reply. A result is the result header (s_result_head_t),
    then the merged document. An empty frame tells the thread to stop.
*/
#include "hb_merge.h"

#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hearth_clock.h"
#include "hearth_route_expr.h"

struct _hb_merge_t {
    void *pipe;                 /* the broker's end                          */
    void *thread_pipe;          /* the merge thread's end                    */
    pthread_t thread;
    bool started;
    int pending;                /* sent, result not yet received             */
    /*  The one thing shared outside the pipe: set by hb_merge_destroy so a
        long merge stops at the next reply instead of holding the join.     */
    atomic_bool stopping;
};

typedef struct {
    uint64_t id;
    int stage;
    int status;
    int member;
} s_result_head_t;

/* ----------------------------------------------------------- the merge */

/*  An upper bound on the values in a JSON text: every value but the first
    follows a ',', '[' or '{' outside a string. Stops counting past limit. */
static size_t
s_count_values (const uint8_t *data, size_t size, size_t limit)
{
    size_t values = 1;
    bool in_string = false;
    for (size_t i = 0; i < size && values <= limit; i++) {
        uint8_t c = data[i];
        if (in_string) {
            if (c == '\\')
                i++;
            else
            if (c == '"')
                in_string = false;
        }
        else
        if (c == '"')
            in_string = true;
        else
        if (c == ',' || c == '[' || c == '{')
            values++;
    }
    return values;
}

/*  The encoder's output, refused past max bytes.                            */
typedef struct {
    char *data;
    size_t size;
    size_t capacity;
    size_t max;
    bool over;
} s_buffer_t;

static int
s_buffer_append (const char *bytes, size_t size, void *arg)
{
    s_buffer_t *buffer = arg;
    if (size > buffer->max - buffer->size) {
        buffer->over = true;
        return -1;
    }
    if (buffer->size + size > buffer->capacity) {
        size_t capacity = buffer->capacity ? buffer->capacity : 4096;
        while (capacity < buffer->size + size)
            capacity *= 2;
        if (capacity > buffer->max)
            capacity = buffer->max;
        char *data = realloc (buffer->data, capacity);
        if (!data)
            return -1;
        buffer->data = data;
        buffer->capacity = capacity;
    }
    memcpy (buffer->data + buffer->size, bytes, size);
    buffer->size += size;
    return 0;
}

static void
s_free_buffer (void *data, void *hint)
{
    (void) hint;
    free (data);
}

/*  Encodes merged into out, at most max bytes, without a copy.              */
static hb_merge_status_t
s_encode (json_t *merged, size_t max, zmq_msg_t *out)
{
    s_buffer_t buffer = { NULL, 0, 0, max, false };
    if (json_dump_callback (merged, s_buffer_append, &buffer, JSON_COMPACT)
    ||  zmq_msg_init_data (out, buffer.data, buffer.size, s_free_buffer, NULL)) {
        free (buffer.data);
        zmq_msg_init (out);
        return buffer.over ? HB_MERGE_TOO_LARGE : HB_MERGE_NO_MEMORY;
    }
    return HB_MERGE_OK;
}

/*  Deep-merges replies[0..count) in order, later replies winning, into
    out (initialised empty; filled on HB_MERGE_OK). Each reply is emptied as soon as it is parsed, so a merge holds
    its input and its parsed form together for one reply at a time.         */
static hb_merge_status_t
s_merge (hb_merge_t *self, const hb_merge_request_t *request,
         zmq_msg_t *replies, int count, int *member, zmq_msg_t *out)
{
    json_t *merged = NULL;
    hb_merge_status_t status = HB_MERGE_OK;
    for (int i = 0; i < count && status == HB_MERGE_OK; i++) {
        const uint8_t *data = zmq_msg_data (&replies[i]);
        size_t size = zmq_msg_size (&replies[i]);
        json_t *doc = NULL;
        *member = i;
        if (atomic_load (&self->stopping) || hearth_clock_ms () >= request->deadline_at)
            status = HB_MERGE_LATE;
        else
        if (s_count_values (data, size, HB_MERGE_VALUES_MAX) > HB_MERGE_VALUES_MAX)
            status = HB_MERGE_TOO_MANY_VALUES;
        else {
            json_error_t error;
            doc = json_loadb ((const char *) data, size, 0, &error);
            if (!json_is_object (doc))
                status = HB_MERGE_NOT_OBJECT;
        }
        zmq_msg_close (&replies[i]);
        zmq_msg_init (&replies[i]);
        if (status != HB_MERGE_OK)
            json_decref (doc);
        else
        if (!merged)
            merged = doc;
        else {
            if (json_object_update_recursive (merged, doc))
                status = HB_MERGE_NO_MEMORY;
            json_decref (doc);
        }
    }
    if (status == HB_MERGE_OK) {
        *member = -1;
        status = s_encode (merged, request->max_size, out);
    }
    json_decref (merged);
    return status;
}

/* ---------------------------------------------------------- the thread */

/*  Receives the rest of a multipart message into replies (at most max;
    frames beyond are dropped). Returns the count, or -1 on ETERM.          */
static int
s_recv_replies (void *pipe, zmq_msg_t *replies, int max)
{
    int count = 0;
    int more = 1;
    size_t more_size = sizeof more;
    while (zmq_getsockopt (pipe, ZMQ_RCVMORE, &more, &more_size) == 0 && more) {
        zmq_msg_t frame;
        zmq_msg_init (&frame);
        if (zmq_msg_recv (&frame, pipe, 0) < 0) {
            zmq_msg_close (&frame);
            if (errno == EINTR)
                continue;
            for (int i = 0; i < count; i++)
                zmq_msg_close (&replies[i]);
            return -1;
        }
        if (count < max)
            zmq_msg_move (&replies[count++], &frame);
        zmq_msg_close (&frame);
    }
    return count;
}

static void *
s_run (void *arg)
{
    hb_merge_t *self = arg;
    while (true) {
        zmq_msg_t head;
        zmq_msg_init (&head);
        if (zmq_msg_recv (&head, self->thread_pipe, 0) < 0) {
            zmq_msg_close (&head);
            if (errno == EINTR)
                continue;
            break;              /* ETERM: the broker is gone                  */
        }
        hb_merge_request_t request;
        bool stop = zmq_msg_size (&head) != sizeof request;
        if (!stop)
            memcpy (&request, zmq_msg_data (&head), sizeof request);
        zmq_msg_close (&head);
        zmq_msg_t replies[HEARTH_ROUTE_GROUP_MAX];
        for (int i = 0; i < HEARTH_ROUTE_GROUP_MAX; i++)
            zmq_msg_init (&replies[i]);
        int count = s_recv_replies (self->thread_pipe, replies, HEARTH_ROUTE_GROUP_MAX);
        if (stop || count < 0) {
            for (int i = 0; i < count; i++)
                zmq_msg_close (&replies[i]);
            break;
        }
        s_result_head_t result = { request.id, request.stage, HB_MERGE_OK, -1 };
        zmq_msg_t body;
        zmq_msg_init (&body);
        result.status = (int) s_merge (self, &request, replies, count,
                                       &result.member, &body);
        for (int i = 0; i < count; i++)
            zmq_msg_close (&replies[i]);
        /*  The pipe has no high-water mark: these sends only fail once the
            context is terminating, and then nobody waits for the result.  */
        if (zmq_send (self->thread_pipe, &result, sizeof result, ZMQ_SNDMORE) < 0
        ||  zmq_msg_send (&body, self->thread_pipe, 0) < 0)
            zmq_msg_close (&body);
    }
    return NULL;
}

/* ---------------------------------------------------------- the object */

static int
s_pipe_setup (void *socket)
{
    int unlimited = 0, linger = 0;
    return zmq_setsockopt (socket, ZMQ_SNDHWM, &unlimited, sizeof unlimited)
        || zmq_setsockopt (socket, ZMQ_RCVHWM, &unlimited, sizeof unlimited)
        || zmq_setsockopt (socket, ZMQ_LINGER, &linger, sizeof linger);
}

hb_merge_t *
hb_merge_new (void *context)
{
    hb_merge_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    atomic_init (&self->stopping, false);
    /*  One endpoint per object: several brokers may share a process.       */
    char endpoint[64];
    snprintf (endpoint, sizeof endpoint, "inproc://hb-merge-%p", (void *) self);
    self->pipe = zmq_socket (context, ZMQ_PAIR);
    self->thread_pipe = zmq_socket (context, ZMQ_PAIR);
    if (!self->pipe || !self->thread_pipe
    ||  s_pipe_setup (self->pipe) || s_pipe_setup (self->thread_pipe)
    ||  zmq_bind (self->thread_pipe, endpoint)
    ||  zmq_connect (self->pipe, endpoint)
    ||  pthread_create (&self->thread, NULL, s_run, self)) {
        hb_merge_destroy (&self);
        return NULL;
    }
    self->started = true;
    return self;
}

void
hb_merge_destroy (hb_merge_t **self_p)
{
    hb_merge_t *self = *self_p;
    if (!self)
        return;
    if (self->started) {
        atomic_store (&self->stopping, true);
        /*  Merges queued ahead of the stop end at once (stopping). The send
            fails only if the context is terminating, which also ends the
            thread's receive.                                                 */
        zmq_send (self->pipe, "", 0, ZMQ_DONTWAIT);
        pthread_join (self->thread, NULL);
    }
    if (self->pipe)
        zmq_close (self->pipe);
    if (self->thread_pipe)
        zmq_close (self->thread_pipe);
    free (self);
    *self_p = NULL;
}

int
hb_merge_fd (hb_merge_t *self)
{
    int fd = -1;
    size_t size = sizeof fd;
    if (zmq_getsockopt (self->pipe, ZMQ_FD, &fd, &size))
        return -1;
    return fd;
}

int
hb_merge_send (hb_merge_t *self, const hb_merge_request_t *request,
               zmq_msg_t *replies, int count)
{
    if (self->pending >= HB_MERGE_QUEUE_MAX) {
        errno = EAGAIN;
        return -1;
    }
    if (zmq_send (self->pipe, request, sizeof *request,
                  count ? ZMQ_SNDMORE | ZMQ_DONTWAIT : ZMQ_DONTWAIT) < 0)
        return -1;
    /*  With no high-water mark on an inproc pipe the frames after the
        first cannot be refused.                                             */
    for (int i = 0; i < count; i++)
        zmq_msg_send (&replies[i], self->pipe,
                      i + 1 < count ? ZMQ_SNDMORE | ZMQ_DONTWAIT : ZMQ_DONTWAIT);
    self->pending++;
    return 0;
}

int
hb_merge_recv (hb_merge_t *self, hb_merge_result_t *result)
{
    s_result_head_t head;
    zmq_msg_init (&result->body);
    int size = zmq_recv (self->pipe, &head, sizeof head, ZMQ_DONTWAIT);
    if (size < 0)
        return 0;
    /*  The thread always sends the body frame after the head.              */
    if (zmq_msg_recv (&result->body, self->pipe, 0) < 0)
        zmq_msg_init (&result->body);
    self->pending--;
    result->id = head.id;
    result->stage = head.stage;
    result->status = (hb_merge_status_t) head.status;
    result->member = head.member;
    return 1;
}

int
hb_merge_pending (hb_merge_t *self)
{
    return self->pending;
}
