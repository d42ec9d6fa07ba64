/*  fake_worker_broker - a scripted HMP/1 broker for worker tests. */
#include "fake_worker_broker.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "hearth/hearth_proto.h"
#include "hearth_clock.h"
#include "hearth_meta.h"

fake_worker_broker_t *
fake_worker_broker_new (void)
{
    fake_worker_broker_t *self = calloc (1, sizeof *self);
    self->ctx = zmq_ctx_new ();
    self->router = zmq_socket (self->ctx, ZMQ_ROUTER);
    int linger = 0;
    zmq_setsockopt (self->router, ZMQ_LINGER, &linger, sizeof linger);
    size_t size = sizeof self->endpoint;
    if (zmq_bind (self->router, "tcp://127.0.0.1:*")
    ||  zmq_getsockopt (self->router, ZMQ_LAST_ENDPOINT, self->endpoint,
                        &size)) {
        fprintf (stderr, "fake broker: bind failed: %s\n",
                 zmq_strerror (zmq_errno ()));
        abort ();
    }
    return self;
}

void
fake_worker_broker_destroy (fake_worker_broker_t **self_p)
{
    if (!*self_p)
        return;
    zmq_close ((*self_p)->router);
    zmq_ctx_term ((*self_p)->ctx);
    free (*self_p);
    *self_p = NULL;
}

int
fake_worker_broker_recv (fake_worker_broker_t *self, hearth_frames_t *frames,
                         int timeout_ms)
{
    zmq_pollitem_t item = { self->router, 0, ZMQ_POLLIN, 0 };
    if (zmq_poll (&item, 1, timeout_ms) <= 0)
        return -1;
    if (hearth_frames_recv (frames, self->router, 0))
        return -1;
    self->peer_size = hearth_frames_size (frames, 0);
    memcpy (self->peer, hearth_frames_data (frames, 0), self->peer_size);
    /*  Strip the identity so frame numbers match the spec's.               */
    zmq_msg_close (&frames->frame[0]);
    memmove (&frames->frame[0], &frames->frame[1],
             (size_t) (frames->count - 1) * sizeof (zmq_msg_t));
    frames->count--;
    return 0;
}

int
fake_worker_broker_expect (fake_worker_broker_t *self, int command,
                           hearth_frames_t *frames, int timeout_ms,
                           int *skipped)
{
    int64_t until = hearth_clock_ms () + timeout_ms;
    int64_t now;
    while ((now = hearth_clock_ms ()) < until) {
        if (fake_worker_broker_recv (self, frames, (int) (until - now)))
            return -1;
        if (hearth_frames_is (frames, 1, HEARTH_WORKER_HEADER)
        &&  hearth_frames_command (frames, 2) == command)
            return 0;
        if (skipped)
            (*skipped)++;
        hearth_frames_close (frames);
    }
    return -1;
}

void
fake_worker_broker_send_raw (fake_worker_broker_t *self,
                             const hearth_part_t *parts, int count)
{
    hearth_part_t all[16];
    all[0] = HEARTH_PART_BYTES (self->peer, self->peer_size);
    memcpy (all + 1, parts, (size_t) count * sizeof *parts);
    if (hearth_wire_send (self->router, all, count + 1))
        fprintf (stderr, "fake broker: send failed: %s\n",
                 zmq_strerror (zmq_errno ()));
}

void
fake_worker_broker_send (fake_worker_broker_t *self, int command,
                         const hearth_part_t *extra, int count)
{
    char cmd = (char) command;
    hearth_part_t parts[12] = {
        HEARTH_PART_EMPTY,
        HEARTH_PART_STR (HEARTH_WORKER_HEADER),
        HEARTH_PART_BYTES (&cmd, 1),
    };
    if (count > 0)
        memcpy (parts + 3, extra, (size_t) count * sizeof *extra);
    fake_worker_broker_send_raw (self, parts, 3 + count);
}

void
fake_worker_broker_register (fake_worker_broker_t *self, int heartbeat_ms,
                             int liveness)
{
    hearth_meta_writer_t writer;
    hearth_meta_writer_init (&writer);
    hearth_meta_put_uint (&writer, HEARTH_SET_HEARTBEAT, (uint64_t) heartbeat_ms);
    hearth_meta_put_uint (&writer, HEARTH_SET_LIVENESS, (uint64_t) liveness);
    hearth_meta_put_uint (&writer, HEARTH_SET_MAX_MESSAGE, 1024 * 1024);
    hearth_meta_put_str (&writer, HEARTH_SET_WORKER_ID, "w-test");
    size_t size;
    void *settings = hearth_meta_writer_to_buffer (&writer, &size);
    hearth_part_t extra[] = {
        HEARTH_PART_STR ("200"), HEARTH_PART_BYTES (settings, size),
    };
    fake_worker_broker_send (self, HEARTH_WORKER_REGISTERED, extra, 2);
    free (settings);
    hearth_meta_writer_destroy (&writer);
}

void
fake_worker_broker_request (fake_worker_broker_t *self, uint64_t job,
                            const void *meta, size_t meta_size,
                            const char *body)
{
    hearth_part_t extra[] = {
        HEARTH_PART_BYTES (&job, sizeof job),
        HEARTH_PART_BYTES (meta ? meta : "", meta ? meta_size : 0),
        HEARTH_PART_BYTES (body, strlen (body)),
    };
    fake_worker_broker_send (self, HEARTH_WORKER_REQUEST, extra, 3);
}
