/*  The broker embedded in-process: the behaviours that are awkward to see
    from outside — bounds on made-up services, linger, stop and stats.     */
#include <pthread.h>
#include <msgpack.h>
#include <zmq.h>
#include "hearth_broker.h"
#include "hearth/hearth_proto.h"
#include "hearth_clock.h"
#include "hearth_test.h"

static char s_endpoint[256];

static void *
s_run (void *broker)
{
    hearth_broker_run (broker);
    return NULL;
}

static hearth_broker_t *
s_start (pthread_t *thread, int linger_ms)
{
    hearth_broker_config_t config;
    hearth_broker_config_defaults (&config);
    config.linger_ms = linger_ms;
    config.grace_ms = 2000;
    hearth_broker_t *broker = hearth_broker_new (&config);
    CHECK (broker != NULL);
    CHECK_INT (hearth_broker_bind (broker, "tcp://127.0.0.1:*", s_endpoint,
                                   sizeof s_endpoint), 0);
    pthread_create (thread, NULL, s_run, broker);
    return broker;
}

static void *
s_dealer (void *context)
{
    void *socket = zmq_socket (context, ZMQ_DEALER);
    int linger = 0, timeout = 10000;
    zmq_setsockopt (socket, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt (socket, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    zmq_connect (socket, s_endpoint);
    return socket;
}

static void
s_send (void *socket, const char **frames, int count)
{
    for (int i = 0; i < count; i++)
        zmq_send (socket, frames[i], strlen (frames[i]),
                  i + 1 < count ? ZMQ_SNDMORE : 0);
}

/*  Sends a native REQUEST and returns the reply's status (-1 on timeout);
    the body is copied into body (size bodysize) if not NULL.               */
static int
s_call (void *socket, const char *service, const char *payload, char *body,
        size_t bodysize, size_t *body_size)
{
    const char *frames[] = { "", HEARTH_CLIENT_HEADER, "\x01", "rid", service,
                             "", payload };
    s_send (socket, frames, 7);
    char status[4] = "";
    for (int i = 0; ; i++) {
        zmq_msg_t frame;
        zmq_msg_init (&frame);
        if (zmq_msg_recv (&frame, socket, 0) < 0)
            return -1;
        if (i == 4)
            memcpy (status, zmq_msg_data (&frame), 3);
        if (i == 6 && body) {
            size_t size = zmq_msg_size (&frame);
            *body_size = size < bodysize ? size : bodysize;
            memcpy (body, zmq_msg_data (&frame), *body_size);
        }
        int more = zmq_msg_more (&frame);
        zmq_msg_close (&frame);
        if (!more)
            break;
    }
    return atoi (status);
}

static void
test_made_up_services_are_bounded (void)
{
    pthread_t thread;
    hearth_broker_t *broker = s_start (&thread, 60000);
    void *context = zmq_ctx_new ();
    void *mdp = s_dealer (context);
    /*  RFC 7 asks to queue requests for services with no worker; a client
        inventing names must not grow the broker without bound.              */
    char name[32];
    for (int i = 0; i < 5000; i++) {
        snprintf (name, sizeof name, "made-up-%d", i);
        const char *frames[] = { "", HEARTH_MDPC_HEADER, name, "x" };
        s_send (mdp, frames, 4);
    }
    /*  The same connection, so the broker has read every MDP request
        before it answers this one.                                          */
    void *client = mdp;
    static char body[1 << 20];
    size_t size = 0;
    CHECK_INT (s_call (client, HEARTH_SVC_SERVICES, "", body, sizeof body, &size), 200);
    msgpack_unpacked result;
    msgpack_unpacked_init (&result);
    CHECK (msgpack_unpack_next (&result, body, size, NULL) == MSGPACK_UNPACK_SUCCESS);
    CHECK (result.data.type == MSGPACK_OBJECT_ARRAY);
    CHECK (result.data.via.array.size <= 4096);
    CHECK (result.data.via.array.size >= 4000);
    msgpack_unpacked_destroy (&result);
    hearth_broker_stop (broker);
    pthread_join (thread, NULL);
    hearth_broker_stats_t stats;
    hearth_broker_stats (broker, &stats);
    CHECK (stats.dropped >= 5000 - 4096);
    zmq_close (mdp);
    zmq_ctx_term (context);
    hearth_broker_destroy (&broker);
}

static void
test_linger_then_unknown (void)
{
    pthread_t thread;
    hearth_broker_t *broker = s_start (&thread, 300);
    void *context = zmq_ctx_new ();
    void *worker = s_dealer (context);
    const char *ready[] = { "", HEARTH_WORKER_HEADER, "\x01", "fleeting", "" };
    s_send (worker, ready, 5);
    char frame[64];
    for (int i = 0; i < 5; i++)      /* REGISTERED */
        zmq_recv (worker, frame, sizeof frame, 0);
    const char *bye[] = { "", HEARTH_WORKER_HEADER, "\x05" };
    s_send (worker, bye, 3);
    /*  Queued while the service has no worker; after linger_ms, 503.       */
    void *client = s_dealer (context);
    int64_t started = hearth_clock_ms ();
    int status = s_call (client, "fleeting", "doc", NULL, 0, NULL);
    int64_t waited = hearth_clock_ms () - started;
    CHECK_INT (status, 503);
    CHECK (waited < 5000);
    /*  Then the service is forgotten.                                      */
    CHECK_INT (s_call (client, "fleeting", "doc", NULL, 0, NULL), 404);
    hearth_broker_stop (broker);
    pthread_join (thread, NULL);
    zmq_close (worker);
    zmq_close (client);
    zmq_ctx_term (context);
    hearth_broker_destroy (&broker);
}

static void
test_config_check (void)
{
    hearth_broker_config_t config;
    hearth_broker_config_defaults (&config);
    CHECK (hearth_broker_config_check (&config) == NULL);
    config.liveness = 0;
    CHECK (hearth_broker_config_check (&config) != NULL);
    CHECK (hearth_broker_new (&config) == NULL);
    hearth_broker_config_defaults (&config);
    config.max_message = 10;
    CHECK (hearth_broker_config_check (&config) != NULL);
}

int
main (void)
{
    RUN (test_config_check);
    RUN (test_made_up_services_are_bounded);
    RUN (test_linger_then_unknown);
    return HEARTH_TEST_RESULT;
}
