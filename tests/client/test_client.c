/*  test_client - the client library against a scripted fake broker.
    Each test names the part of schemas/PROTOCOL.md (section 3) or of the
    public API (include/hearth/hearth.h) it checks.
*/
#include "hearth/hearth.h"
#include "hearth_test.h"
#include "fake_client_broker.h"
#include "hearth_clock.h"
#include "hearth_meta.h"

#include <stdatomic.h>
#include <string.h>

/* -------------------------------------------------------------- scripts */

/*  Echoes the body with 200; a body "status NNN" gets status NNN and an
    error text instead; a body "mute" gets no answer.                        */
static int
s_echo (fake_client_broker_t *fake, fake_client_request_t *request,
        void *arg)
{
    const char *body = hearth_frames_data (request, 7);
    size_t size = hearth_frames_size (request, 7);
    if (size == 10 && memcmp (body, "status ", 7) == 0) {
        int status = atoi ((char []) { body[7], body[8], body[9], 0 });
        fake_client_broker_reply (fake, request, status, "scripted failure",
                                  "", 0);
    }
    else
    if (size == 4 && memcmp (body, "mute", 4) == 0)
        return 0;
    else
        fake_client_broker_reply (fake, request, 200, NULL, body, size);
    return 0;
}

/*  Never answers.                                                          */
static int
s_silent (fake_client_broker_t *fake, fake_client_request_t *request,
          void *arg)
{
    return 0;
}

/*  Drops the connection of whoever sends a request.                        */
static int
s_vanish (fake_client_broker_t *fake, fake_client_request_t *request,
          void *arg)
{
    return -1;
}

/*  Keeps a copy of the last request's frames for inspection.               */
typedef struct {
    atomic_int ready;
    uint8_t id[16];
    size_t id_size;
    char service[64];
    uint8_t meta[256];
    size_t meta_size;
} s_capture_t;

static int
s_capture (fake_client_broker_t *fake, fake_client_request_t *request,
           void *arg)
{
    s_capture_t *capture = arg;
    if (request->count == 8 && !atomic_load (&capture->ready)) {
        capture->id_size = hearth_frames_size (request, 4);
        if (capture->id_size <= sizeof capture->id)
            memcpy (capture->id, hearth_frames_data (request, 4),
                    capture->id_size);
        size_t len = hearth_frames_size (request, 5);
        len = len < sizeof capture->service ? len : sizeof capture->service - 1;
        memcpy (capture->service, hearth_frames_data (request, 5), len);
        capture->service[len] = '\0';
        capture->meta_size = hearth_frames_size (request, 6);
        if (capture->meta_size <= sizeof capture->meta)
            memcpy (capture->meta, hearth_frames_data (request, 6),
                    capture->meta_size);
        atomic_store (&capture->ready, 1);
    }
    fake_client_broker_reply (fake, request, 200, NULL, "ok", 2);
    return 0;
}

