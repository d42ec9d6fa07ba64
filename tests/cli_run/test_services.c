/*  hearth_cli_services against the answers a real broker sends: a broker
    embedded in-process, a native worker with a descriptor and an MDP
    worker without one, asked through the client library. Then bodies the
    broker would never send, which must be refused or read as unknown.    */
#include <msgpack.h>
#include <pthread.h>
#include <zmq.h>
#include "hearth_broker.h"
#include "hearth_cli_services.h"
#include "hearth/hearth.h"
#include "hearth_clock.h"
#include "hearth_test.h"

#define S_WAIT_MS 10000

static char s_endpoint[256];

static void *
s_broker_main (void *broker)
{
    hearth_broker_run (broker);
    return NULL;
}

static void *
s_worker_main (void *worker)
{
    hearth_worker_run (worker);
    return NULL;
}

static int
s_echo (const hearth_request_t *request, hearth_response_t *response,
        void *arg)
{
    size_t size;
    const void *body = hearth_request_body (request, &size);
    return hearth_response_set_body (response, body, size) ? 500 : 200;
}

/*  The hearth.services answer for name ("" for all), decoded; NULL if the
    call failed.                                                            */
static hearth_cli_services_t *
s_ask (hearth_client_t *client, const char *name)
{
    hearth_reply_t *reply = NULL;
    hearth_cli_services_t *list = NULL;
    if (hearth_client_call (client, HEARTH_SVC_SERVICES, name, strlen (name),
                            2000, 0, &reply) == HEARTH_OK) {
        size_t size;
        const void *body = hearth_reply_body (reply, &size);
        CHECK_INT (hearth_cli_services_decode (body, size, &list), 0);
    }
    hearth_reply_destroy (&reply);
    return list;
}

static const hearth_cli_service_t *
s_find (const hearth_cli_services_t *list, const char *name)
{
    for (size_t i = 0; list && i < list->count; i++)
        if (list->services[i].name && !strcmp (list->services[i].name, name))
            return &list->services[i];
    return NULL;
}

/*  Polls until both workers show, so the checks below see them settled.  */
static hearth_cli_services_t *
s_ask_until_both (hearth_client_t *client)
{
    int64_t until = hearth_clock_ms () + S_WAIT_MS;
    while (hearth_clock_ms () < until) {
        hearth_cli_services_t *list = s_ask (client, "");
        const hearth_cli_service_t *alpha = s_find (list, "alpha");
        const hearth_cli_service_t *beta = s_find (list, "beta");
        if (alpha && alpha->workers == 1 && beta && beta->mdp_workers == 1)
            return list;
        hearth_cli_services_destroy (&list);
        /*  The broker answers at once; a short wait between asks.        */
        zmq_poll (NULL, 0, 20);
    }
    return NULL;
}

static void
test_real_broker (void)
{
    hearth_broker_config_t config;
    hearth_broker_config_defaults (&config);
    hearth_broker_t *broker = hearth_broker_new (&config);
    CHECK (broker);
    CHECK_INT (hearth_broker_bind (broker, "tcp://127.0.0.1:*", s_endpoint,
                                   sizeof s_endpoint), 0);
    pthread_t broker_thread, worker_thread;
    pthread_create (&broker_thread, NULL, s_broker_main, broker);

    /*  A native worker with a descriptor; its description has a tab, which
        comes out as '?', and UTF-8, which stays.                           */
    hearth_descriptor_t descriptor = {
        .service = "alpha", .version = "1.2.3",
        .description = "echoes\tback \xc3\xa9t\xc3\xa9", .concurrency = 2,
        .credit = 3,
    };
    hearth_worker_t *worker = hearth_worker_new (s_endpoint, &descriptor,
                                                 s_echo, NULL);
    CHECK (worker);
    pthread_create (&worker_thread, NULL, s_worker_main, worker);

    /*  An MDP worker: no descriptor at all (nil on the wire).             */
    void *context = zmq_ctx_new ();
    void *mdp = zmq_socket (context, ZMQ_DEALER);
    int linger = 0;
    zmq_setsockopt (mdp, ZMQ_LINGER, &linger, sizeof linger);
    CHECK_INT (zmq_connect (mdp, s_endpoint), 0);
    zmq_send (mdp, "", 0, ZMQ_SNDMORE);
    zmq_send (mdp, HEARTH_MDPW_HEADER, strlen (HEARTH_MDPW_HEADER), ZMQ_SNDMORE);
    zmq_send (mdp, "\x01", 1, ZMQ_SNDMORE);
    zmq_send (mdp, "beta", 4, 0);

    hearth_client_t *client = hearth_client_new (s_endpoint);
    CHECK (client);
    hearth_cli_services_t *list = s_ask_until_both (client);
    CHECK (list);
    CHECK_INT (list ? list->count : 0, 2);
    const hearth_cli_service_t *alpha = s_find (list, "alpha");
    CHECK (alpha);
    if (alpha) {
        CHECK_INT (alpha->workers, 1);
        CHECK_INT (alpha->mdp_workers, 0);
        CHECK_INT (alpha->draining, 0);
        CHECK_INT (alpha->credit, 3);
        CHECK_INT (alpha->in_flight, 0);
        CHECK_INT (alpha->queued, 0);
        CHECK_STR (alpha->version, "1.2.3");
        CHECK_STR (alpha->description, "echoes?back \xc3\xa9t\xc3\xa9");
    }
    const hearth_cli_service_t *beta = s_find (list, "beta");
    CHECK (beta);
    if (beta) {
        CHECK_INT (beta->workers, 1);       /* every worker, MDP too    */
        CHECK_INT (beta->mdp_workers, 1);
        CHECK_INT (beta->credit, 1);
        CHECK (beta->version == NULL);
        CHECK (beta->description == NULL);
    }
    hearth_cli_services_destroy (&list);
    CHECK (list == NULL);

    /*  Asked for one: an array holding only it (what `hearth up` reads).   */
    list = s_ask (client, "alpha");
    CHECK_INT (list ? list->count : 0, 1);
    if (list && list->count == 1)
        CHECK_STR (list->services[0].name, "alpha");
    hearth_cli_services_destroy (&list);

    hearth_client_destroy (&client);
    zmq_close (mdp);
    zmq_ctx_term (context);
    hearth_worker_stop (worker);
    pthread_join (worker_thread, NULL);
    hearth_worker_destroy (&worker);
    hearth_broker_stop (broker);
    pthread_join (broker_thread, NULL);
    hearth_broker_destroy (&broker);
}

