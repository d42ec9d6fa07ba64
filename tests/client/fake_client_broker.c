/*  fake_client_broker - scripted ROUTER for client tests. See the header. */
#include "fake_client_broker.h"
#include "hearth_clock.h"
#include "hearth_meta.h"
#include "hearth/hearth_proto.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fake_client_broker {
    void *ctx;
    void *router;
    char endpoint[64];
    fake_client_script_fn *script;
    void *arg;
    pthread_t thread;
    atomic_bool stop;
    atomic_int received;
};

static void *
s_run (void *arg)
{
    fake_client_broker_t *self = arg;
    /*  Bounded even if a test forgets to stop us.                          */
    int64_t end = hearth_clock_ms () + 60000;
    while (!atomic_load (&self->stop) && hearth_clock_ms () < end) {
        if (!self->router) {
            struct timespec nap = { 0, 10 * 1000000 };
            nanosleep (&nap, NULL);
            continue;
        }
        zmq_pollitem_t item = { self->router, 0, ZMQ_POLLIN, 0 };
        if (zmq_poll (&item, 1, 20) <= 0)
            continue;
        fake_client_request_t request;
        if (hearth_frames_recv (&request, self->router, ZMQ_DONTWAIT))
            continue;
        atomic_fetch_add (&self->received, 1);
        int rc = self->script (self, &request, self->arg);
        hearth_frames_close (&request);
        if (rc) {
            zmq_close (self->router);
            self->router = NULL;
        }
    }
    return NULL;
}

fake_client_broker_t *
fake_client_broker_new (fake_client_script_fn *script, void *arg)
{
    fake_client_broker_t *self = calloc (1, sizeof *self);
    self->script = script;
    self->arg = arg;
    self->ctx = zmq_ctx_new ();
    self->router = zmq_socket (self->ctx, ZMQ_ROUTER);
    int linger = 0;
    zmq_setsockopt (self->router, ZMQ_LINGER, &linger, sizeof linger);
    if (zmq_bind (self->router, "tcp://127.0.0.1:*")) {
        fprintf (stderr, "fake broker: bind: %s\n", zmq_strerror (zmq_errno ()));
        exit (1);
    }
    size_t size = sizeof self->endpoint;
    zmq_getsockopt (self->router, ZMQ_LAST_ENDPOINT, self->endpoint, &size);
    pthread_create (&self->thread, NULL, s_run, self);
    return self;
}

void
fake_client_broker_destroy (fake_client_broker_t **self_p)
{
    if (!*self_p)
        return;
    fake_client_broker_t *self = *self_p;
    atomic_store (&self->stop, true);
    pthread_join (self->thread, NULL);
    if (self->router)
        zmq_close (self->router);
    zmq_ctx_term (self->ctx);
    free (self);
    *self_p = NULL;
}

const char *
fake_client_broker_endpoint (fake_client_broker_t *self)
{
    return self->endpoint;
}

int
fake_client_broker_received (fake_client_broker_t *self)
{
    return atomic_load (&self->received);
}

void
fake_client_broker_send_raw (fake_client_broker_t *self,
                             fake_client_request_t *request,
                             hearth_part_t *parts, int count)
{
    hearth_part_t all[16];
    all[0] = HEARTH_PART_BYTES (hearth_frames_data (request, 0),
                                hearth_frames_size (request, 0));
    for (int i = 0; i < count && i < 15; i++)
        all[i + 1] = parts[i];
    hearth_wire_send (self->router, all, count + 1);
}

static void
s_reply (fake_client_broker_t *self, const void *identity, size_t identity_size,
         const void *id, size_t id_size, int status, const char *error,
         const void *body, size_t size)
{
    char digits[3];
    hearth_wire_status_encode (status, digits);
    uint8_t command = HEARTH_CLIENT_REPLY;
    zmq_msg_t meta;
    hearth_meta_writer_t writer;
    hearth_meta_writer_init (&writer);
    if (error)
        hearth_meta_put_str (&writer, HEARTH_META_ERROR, error);
    hearth_meta_put_str (&writer, HEARTH_META_WORKER, "fake-1");
    hearth_meta_put_uint (&writer, HEARTH_META_RUN_MS, 7);
    hearth_meta_writer_to_msg (&writer, &meta);
    hearth_meta_writer_destroy (&writer);
    hearth_part_t parts[] = {
        HEARTH_PART_BYTES (identity, identity_size),
        HEARTH_PART_EMPTY,
        HEARTH_PART_STR (HEARTH_CLIENT_HEADER),
        HEARTH_PART_BYTES (&command, 1),
        HEARTH_PART_BYTES (id, id_size),
        HEARTH_PART_BYTES (digits, 3),
        HEARTH_PART_MSG (&meta),
        HEARTH_PART_BYTES (body, size),
    };
    hearth_wire_send (self->router, parts, 8);
}

void
fake_client_broker_reply (fake_client_broker_t *self,
                          fake_client_request_t *request, int status,
                          const char *error, const void *body, size_t size)
{
    s_reply (self, hearth_frames_data (request, 0),
             hearth_frames_size (request, 0), hearth_frames_data (request, 4),
             hearth_frames_size (request, 4), status, error, body, size);
}

void
fake_client_broker_save (fake_client_request_t *request,
                         fake_client_saved_t *saved)
{
    saved->identity_size = hearth_frames_size (request, 0);
    memcpy (saved->identity, hearth_frames_data (request, 0),
            saved->identity_size);
    saved->id_size = hearth_frames_size (request, 4);
    if (saved->id_size > sizeof saved->id)
        saved->id_size = sizeof saved->id;
    memcpy (saved->id, hearth_frames_data (request, 4), saved->id_size);
}

void
fake_client_broker_reply_saved (fake_client_broker_t *self,
                                const fake_client_saved_t *saved, int status,
                                const void *body, size_t size)
{
    s_reply (self, saved->identity, saved->identity_size, saved->id,
             saved->id_size, status, NULL, body, size);
}