/*  Sends every kind of malformed reply first, then the real one.           */
static int
s_garbage (fake_client_broker_t *fake, fake_client_request_t *request,
           void *arg)
{
    uint8_t reply = HEARTH_CLIENT_REPLY, bad_command = 0x09;
    const void *id = hearth_frames_data (request, 4);
    size_t id_size = hearth_frames_size (request, 4);
    uint8_t unknown_id[8] = { 0, 0, 0, 0, 0, 0, 0x7f, 0x7f };
    const uint8_t not_a_map[] = { 0x93, 1, 2, 3 };
    hearth_part_t header = HEARTH_PART_STR (HEARTH_CLIENT_HEADER);
    hearth_part_t cmd = HEARTH_PART_BYTES (&reply, 1);
    hearth_part_t rid = HEARTH_PART_BYTES (id, id_size);
    hearth_part_t ok = HEARTH_PART_STR ("200");
    hearth_part_t body = HEARTH_PART_STR ("garbage");
    hearth_part_t e = HEARTH_PART_EMPTY;
    hearth_part_t cases[][7] = {
        { e, HEARTH_PART_STR ("MDPC01"), cmd, rid, ok, e, body },
        { HEARTH_PART_STR ("x"), header, cmd, rid, ok, e, body },
        { e, header, HEARTH_PART_BYTES (&bad_command, 1), rid, ok, e, body },
        { e, header, cmd, HEARTH_PART_STR ("short"), ok, e, body },
        { e, header, cmd, rid, HEARTH_PART_STR ("2x0"), e, body },
        { e, header, cmd, rid, HEARTH_PART_STR ("999"), e, body },
        { e, header, cmd, rid, ok, HEARTH_PART_BYTES (not_a_map, 4), body },
        { e, header, cmd, rid, ok, HEARTH_PART_STR ("\x81\xa1"), body },
        { e, header, cmd, HEARTH_PART_BYTES (unknown_id, 8), ok, e, body },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        fake_client_broker_send_raw (fake, request, cases[i], 7);
    /*  Too few and too many frames.                                       */
    fake_client_broker_send_raw (fake, request, cases[0], 3);
    hearth_part_t many[12] = { e, header, cmd, rid, ok, e, body, e, e, e, e, e };
    fake_client_broker_send_raw (fake, request, many, 12);
    fake_client_broker_reply (fake, request, 200, NULL, "real", 4);
    return 0;
}

/*  Holds requests until it has count of them, then answers newest first. */
typedef struct {
    int count;
    int held;
    fake_client_saved_t saved[64];
} s_reverse_t;

static int
s_reverse (fake_client_broker_t *fake, fake_client_request_t *request,
           void *arg)
{
    s_reverse_t *state = arg;
    fake_client_broker_save (request, &state->saved[state->held++]);
    if (state->held == state->count)
        while (state->held > 0) {
            fake_client_saved_t *saved = &state->saved[--state->held];
            fake_client_broker_reply_saved (fake, saved, 200, saved->id,
                                     saved->id_size);
        }
    return 0;
}

/*  Holds count requests, then answers them in a scrambled order, each
    twice (the second answer must be dropped), except those whose body is
    "mute", which expire locally.                                            */
typedef struct {
    int count;
    int held;
    fake_client_saved_t saved[512];
    bool mute[512];
} s_shuffle_t;

static int
s_shuffle (fake_client_broker_t *fake, fake_client_request_t *request,
           void *arg)
{
    s_shuffle_t *state = arg;
    state->mute[state->held] = hearth_frames_size (request, 7) == 4;
    fake_client_broker_save (request, &state->saved[state->held++]);
    if (state->held < state->count)
        return 0;
    /*  A stride coprime with count visits every index once.               */
    for (int round = 0; round < 2; round++)
        for (int i = 0, at = 0; i < state->count; i++) {
            at = (at + 37) % state->count;
            if (!state->mute[at])
                fake_client_broker_reply_saved (fake, &state->saved[at], 200,
                                         state->saved[at].id, 8);
        }
    state->held = 0;
    return 0;
}

/* ---------------------------------------------------------------- tests */

static hearth_client_t *
s_client (fake_client_broker_t *fake)
{
    hearth_client_t *client =
        hearth_client_new (fake_client_broker_endpoint (fake));
    REQUIRE (client);
    return client;
}

/*  hearth.h: a sync call returns HEARTH_OK on 200 and the reply's body.    */
static void
test_call_ok (void)
{
    fake_client_broker_t *fake = fake_client_broker_new (s_echo, NULL);
    hearth_client_t *client = s_client (fake);
    hearth_reply_t *reply = NULL;
    REQUIRE_PASS (hearth_client_call (client, "echo", "hello", 5, 5000, 0,
                                      &reply));
    REQUIRE (reply);
    size_t size;
    const char *body = hearth_reply_body (reply, &size);
    CHECK_INT (size, 5);
    CHECK (memcmp (body, "hello", 5) == 0);
    CHECK_INT (hearth_reply_status (reply), 200);
    CHECK_INT (hearth_reply_id (reply), 1);
    CHECK (hearth_reply_error (reply) == NULL);
    CHECK_INT (hearth_reply_meta_uint (reply, HEARTH_META_RUN_MS), 7);
    CHECK_INT (hearth_reply_meta_uint (reply, "absent"), -1);
    char buf[8];
    CHECK (hearth_reply_meta_str (reply, HEARTH_META_WORKER, buf, sizeof buf));
    CHECK_STR (buf, "fake-1");
    /*  Truncated to the buffer, always NUL-terminated.                    */
    char tiny[4];
    CHECK (hearth_reply_meta_str (reply, HEARTH_META_WORKER, tiny, sizeof tiny));
    CHECK_STR (tiny, "fak");
    CHECK (hearth_reply_meta_str (reply, HEARTH_META_RUN_MS, buf, sizeof buf) == NULL);
    CHECK (hearth_client_connected (client));
    CHECK_INT (hearth_client_pending (client), 0);
    hearth_reply_destroy (&reply);
    hearth_reply_destroy (&reply);      /* idempotent */
    CHECK (reply == NULL);

    /*  An empty body comes back non-NULL; reply_p may be NULL.            */
    REQUIRE_PASS (hearth_client_call (client, "echo", NULL, 0, 5000, 0,
                                      &reply));
    CHECK (hearth_reply_body (reply, &size) != NULL);
    CHECK_INT (size, 0);
    CHECK_INT (hearth_reply_id (reply), 2);
    hearth_reply_destroy (&reply);
    CHECK_PASS (hearth_client_call (client, "echo", "x", 1, 5000, 0, NULL));
    hearth_client_destroy (&client);
    hearth_client_destroy (&client);    /* idempotent */
    fake_client_broker_destroy (&fake);
}

/*  PROTOCOL.md 3.2: every status maps to its error; the reply is kept.    */
static void
test_call_status (void)
{
    static const struct { const char *body; int status; int error; } cases[] = {
        { "status 400", 400, HEARTH_EMALFORMED },
        { "status 403", 403, HEARTH_EFORBIDDEN },
        { "status 404", 404, HEARTH_ENOSERVICE },
        { "status 413", 413, HEARTH_ETOOLARGE },
        { "status 500", 500, HEARTH_EWORKER },
        { "status 501", 501, HEARTH_ENOTIMPL },
        { "status 502", 502, HEARTH_EWORKERLOST },
        { "status 503", 503, HEARTH_EUNAVAILABLE },
        { "status 504", 504, HEARTH_ETIMEOUT },
        { "status 299", 299, HEARTH_OK },
        { "status 418", 418, HEARTH_EMALFORMED },
        { "status 599", 599, HEARTH_EWORKER },
    };
    fake_client_broker_t *fake = fake_client_broker_new (s_echo, NULL);
    hearth_client_t *client = s_client (fake);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        hearth_reply_t *reply = NULL;
        CHECK_ERR (hearth_client_call (client, "svc", cases[i].body, 10, 5000,
                                       0, &reply), cases[i].error);
        REQUIRE (reply);
        CHECK_INT (hearth_reply_status (reply), cases[i].status);
        CHECK (hearth_reply_error (reply));
        CHECK_STR (hearth_reply_error (reply), "scripted failure");
        hearth_reply_destroy (&reply);
    }
    hearth_client_destroy (&client);
    fake_client_broker_destroy (&fake);
}