/*  Packs a string, as the broker does.                                     */
static void
s_pack_str (msgpack_packer *pk, const char *text, size_t len)
{
    msgpack_pack_str (pk, len);
    msgpack_pack_str_body (pk, text, len);
}

static void
test_empty_list (void)
{
    hearth_cli_services_t *list = NULL;
    CHECK_INT (hearth_cli_services_decode ("\x90", 1, &list), 0);
    CHECK (list && list->count == 0);
    hearth_cli_services_destroy (&list);
    hearth_cli_services_destroy (&list);        /* idempotent              */
}

/*  Not an array of maps, or cut short: refused, nothing returned.         */
static void
test_malformed (void)
{
    static const struct { const char *data; size_t size; } bad[] = {
        { "", 0 },                  /* nothing                              */
        { "\x80", 1 },              /* a map, not an array                  */
        { "\x91\x01", 2 },          /* an array of a number                 */
        { "\x92\x80\xa1x", 4 },     /* a map, then a string                 */
        { "\x91\x81\xa4name", 6 },  /* a map cut off after its first key    */
        { "\xdd\xff\xff\xff\xff", 5 },  /* claims 4 billion entries         */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        hearth_cli_services_t *list = (hearth_cli_services_t *) &list;
        CHECK_INT (hearth_cli_services_decode (bad[i].data, bad[i].size, &list),
                   -2);
        CHECK (list == NULL);
    }
}

/*  Fields of the wrong type, absent, negative or empty read as unknown or
    NULL; control bytes in texts come out as '?'; unknown keys are ignored. */
static void
test_odd_fields (void)
{
    msgpack_sbuffer buffer;
    msgpack_packer pk;
    msgpack_sbuffer_init (&buffer);
    msgpack_packer_init (&pk, &buffer, msgpack_sbuffer_write);
    msgpack_pack_array (&pk, 2);
    msgpack_pack_map (&pk, 7);
    s_pack_str (&pk, "name", 4);
    s_pack_str (&pk, "a\x01\nb", 4);
    s_pack_str (&pk, "workers", 7);
    s_pack_str (&pk, "5", 1);                   /* a string, not a count    */
    s_pack_str (&pk, "credit", 6);
    msgpack_pack_int64 (&pk, -3);               /* negative                 */
    s_pack_str (&pk, "queued", 6);
    msgpack_pack_uint64 (&pk, 7);
    s_pack_str (&pk, "future", 6);              /* a key from a later broker*/
    msgpack_pack_true (&pk);
    s_pack_str (&pk, "in_flight", 9);
    msgpack_pack_uint64 (&pk, UINT64_MAX);      /* beyond int64             */
    s_pack_str (&pk, "descriptor", 10);
    msgpack_pack_map (&pk, 2);
    s_pack_str (&pk, HEARTH_DESC_VERSION, strlen (HEARTH_DESC_VERSION));
    s_pack_str (&pk, "", 0);                    /* empty: nothing to show   */
    s_pack_str (&pk, HEARTH_DESC_DESCRIPTION, strlen (HEARTH_DESC_DESCRIPTION));
    msgpack_pack_uint64 (&pk, 1);               /* not a string             */
    msgpack_pack_map (&pk, 0);                  /* a map with nothing       */
    hearth_cli_services_t *list = NULL;
    CHECK_INT (hearth_cli_services_decode (buffer.data, buffer.size, &list), 0);
    CHECK_INT (list ? list->count : 0, 2);
    if (list && list->count == 2) {
        const hearth_cli_service_t *odd = &list->services[0];
        CHECK_STR (odd->name, "a??b");
        CHECK_INT (odd->workers, HEARTH_CLI_SERVICES_UNKNOWN);
        CHECK_INT (odd->credit, HEARTH_CLI_SERVICES_UNKNOWN);
        CHECK_INT (odd->queued, 7);
        CHECK_INT (odd->in_flight, HEARTH_CLI_SERVICES_UNKNOWN);
        CHECK_INT (odd->mdp_workers, HEARTH_CLI_SERVICES_UNKNOWN);
        CHECK (odd->version == NULL);
        CHECK (odd->description == NULL);
        const hearth_cli_service_t *bare = &list->services[1];
        CHECK (bare->name == NULL);
        CHECK_INT (bare->workers, HEARTH_CLI_SERVICES_UNKNOWN);
        CHECK_INT (bare->draining, HEARTH_CLI_SERVICES_UNKNOWN);
    }
    hearth_cli_services_destroy (&list);
    msgpack_sbuffer_destroy (&buffer);
}

int
main (void)
{
    RUN (test_real_broker);
    RUN (test_empty_list);
    RUN (test_malformed);
    RUN (test_odd_fields);
    return HEARTH_TEST_RESULT;
}