/*  PROTOCOL.md 3.1 and 6: the REQUEST frames and metadata we send.        */
static void
test_request_frames (void)
{
    s_capture_t capture = { 0 };
    fake_client_broker_t *fake = fake_client_broker_new (s_capture, &capture);
    hearth_client_t *client = s_client (fake);
    hearth_client_set_name (client, "tester", "9.9");
    CHECK_PASS (hearth_client_call (client, "svc.name", "b", 1, 1234,
                                    HEARTH_IDEMPOTENT, NULL));
    CHECK (atomic_load (&capture.ready));
    CHECK_INT (capture.id_size, 8);
    static const uint8_t one[8] = { 0, 0, 0, 0, 0, 0, 0, 1 };
    CHECK (memcmp (capture.id, one, 8) == 0);
    CHECK_STR (capture.service, "svc.name");
    CHECK_INT (hearth_meta_validate (capture.meta, capture.meta_size), 0);
    hearth_meta_entry_t entry;
    uint64_t deadline;
    bool idempotent;
    const char *str;
    size_t len;
    REQUIRE_INT (hearth_meta_find (capture.meta, capture.meta_size,
                                   HEARTH_META_DEADLINE, &entry), 1);
    CHECK_INT (hearth_meta_value_uint (&entry, &deadline), 0);
    CHECK_INT (deadline, 1234);
    REQUIRE_INT (hearth_meta_find (capture.meta, capture.meta_size,
                                   HEARTH_META_IDEMPOTENT, &entry), 1);
    CHECK_INT (hearth_meta_value_bool (&entry, &idempotent), 0);
    CHECK (idempotent);
    REQUIRE_INT (hearth_meta_find (capture.meta, capture.meta_size,
                                   HEARTH_META_CLIENT, &entry), 1);
    CHECK_INT (hearth_meta_value_str (&entry, &str, &len), 0);
    CHECK (len == 6 && memcmp (str, "tester", 6) == 0);
    REQUIRE_INT (hearth_meta_find (capture.meta, capture.meta_size,
                                   HEARTH_META_CLIENT_VER, &entry), 1);

    /*  Default deadline when timeout <= 0; no idempotent key without
        the flag; bad arguments refused before anything is sent.          */
    atomic_store (&capture.ready, 0);
    hearth_client_set_name (client, NULL, NULL);
    CHECK_PASS (hearth_client_call (client, "svc", NULL, 0, 0, 0, NULL));
    CHECK (atomic_load (&capture.ready));
    REQUIRE_INT (hearth_meta_find (capture.meta, capture.meta_size,
                                   HEARTH_META_DEADLINE, &entry), 1);
    CHECK_INT (hearth_meta_value_uint (&entry, &deadline), 0);
    CHECK_INT (deadline, HEARTH_DEFAULT_DEADLINE_MS);
    CHECK_INT (hearth_meta_find (capture.meta, capture.meta_size,
                                 HEARTH_META_IDEMPOTENT, &entry), 0);
    CHECK_INT (hearth_meta_find (capture.meta, capture.meta_size,
                                 HEARTH_META_CLIENT, &entry), 0);
    char long_name[HEARTH_SERVICE_MAX + 2];
    memset (long_name, 'a', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';
    CHECK_ERR (hearth_client_call (client, long_name, NULL, 0, 100, 0, NULL),
               HEARTH_EINVAL);
    CHECK_ERR (hearth_client_call (client, "", NULL, 0, 100, 0, NULL),
               HEARTH_EINVAL);
    CHECK_ERR (hearth_client_call (client, NULL, NULL, 0, 100, 0, NULL),
               HEARTH_EINVAL);
    CHECK_ERR (hearth_client_send (client, "svc", NULL, 3, 100, 0, NULL),
               HEARTH_EINVAL);
    CHECK_INT (hearth_client_pending (client), 0);
    hearth_client_destroy (&client);
    fake_client_broker_destroy (&fake);
}

/*  Brief: malformed replies and replies to unknown ids are dropped and the
    real reply still gets through.                                          */
static void
test_malformed_replies (void)
{
    fake_client_broker_t *fake = fake_client_broker_new (s_garbage, NULL);
    hearth_client_t *client = s_client (fake);
    for (int round = 0; round < 3; round++) {
        hearth_reply_t *reply = NULL;
        REQUIRE_PASS (hearth_client_call (client, "svc", "x", 1, 5000, 0,
                                          &reply));
        size_t size;
        const char *body = hearth_reply_body (reply, &size);
        CHECK (size == 4 && memcmp (body, "real", 4) == 0);
        hearth_reply_destroy (&reply);
    }
    CHECK_INT (hearth_client_pending (client), 0);
    hearth_client_destroy (&client);
    fake_client_broker_destroy (&fake);
}

/*  hearth.h: a request with no reply gets a local 504 after its deadline
    (plus a grace), both sync and async; exactly one reply per send.      */
static void
test_local_deadline (void)
{
    fake_client_broker_t *fake = fake_client_broker_new (s_silent, NULL);
    hearth_client_t *client = s_client (fake);
    hearth_reply_t *reply = NULL;
    int64_t start = hearth_clock_ms ();
    CHECK_ERR (hearth_client_call (client, "svc", "x", 1, 200, 0, &reply),
               HEARTH_ETIMEOUT);
    int64_t elapsed = hearth_clock_ms () - start;
    CHECK (elapsed >= 200 && elapsed < 3000);
    REQUIRE (reply);
    CHECK_INT (hearth_reply_status (reply), 504);
    CHECK_STR (hearth_reply_error (reply),
               "deadline exceeded (no reply from broker)");
    hearth_reply_destroy (&reply);

    uint64_t first, second;
    REQUIRE_PASS (hearth_client_send (client, "svc", "a", 1, 300, 0, &first));
    REQUIRE_PASS (hearth_client_send (client, "svc", "b", 1, 100, 0, &second));
    CHECK_INT (hearth_client_pending (client), 2);
    CHECK_ERR (hearth_client_recv (client, 0, &reply), HEARTH_ETIMEOUT);
    /*  The shorter deadline expires first.                                */
    REQUIRE_PASS (hearth_client_recv (client, 5000, &reply));
    CHECK_INT (hearth_reply_id (reply), second);
    CHECK_INT (hearth_reply_status (reply), 504);
    hearth_reply_destroy (&reply);
    REQUIRE_PASS (hearth_client_recv (client, -1, &reply));
    CHECK_INT (hearth_reply_id (reply), first);
    hearth_reply_destroy (&reply);
    CHECK_INT (hearth_client_pending (client), 0);
    CHECK_ERR (hearth_client_recv (client, -1, &reply), HEARTH_EINVAL);
    CHECK (reply == NULL);
    hearth_client_destroy (&client);
    fake_client_broker_destroy (&fake);
}

/*  Brief: a dropped connection answers every request in flight with a
    local 502 (async) or HEARTH_EBROKERLOST (sync).                         */
static void
test_broker_lost (void)
{
    fake_client_broker_t *fake = fake_client_broker_new (s_vanish, NULL);
    hearth_client_t *client = s_client (fake);
    hearth_reply_t *reply = NULL;
    /*  Connect first: a call that never connects is another case.         */
    int64_t end = hearth_clock_ms () + 5000;
    while (!hearth_client_connected (client) && hearth_clock_ms () < end) {
        struct timespec nap = { 0, 5 * 1000000 };
        nanosleep (&nap, NULL);
    }
    CHECK (hearth_client_connected (client));
    uint64_t id;
    REQUIRE_PASS (hearth_client_send (client, "svc", "a", 1, 20000, 0, &id));
    int64_t start = hearth_clock_ms ();
    CHECK_ERR (hearth_client_call (client, "svc", "b", 1, 20000, 0, &reply),
               HEARTH_EBROKERLOST);
    CHECK (hearth_clock_ms () - start < 5000);
    REQUIRE (reply);
    CHECK_INT (hearth_reply_status (reply), 502);
    CHECK_STR (hearth_reply_error (reply), "broker connection lost");
    hearth_reply_destroy (&reply);
    /*  The async one got its own 502.                                     */
    REQUIRE_PASS (hearth_client_recv (client, 0, &reply));
    CHECK_INT (hearth_reply_id (reply), id);
    CHECK_INT (hearth_reply_status (reply), 502);
    hearth_reply_destroy (&reply);
    CHECK_INT (hearth_client_pending (client), 0);
    CHECK (!hearth_client_connected (client));
    hearth_client_destroy (&client);
    fake_client_broker_destroy (&fake);
}

/*  hearth.h: nothing listening: the call fails within the connect timeout
    with HEARTH_EUNREACHABLE, and no reply.                                 */
static void
test_unreachable (void)
{
    /*  A port that was free a moment ago, with nothing bound to it now.  */
    void *ctx = zmq_ctx_new ();
    void *probe = zmq_socket (ctx, ZMQ_ROUTER);
    REQUIRE_INT (zmq_bind (probe, "tcp://127.0.0.1:*"), 0);
    char endpoint[64];
    size_t size = sizeof endpoint;
    zmq_getsockopt (probe, ZMQ_LAST_ENDPOINT, endpoint, &size);
    zmq_close (probe);
    zmq_ctx_term (ctx);

    hearth_client_t *client = hearth_client_new (endpoint);
    REQUIRE (client);
    hearth_client_set_connect_timeout (client, 300);
    hearth_reply_t *reply = NULL;
    int64_t start = hearth_clock_ms ();
    CHECK_ERR (hearth_client_call (client, "svc", "x", 1, 10000, 0, &reply),
               HEARTH_EUNREACHABLE);
    int64_t elapsed = hearth_clock_ms () - start;
    CHECK (elapsed >= 300 && elapsed < 3000);
    CHECK (reply == NULL);
    CHECK_INT (hearth_client_pending (client), 0);
    /*  Never longer than the call's own timeout.                          */
    hearth_client_set_connect_timeout (client, 60000);
    start = hearth_clock_ms ();
    CHECK_ERR (hearth_client_call (client, "svc", "x", 1, 200, 0, &reply),
               HEARTH_EUNREACHABLE);
    CHECK (hearth_clock_ms () - start < 3000);
    /*  Async: recv reports it too, and the request stays pending.         */
    hearth_client_set_connect_timeout (client, 100);
    CHECK_PASS (hearth_client_send (client, "svc", "x", 1, 10000, 0, NULL));
    CHECK_ERR (hearth_client_recv (client, 5000, &reply), HEARTH_EUNREACHABLE);
    CHECK_INT (hearth_client_pending (client), 1);
    CHECK (!hearth_client_connected (client));
    hearth_client_destroy (&client);

    CHECK (hearth_client_new ("nonsense://x") == NULL);
    CHECK (hearth_client_new (NULL) == NULL);
    CHECK (hearth_client_new ("") == NULL);
}

/*  PROTOCOL.md 3.1: many requests in flight; replies in any order find
    their request by id.                                                    */
static void
test_async_out_of_order (void)
{
    enum { COUNT = 50 };
    s_reverse_t state = { .count = COUNT };
    fake_client_broker_t *fake = fake_client_broker_new (s_reverse, &state);
    hearth_client_t *client = s_client (fake);
    uint64_t ids[COUNT];
    for (int i = 0; i < COUNT; i++)
        REQUIRE_PASS (hearth_client_send (client, "svc", "x", 1, 10000, 0,
                                          &ids[i]));
    CHECK_INT (hearth_client_pending (client), COUNT);
    bool seen[COUNT] = { false };
    for (int i = 0; i < COUNT; i++) {
        hearth_reply_t *reply = NULL;
        REQUIRE_PASS (hearth_client_recv (client, 5000, &reply));
        uint64_t id = hearth_reply_id (reply);
        REQUIRE (id >= ids[0] && id <= ids[COUNT - 1]);
        CHECK (!seen[id - ids[0]]);
        seen[id - ids[0]] = true;
        /*  The fake echoes the id it saw as the body.                     */
        size_t size;
        const uint8_t *body = hearth_reply_body (reply, &size);
        CHECK_INT (size, 8);
        CHECK_INT (body[7], (uint8_t) id);
        if (i == 0)
            CHECK_INT (id, ids[COUNT - 1]);
        hearth_reply_destroy (&reply);
    }
    CHECK_INT (hearth_client_pending (client), 0);
    hearth_client_destroy (&client);
    fake_client_broker_destroy (&fake);
}

/*  Brief: a sync call keeps replies for other ids for hearth_client_recv. */
static void
test_sync_keeps_async (void)
{
    s_reverse_t state = { .count = 3 };
    fake_client_broker_t *fake = fake_client_broker_new (s_reverse, &state);
    hearth_client_t *client = s_client (fake);
    uint64_t a, b;
    REQUIRE_PASS (hearth_client_send (client, "svc", "a", 1, 10000, 0, &a));
    REQUIRE_PASS (hearth_client_send (client, "svc", "b", 1, 10000, 0, &b));
    /*  The call is the third request, answered first; the replies to b and
        a that follow it are parked and come out in their arrival order.  */
    hearth_reply_t *reply = NULL;
    REQUIRE_PASS (hearth_client_call (client, "svc", "c", 1, 10000, 0, &reply));
    CHECK_INT (hearth_reply_id (reply), b + 1);
    hearth_reply_destroy (&reply);
    CHECK_INT (hearth_client_pending (client), 2);
    REQUIRE_PASS (hearth_client_recv (client, 5000, &reply));
    CHECK_INT (hearth_reply_id (reply), b);
    hearth_reply_destroy (&reply);
    REQUIRE_PASS (hearth_client_recv (client, 5000, &reply));
    CHECK_INT (hearth_reply_id (reply), a);
    hearth_reply_destroy (&reply);
    hearth_client_destroy (&client);
    fake_client_broker_destroy (&fake);
}

/*  Many in flight at once, well past the initial table sizes: the hash
    and heap grow, and every request gets exactly one reply.              */
static void
test_many_in_flight (void)
{
    enum { COUNT = 600 };
    fake_client_broker_t *fake = fake_client_broker_new (s_echo, NULL);
    hearth_client_t *client = s_client (fake);
    for (int i = 0; i < COUNT; i++)
        CHECK_PASS (hearth_client_send (client, "svc", "x", 1, 10000, 0, NULL));
    uint64_t sum = 0;
    for (int i = 0; i < COUNT; i++) {
        hearth_reply_t *reply = NULL;
        REQUIRE_PASS (hearth_client_recv (client, 5000, &reply));
        CHECK_INT (hearth_reply_status (reply), 200);
        sum += hearth_reply_id (reply);
        hearth_reply_destroy (&reply);
    }
    CHECK_INT (sum, (uint64_t) COUNT * (COUNT + 1) / 2);
    CHECK_INT (hearth_client_pending (client), 0);
    /*  Sync round trips after the burst still work.                       */
    for (int i = 0; i < 200; i++)
        CHECK_PASS (hearth_client_call (client, "svc", "y", 1, 5000, 0, NULL));
    hearth_client_destroy (&client);
    fake_client_broker_destroy (&fake);
}

/*  Abandoned requests destroyed with the client do not leak (ASan).       */
static void
test_destroy_pending (void)
{
    fake_client_broker_t *fake = fake_client_broker_new (s_echo, NULL);
    hearth_client_t *client = s_client (fake);
    for (int i = 0; i < 10; i++)
        CHECK_PASS (hearth_client_send (client, "svc", "x", 1, 10000, 0, NULL));
    hearth_reply_t *reply = NULL;
    REQUIRE_PASS (hearth_client_recv (client, 5000, &reply));
    hearth_reply_destroy (&reply);
    hearth_client_destroy (&client);
    CHECK (hearth_client_pending (NULL) == 0);
    CHECK_ERR (hearth_client_recv (NULL, 0, &reply), HEARTH_EINVAL);
    CHECK_ERR (hearth_client_call (NULL, "s", NULL, 0, 1, 0, &reply),
               HEARTH_EINVAL);
    fake_client_broker_destroy (&fake);
}

/*  Hash and heap under churn: replies out of order and twice, some
    requests expiring locally; every send gets exactly one reply.          */
static void
test_shuffled_exactly_once (void)
{
    enum { COUNT = 301 };
    static s_shuffle_t state = { .count = COUNT };
    fake_client_broker_t *fake = fake_client_broker_new (s_shuffle, &state);
    hearth_client_t *client = s_client (fake);
    static int seen[COUNT + 1];
    for (int i = 0; i < COUNT; i++) {
        bool mute = i % 10 == 3;
        CHECK_PASS (hearth_client_send (client, "svc", mute ? "mute" : "x",
                                        mute ? 4 : 1, mute ? 300 + i : 10000,
                                        0, NULL));
    }
    for (int i = 0; i < COUNT; i++) {
        hearth_reply_t *reply = NULL;
        REQUIRE_PASS (hearth_client_recv (client, 10000, &reply));
        uint64_t id = hearth_reply_id (reply);
        REQUIRE (id >= 1 && id <= COUNT);
        seen[id]++;
        CHECK_INT (hearth_reply_status (reply), (id - 1) % 10 == 3 ? 504 : 200);
        hearth_reply_destroy (&reply);
    }
    for (int i = 1; i <= COUNT; i++)
        CHECK_INT (seen[i], 1);
    CHECK_INT (hearth_client_pending (client), 0);
    hearth_reply_t *reply = NULL;
    CHECK_ERR (hearth_client_recv (client, 100, &reply), HEARTH_EINVAL);
    hearth_client_destroy (&client);
    fake_client_broker_destroy (&fake);
}

/*  Long-lived requests sit in the id hash while thousands of short ones
    wrap around it, so probe chains form and break: every short reply must
    still find its request (a lost one would show as a local 504).         */
static void
test_hash_wraparound (void)
{
    enum { HELD = 5, TOTAL = 3000, WINDOW = 24 };
    fake_client_broker_t *fake = fake_client_broker_new (s_echo, NULL);
    hearth_client_t *client = s_client (fake);
    for (int i = 0; i < HELD; i++)
        CHECK_PASS (hearth_client_send (client, "svc", "mute", 4, 60000, 0,
                                        NULL));
    int sent = 0, got = 0;
    while (got < TOTAL) {
        while (sent < TOTAL && sent - got < WINDOW) {
            CHECK_PASS (hearth_client_send (client, "svc", "x", 1, 60000, 0,
                                            NULL));
            sent++;
        }
        hearth_reply_t *reply = NULL;
        REQUIRE_PASS (hearth_client_recv (client, 10000, &reply));
        CHECK_INT (hearth_reply_status (reply), 200);
        CHECK (hearth_reply_id (reply) > HELD);
        hearth_reply_destroy (&reply);
        got++;
    }
    CHECK_INT (hearth_client_pending (client), HELD);
    hearth_reply_t *reply = NULL;
    CHECK_ERR (hearth_client_recv (client, 0, &reply), HEARTH_ETIMEOUT);
    hearth_client_destroy (&client);
    fake_client_broker_destroy (&fake);
}

int
main (void)
{
    RUN (test_call_ok);
    RUN (test_call_status);
    RUN (test_request_frames);
    RUN (test_malformed_replies);
    RUN (test_local_deadline);
    RUN (test_broker_lost);
    RUN (test_unreachable);
    RUN (test_async_out_of_order);
    RUN (test_sync_keeps_async);
    RUN (test_many_in_flight);
    RUN (test_shuffled_exactly_once);
    RUN (test_hash_wraparound);
    RUN (test_destroy_pending);
    return HEARTH_TEST_RESULT;
}
