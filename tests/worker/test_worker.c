/*  test_worker - the worker library (include/hearth/hearth.h, worker half)
    against a scripted fake broker. Each case is one ctest; the section of
    schemas/PROTOCOL.md it checks is named in its comment.

    Usage: test_worker CASE
*/
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "hearth/hearth.h"
#include "hearth_clock.h"
#include "hearth_meta.h"
#include "hearth_test.h"
#include "fake_worker_broker.h"

#define WAIT_MS 5000            /* generous: each step needs ~100x less     */

/* ------------------------------------------------------------- handler */

typedef struct {
    atomic_int running;
    atomic_int max_running;
    atomic_int calls;
    atomic_bool gate;           /* "gate" requests wait until this is set   */
    hearth_worker_t *worker;    /* for "leave"                              */
} test_state_t;

/*  Set by the inline_* cases: workers run their handler inline.           */
static bool s_inline;

static void
s_sleep_ms (int ms)
{
    struct timespec ts = { ms / 1000, (long) (ms % 1000) * 1000000L };
    nanosleep (&ts, NULL);
}

/*  The body says what to do: "echo:X", "sleep:N", "status:N", "info",
    "error", "gate", "big:N" (a body of N bytes), "leave" (stops the worker
    from inside the handler).                                                */
static int
s_handler (const hearth_request_t *request, hearth_response_t *response,
           void *arg)
{
    test_state_t *state = arg;
    int now_running = atomic_fetch_add (&state->running, 1) + 1;
    int max = atomic_load (&state->max_running);
    while (now_running > max
       && !atomic_compare_exchange_weak (&state->max_running, &max,
                                         now_running))
        ;
    atomic_fetch_add (&state->calls, 1);
    size_t size;
    const char *body = hearth_request_body (request, &size);
    char text[256];
    snprintf (text, sizeof text, "%.*s", (int) size, body);
    int status = HEARTH_STATUS_OK;
    if (strncmp (text, "echo:", 5) == 0)
        hearth_response_set_body (response, text + 5, strlen (text + 5));
    else
    if (strncmp (text, "sleep:", 6) == 0) {
        s_sleep_ms (atoi (text + 6));
        hearth_response_set_body (response, "slept", 5);
    }
    else
    if (strncmp (text, "status:", 7) == 0)
        status = atoi (text + 7);
    else
    if (strcmp (text, "info") == 0) {
        char out[64];
        int n = snprintf (out, sizeof out, "%lld %d",
                          (long long) hearth_request_remaining_ms (request),
                          hearth_request_attempt (request));
        hearth_response_set_body (response, out, (size_t) n);
    }
    else
    if (strncmp (text, "big:", 4) == 0) {
        size_t n = (size_t) atol (text + 4);
        char *big = calloc (1, n);
        hearth_response_take_body (response, big, n);
    }
    else
    if (strcmp (text, "error") == 0) {
        hearth_response_set_error (response, "no good");
        status = HEARTH_STATUS_BAD_REQUEST;
    }
    else
    if (strcmp (text, "leave") == 0) {
        hearth_worker_stop (state->worker);
        hearth_response_set_body (response, "bye", 3);
    }
    else
    if (strcmp (text, "gate") == 0) {
        int64_t until = hearth_clock_ms () + 10000;
        while (!atomic_load (&state->gate) && hearth_clock_ms () < until)
            s_sleep_ms (1);
        hearth_response_take_body (response, strdup ("opened"), 6);
    }
    atomic_fetch_sub (&state->running, 1);
    return status;
}

/* --------------------------------------------------------------- runner */

typedef struct {
    hearth_worker_t *worker;
    pthread_t thread;
    atomic_int rc;
    atomic_bool done;
    test_state_t state;
} runner_t;

static void *
s_runner_main (void *arg)
{
    runner_t *runner = arg;
    atomic_store (&runner->rc, hearth_worker_run (runner->worker));
    atomic_store (&runner->done, true);
    return NULL;
}

static runner_t *
s_runner_start (fake_worker_broker_t *broker, int concurrency, int credit)
{
    runner_t *runner = calloc (1, sizeof *runner);
    hearth_descriptor_t d = {
        .service = "echo", .version = "1.0", .description = "test echo",
        .concurrency = concurrency, .credit = credit,
        .example = "echo:hi",
    };
    runner->worker = hearth_worker_new (broker->endpoint, &d, s_handler,
                                        &runner->state);
    REQUIRE (runner->worker, "hearth_worker_new returned NULL");
    runner->state.worker = runner->worker;
    if (s_inline)
        REQUIRE (hearth_worker_set_inline (runner->worker, true) == HEARTH_OK,
                 "set_inline refused");
    atomic_store (&runner->rc, -1);
    pthread_create (&runner->thread, NULL, s_runner_main, runner);
    return runner;
}

/*  Stops the worker, checks run's return value, frees everything.         */
static void
s_runner_finish (runner_t **runner_p, int expected)
{
    runner_t *runner = *runner_p;
    hearth_worker_stop (runner->worker);
    int64_t until = hearth_clock_ms () + 3 * WAIT_MS;
    while (!atomic_load (&runner->done) && hearth_clock_ms () < until)
        s_sleep_ms (5);
    REQUIRE (atomic_load (&runner->done), "hearth_worker_run did not return");
    pthread_join (runner->thread, NULL);
    CHECK_ERR (atomic_load (&runner->rc), expected);
    hearth_worker_destroy (&runner->worker);
    CHECK (runner->worker == NULL, "destroy did not clear the pointer");
    free (runner);
    *runner_p = NULL;
}

/*  Whether a message with command came within WAIT_MS (other commands,
    such as heartbeats, skipped); frames holds it if so (caller closes).  */
static bool
s_expect (fake_worker_broker_t *broker, int command, hearth_frames_t *frames)
{
    return fake_worker_broker_expect (broker, command, frames, WAIT_MS,
                                      NULL) == 0;
}

/*  Receives READY and answers REGISTERED; returns when the worker says it
    is registered.                                                           */
static void
s_register (fake_worker_broker_t *broker, runner_t *runner, int heartbeat_ms)
{
    hearth_frames_t frames;
    REQUIRE (s_expect (broker, HEARTH_WORKER_READY, &frames), "no READY");
    hearth_frames_close (&frames);
    fake_worker_broker_register (broker, heartbeat_ms, 3);
    int64_t until = hearth_clock_ms () + WAIT_MS;
    while (!hearth_worker_registered (runner->worker)
       && hearth_clock_ms () < until)
        s_sleep_ms (1);
    REQUIRE (hearth_worker_registered (runner->worker), "not registered");
}

/*  Expects the REPLY to job: checks its status and body, returns the
    error text from its metadata in error (may be empty).                   */
static void
s_expect_reply (fake_worker_broker_t *broker, uint64_t job, int status,
                const char *body, char *error, size_t error_size)
{
    hearth_frames_t f;
    REQUIRE (s_expect (broker, HEARTH_WORKER_REPLY, &f),
             "no REPLY for job %llu", (unsigned long long) job);
    REQUIRE (f.count == HEARTH_WORKER_REPLY_FRAMES, "REPLY has %d frames",
             f.count);
    CHECK (hearth_frames_size (&f, 3) == sizeof job
        && memcmp (hearth_frames_data (&f, 3), &job, sizeof job) == 0,
           "job-id not echoed for job %llu", (unsigned long long) job);
    int got = hearth_wire_status_decode (hearth_frames_data (&f, 4),
                                         hearth_frames_size (&f, 4));
    CHECK (got == status, "status %d, expected %d", got, status);
    if (body)
        CHECK (hearth_frames_size (&f, 6) == strlen (body)
            && memcmp (hearth_frames_data (&f, 6), body, strlen (body)) == 0,
               "body '%.*s', expected '%s'", (int) hearth_frames_size (&f, 6),
               (const char *) hearth_frames_data (&f, 6), body);
    CHECK (hearth_meta_validate (hearth_frames_data (&f, 5),
                                 hearth_frames_size (&f, 5)) == 0,
           "reply metadata is not a map");
    if (error) {
        error[0] = 0;
        hearth_meta_entry_t entry;
        const char *str;
        size_t len;
        if (hearth_meta_find (hearth_frames_data (&f, 5),
                              hearth_frames_size (&f, 5), HEARTH_META_ERROR,
                              &entry) == 1
        &&  hearth_meta_value_str (&entry, &str, &len) == 0)
            snprintf (error, error_size, "%.*s", (int) len, str);
    }
    hearth_frames_close (&f);
}

/* ---------------------------------------------------------------- cases */

/*  hearth.h: hearth_worker_new refuses bad descriptors.                    */
static void
test_new_checks (void)
{
    test_state_t state = { 0 };
    const char *ep = "tcp://127.0.0.1:1";
    char long_name[300];
    memset (long_name, 'a', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = 0;
    struct { const char *service; int concurrency, credit; bool ok; } cases[] = {
        { NULL, 0, 0, false }, { "", 0, 0, false }, { long_name, 0, 0, false },
        { "mmi.service", 0, 0, false }, { "hearth.x", 0, 0, false },
        { "x", 2, 1, false }, { "x", -1, 0, false }, { "x", 1, -3, false },
        { "x", 1, HEARTH_CREDIT_MAX + 1, false },
        { "x", 0, 0, true }, { "x", 4, 0, true }, { "x", 1, HEARTH_CREDIT_MAX, true },
        { "mmi", 0, 0, true }, { "hearthy", 0, 0, true },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        hearth_descriptor_t d = { .service = cases[i].service,
            .concurrency = cases[i].concurrency, .credit = cases[i].credit };
        hearth_worker_t *w = hearth_worker_new (ep, &d, s_handler, &state);
        CHECK ((w != NULL) == cases[i].ok, "case %zu (%s %d %d)", i,
               cases[i].service ? cases[i].service : "NULL",
               cases[i].concurrency, cases[i].credit);
        hearth_worker_destroy (&w);
        hearth_worker_destroy (&w);     /* idempotent */
    }
    hearth_descriptor_t d = { .service = "x" };
    CHECK (hearth_worker_new (NULL, &d, s_handler, NULL) == NULL, "NULL endpoint");
    CHECK (hearth_worker_new (ep, NULL, s_handler, NULL) == NULL, "NULL descriptor");
    CHECK (hearth_worker_new (ep, &d, NULL, NULL) == NULL, "NULL handler");
}

static int64_t
s_desc_uint (hearth_frames_t *f, const char *key)
{
    hearth_meta_entry_t entry;
    uint64_t value;
    if (hearth_meta_find (hearth_frames_data (f, 4), hearth_frames_size (f, 4),
                          key, &entry) != 1
    ||  hearth_meta_value_uint (&entry, &value))
        return -1;
    return (int64_t) value;
}

static bool
s_desc_str_is (hearth_frames_t *f, const char *key, const char *expected)
{
    hearth_meta_entry_t entry;
    const char *str;
    size_t len;
    if (hearth_meta_find (hearth_frames_data (f, 4), hearth_frames_size (f, 4),
                          key, &entry) != 1
    ||  hearth_meta_value_str (&entry, &str, &len))
        return expected == NULL;
    return expected && len == strlen (expected) && memcmp (str, expected, len) == 0;
}

/*  4.1/7: READY carries the service and a descriptor map; credit defaults
    to concurrency; absent strings are omitted.                              */
static void
test_ready (void)
{
    fake_worker_broker_t *broker = fake_worker_broker_new ();
    runner_t *runner = s_runner_start (broker, 3, 0);
    hearth_frames_t f;
    REQUIRE (s_expect (broker, HEARTH_WORKER_READY, &f), "no READY");
    REQUIRE (f.count == HEARTH_WORKER_READY_FRAMES, "READY has %d frames",
             f.count);
    CHECK (hearth_frames_size (&f, 0) == 0, "no empty delimiter");
    CHECK (hearth_frames_is (&f, 3, "echo"), "service frame");
    CHECK (s_desc_str_is (&f, HEARTH_DESC_SERVICE, "echo"), "descriptor service");
    CHECK (s_desc_str_is (&f, HEARTH_DESC_VERSION, "1.0"), "descriptor version");
    CHECK (s_desc_str_is (&f, HEARTH_DESC_DESCRIPTION, "test echo"), "description");
    CHECK (s_desc_str_is (&f, HEARTH_DESC_EXAMPLE, "echo:hi"), "example");
    CHECK (s_desc_str_is (&f, HEARTH_DESC_INPUT_SCHEMA, NULL), "absent schema sent");
    CHECK (s_desc_uint (&f, HEARTH_DESC_CONCURRENCY) == 3, "concurrency");
    CHECK (s_desc_uint (&f, HEARTH_DESC_CREDIT) == 3, "credit default");
    CHECK (!hearth_worker_registered (runner->worker), "registered before REGISTERED");
    hearth_frames_close (&f);
    s_runner_finish (&runner, HEARTH_OK);
    fake_worker_broker_destroy (&broker);
}

/*  4.2/4.3/6: register, serve requests, echo job ids, statuses and errors,
    deadline and attempt from the metadata.                                  */
static void
test_requests (void)
{
    fake_worker_broker_t *broker = fake_worker_broker_new ();
    runner_t *runner = s_runner_start (broker, 1, 1);
    s_register (broker, runner, 1000);
    char error[256];

    fake_worker_broker_request (broker, 1, NULL, 0, "echo:hello");
    s_expect_reply (broker, 1, 200, "hello", error, sizeof error);
    CHECK (error[0] == 0, "200 reply carries error '%s'", error);

    fake_worker_broker_request (broker, 2, NULL, 0, "info");
    s_expect_reply (broker, 2, 200, "-1 1", NULL, 0);

    hearth_meta_writer_t writer;
    hearth_meta_writer_init (&writer);
    hearth_meta_put_uint (&writer, HEARTH_META_DEADLINE, 60000);
    hearth_meta_put_uint (&writer, HEARTH_META_ATTEMPT, 2);
    hearth_meta_put_str (&writer, "unknown", "ignored");
    size_t size;
    void *meta = hearth_meta_writer_to_buffer (&writer, &size);
    fake_worker_broker_request (broker, 3, meta, size, "info");
    hearth_frames_t f;
    REQUIRE (s_expect (broker, HEARTH_WORKER_REPLY, &f), "no REPLY to info");
    long long remaining = 0;
    int attempt = 0;
    char text[64];
    snprintf (text, sizeof text, "%.*s", (int) hearth_frames_size (&f, 6),
              (const char *) hearth_frames_data (&f, 6));
    CHECK (sscanf (text, "%lld %d", &remaining, &attempt) == 2, "info '%s'", text);
    CHECK (remaining > 50000 && remaining <= 60000, "remaining %lld", remaining);
    CHECK (attempt == 2, "attempt %d", attempt);
    hearth_frames_close (&f);
    free (meta);
    hearth_meta_writer_destroy (&writer);

    fake_worker_broker_request (broker, 4, NULL, 0, "error");
    s_expect_reply (broker, 4, 400, "", error, sizeof error);
    CHECK (strcmp (error, "no good") == 0, "error '%s'", error);

    fake_worker_broker_request (broker, 5, NULL, 0, "status:42");
    s_expect_reply (broker, 5, 500, "", error, sizeof error);
    CHECK (strstr (error, "invalid status 42"), "error '%s'", error);

    fake_worker_broker_request (broker, 6, NULL, 0, "status:404");
    s_expect_reply (broker, 6, 404, "", error, sizeof error);
    CHECK (error[0], "non-200 reply without error text");

    fake_worker_broker_request (broker, 7, NULL, 0, "status:700");
    s_expect_reply (broker, 7, 500, "", NULL, 0);
    s_runner_finish (&runner, HEARTH_OK);
    fake_worker_broker_destroy (&broker);
}

/*  4.3: credit above concurrency pipelines; never more than concurrency
    handlers at once; every job answered once.                              */
static void
test_pipelining (void)
{
    fake_worker_broker_t *broker = fake_worker_broker_new ();
    runner_t *runner = s_runner_start (broker, 2, 8);
    s_register (broker, runner, 1000);
    for (uint64_t job = 1; job <= 8; job++)
        fake_worker_broker_request (broker, job, NULL, 0, "sleep:30");
    bool seen[9] = { false };
    for (int i = 0; i < 8; i++) {
        hearth_frames_t f;
        REQUIRE (s_expect (broker, HEARTH_WORKER_REPLY, &f), "reply %d missing",
                 i);
        uint64_t job;
        memcpy (&job, hearth_frames_data (&f, 3), sizeof job);
        REQUIRE (job >= 1 && job <= 8 && !seen[job], "job %llu unexpected",
                 (unsigned long long) job);
        seen[job] = true;
        hearth_frames_close (&f);
    }
    int max = atomic_load (&runner->state.max_running);
    CHECK (max == 2, "max concurrent handlers %d, expected 2", max);
    s_runner_finish (&runner, HEARTH_OK);
    fake_worker_broker_destroy (&broker);
}

/*  4.4: the worker uses the broker's heartbeat_ms and heartbeats while
    its handler is busy.                                                      */
static void
test_heartbeat_busy (void)
{
    fake_worker_broker_t *broker = fake_worker_broker_new ();
    runner_t *runner = s_runner_start (broker, 1, 1);
    s_register (broker, runner, 100);
    fake_worker_broker_request (broker, 1, NULL, 0, "gate");
    int64_t start = hearth_clock_ms ();
    int beats = 0;
    hearth_frames_t f;
    while (beats < 5) {
        REQUIRE (fake_worker_broker_recv (broker, &f, WAIT_MS) == 0,
                 "no heartbeat while busy");
        int command = hearth_frames_command (&f, 2);
        REQUIRE (command != HEARTH_WORKER_READY,
                 "worker reconnected: it found us silent");
        CHECK (command == HEARTH_WORKER_HEARTBEAT, "command %d", command);
        CHECK (f.count == 3, "HEARTBEAT has %d frames", f.count);
        hearth_frames_close (&f);
        beats++;
        /*  Answer, or the worker rightly finds us dead after 300 ms.       */
        fake_worker_broker_send (broker, HEARTH_WORKER_HEARTBEAT, NULL, 0);
    }
    int64_t elapsed = hearth_clock_ms () - start;
    /*  Five at 100 ms take about 500 ms; the default (1000) would take 5 s. */
    CHECK (elapsed >= 300 && elapsed < 3000, "5 heartbeats took %lld ms",
           (long long) elapsed);
    CHECK (atomic_load (&runner->state.running) == 1, "handler not running");
    atomic_store (&runner->state.gate, true);
    s_expect_reply (broker, 1, 200, "opened", NULL, 0);
    s_runner_finish (&runner, HEARTH_OK);
    fake_worker_broker_destroy (&broker);
}

/*  4.2: REGISTERED non-200 ends run with HEARTH_EREJECTED, no retry.       */
static void
test_rejected (void)
{
    fake_worker_broker_t *broker = fake_worker_broker_new ();
    runner_t *runner = s_runner_start (broker, 1, 1);
    hearth_frames_t f;
    REQUIRE (s_expect (broker, HEARTH_WORKER_READY, &f), "no READY");
    hearth_frames_close (&f);
    hearth_meta_writer_t writer;
    hearth_meta_writer_init (&writer);
    hearth_meta_put_str (&writer, HEARTH_META_ERROR, "reserved name");
    size_t size;
    void *settings = hearth_meta_writer_to_buffer (&writer, &size);
    hearth_part_t extra[] = { HEARTH_PART_STR ("403"),
                              HEARTH_PART_BYTES (settings, size) };
    fake_worker_broker_send (broker, HEARTH_WORKER_REGISTERED, extra, 2);
    free (settings);
    hearth_meta_writer_destroy (&writer);
    int64_t until = hearth_clock_ms () + WAIT_MS;
    while (!atomic_load (&runner->done) && hearth_clock_ms () < until)
        s_sleep_ms (2);
    REQUIRE (atomic_load (&runner->done), "run did not return after 403");
    CHECK (!hearth_worker_registered (runner->worker), "registered after 403");
    s_runner_finish (&runner, HEARTH_EREJECTED);
    fake_worker_broker_destroy (&broker);
}

/*  Waits for a READY from a peer other than old (a fresh socket).          */
static void
s_expect_new_ready (fake_worker_broker_t *broker, const uint8_t *old,
                    size_t old_size, int timeout_ms)
{
    hearth_frames_t f;
    int64_t until = hearth_clock_ms () + timeout_ms;
    while (hearth_clock_ms () < until) {
        REQUIRE (fake_worker_broker_expect (broker, HEARTH_WORKER_READY, &f,
                                            (int) (until - hearth_clock_ms ()),
                                            NULL) == 0, "no new READY");
        hearth_frames_close (&f);
        if (broker->peer_size != old_size
        ||  memcmp (broker->peer, old, old_size) != 0)
            return;
    }
    REQUIRE (false, "READY only from the old socket");
}

/*  4.4: a silent broker is dead after heartbeat x liveness: the worker
    opens a fresh socket and sends READY again; results of jobs from the
    old connection are dropped.                                              */
static void
test_silent_broker (void)
{
    fake_worker_broker_t *broker = fake_worker_broker_new ();
    runner_t *runner = s_runner_start (broker, 1, 1);
    s_register (broker, runner, 50);
    uint8_t old[256];
    size_t old_size = broker->peer_size;
    memcpy (old, broker->peer, old_size);
    fake_worker_broker_request (broker, 1, NULL, 0, "gate");
    int64_t start = hearth_clock_ms ();
    /*  We now say nothing: 150 ms of silence, then a backoff of 100 ms.    */
    s_expect_new_ready (broker, old, old_size, WAIT_MS);
    int64_t took = hearth_clock_ms () - start;
    CHECK (took >= 100 && took < 3000, "re-READY after %lld ms", (long long) took);
    CHECK (!hearth_worker_registered (runner->worker), "still registered");
    fake_worker_broker_register (broker, 1000, 3);
    /*  The old job finishes now: its reply must not reach the new broker. */
    atomic_store (&runner->state.gate, true);
    int64_t until = hearth_clock_ms () + WAIT_MS;
    while (atomic_load (&runner->state.calls) < 1 || atomic_load (&runner->state.running))
        REQUIRE (hearth_clock_ms () < until, "handler did not finish");
    fake_worker_broker_request (broker, 2, NULL, 0, "echo:after");
    s_expect_reply (broker, 2, 200, "after", NULL, 0);
    s_runner_finish (&runner, HEARTH_OK);
    fake_worker_broker_destroy (&broker);
}

/*  4.5: DISCONNECT from the broker makes the worker register again.        */
static void
test_disconnect (void)
{
    fake_worker_broker_t *broker = fake_worker_broker_new ();
    runner_t *runner = s_runner_start (broker, 1, 1);
    s_register (broker, runner, 1000);
    uint8_t old[256];
    size_t old_size = broker->peer_size;
    memcpy (old, broker->peer, old_size);
    fake_worker_broker_send (broker, HEARTH_WORKER_DISCONNECT, NULL, 0);
    s_expect_new_ready (broker, old, old_size, WAIT_MS);
    fake_worker_broker_register (broker, 1000, 3);
    fake_worker_broker_request (broker, 9, NULL, 0, "echo:again");
    s_expect_reply (broker, 9, 200, "again", NULL, 0);
    s_runner_finish (&runner, HEARTH_OK);
    fake_worker_broker_destroy (&broker);
}

/*  Malformed broker messages are dropped; the worker keeps serving.        */
static void
test_malformed (void)
{
    fake_worker_broker_t *broker = fake_worker_broker_new ();
    runner_t *runner = s_runner_start (broker, 1, 1);
    s_register (broker, runner, 1000);
    uint64_t job = 5;
    uint8_t bad_map[] = { 0x81, 0xa1 };         /* map cut short           */
    uint8_t deadline_str[] = { 0x81, 0xa8, 'd', 'e', 'a', 'd', 'l', 'i', 'n',
                               'e', 0xa1, 'x' };
    char big_cmd[2] = { HEARTH_WORKER_REQUEST, 0 };
    char cmd_request = HEARTH_WORKER_REQUEST, cmd_unknown = 0x7f;
    char cmd_registered = HEARTH_WORKER_REGISTERED;
    hearth_part_t garbage[][7] = {
        { HEARTH_PART_STR ("x") },
        { HEARTH_PART_STR ("not empty"), HEARTH_PART_STR (HEARTH_WORKER_HEADER),
          HEARTH_PART_BYTES (&cmd_request, 1) },
        { HEARTH_PART_EMPTY, HEARTH_PART_STR ("MDPW01"), HEARTH_PART_BYTES (&cmd_request, 1) },
        { HEARTH_PART_EMPTY, HEARTH_PART_STR (HEARTH_WORKER_HEADER),
          HEARTH_PART_BYTES (&cmd_unknown, 1) },
        { HEARTH_PART_EMPTY, HEARTH_PART_STR (HEARTH_WORKER_HEADER),
          HEARTH_PART_BYTES (big_cmd, 2) },
        { HEARTH_PART_EMPTY, HEARTH_PART_STR (HEARTH_WORKER_HEADER),
          HEARTH_PART_BYTES (&cmd_request, 1) },
        { HEARTH_PART_EMPTY, HEARTH_PART_STR (HEARTH_WORKER_HEADER),
          HEARTH_PART_BYTES (&cmd_request, 1), HEARTH_PART_EMPTY,
          HEARTH_PART_EMPTY, HEARTH_PART_STR ("echo:x") },
        { HEARTH_PART_EMPTY, HEARTH_PART_STR (HEARTH_WORKER_HEADER),
          HEARTH_PART_BYTES (&cmd_request, 1), HEARTH_PART_BYTES (&job, 8),
          HEARTH_PART_BYTES (bad_map, sizeof bad_map), HEARTH_PART_STR ("echo:x") },
        { HEARTH_PART_EMPTY, HEARTH_PART_STR (HEARTH_WORKER_HEADER),
          HEARTH_PART_BYTES (&cmd_request, 1), HEARTH_PART_BYTES (&job, 8),
          HEARTH_PART_BYTES (deadline_str, sizeof deadline_str),
          HEARTH_PART_STR ("echo:x") },
        { HEARTH_PART_EMPTY, HEARTH_PART_STR (HEARTH_WORKER_HEADER),
          HEARTH_PART_BYTES (&cmd_registered, 1), HEARTH_PART_STR ("2x0"),
          HEARTH_PART_EMPTY },
        { HEARTH_PART_EMPTY, HEARTH_PART_STR (HEARTH_WORKER_HEADER),
          HEARTH_PART_BYTES (&cmd_registered, 1), HEARTH_PART_STR ("403"),
          HEARTH_PART_BYTES (bad_map, sizeof bad_map) },
    };
    int counts[] = { 1, 3, 3, 3, 3, 3, 6, 6, 6, 5, 5 };
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++)
        fake_worker_broker_send_raw (broker, garbage[i], counts[i]);
    fake_worker_broker_request (broker, 6, NULL, 0, "echo:alive");
    s_expect_reply (broker, 6, 200, "alive", NULL, 0);
    CHECK (atomic_load (&runner->state.calls) == 1, "handler ran %d times",
           atomic_load (&runner->state.calls));
    CHECK (hearth_worker_registered (runner->worker), "lost registration");
    s_runner_finish (&runner, HEARTH_OK);
    fake_worker_broker_destroy (&broker);
}

/*  hearth.h: stop sends DISCONNECT, lets the running handler finish, sends
    its reply and returns HEARTH_OK.                                         */
static void
test_stop (void)
{
    fake_worker_broker_t *broker = fake_worker_broker_new ();
    runner_t *runner = s_runner_start (broker, 1, 1);
    s_register (broker, runner, 1000);
    fake_worker_broker_request (broker, 1, NULL, 0, "sleep:300");
    int64_t until = hearth_clock_ms () + WAIT_MS;
    while (atomic_load (&runner->state.running) == 0 && hearth_clock_ms () < until)
        s_sleep_ms (1);
    CHECK (atomic_load (&runner->state.running) == 1, "handler did not start");
    hearth_worker_stop (runner->worker);
    hearth_frames_t f;
    REQUIRE (s_expect (broker, HEARTH_WORKER_DISCONNECT, &f),
             "no DISCONNECT on stop");
    hearth_frames_close (&f);
    s_expect_reply (broker, 1, 200, "slept", NULL, 0);
    s_runner_finish (&runner, HEARTH_OK);
    fake_worker_broker_destroy (&broker);
}

/*  hearth.h: a handler that stops its worker gets its reply sent after the
    DISCONNECT, so the broker routes nothing new to a worker that leaves.   */
static void
test_stop_in_handler (void)
{
    fake_worker_broker_t *broker = fake_worker_broker_new ();
    runner_t *runner = s_runner_start (broker, 1, 1);
    s_register (broker, runner, 1000);
    fake_worker_broker_request (broker, 1, NULL, 0, "leave");
    hearth_frames_t f;
    int command;
    do {
        REQUIRE (fake_worker_broker_recv (broker, &f, WAIT_MS) == 0,
                 "nothing came");
        command = hearth_frames_command (&f, 2);
        hearth_frames_close (&f);
    } while (command == HEARTH_WORKER_HEARTBEAT);
    CHECK (command == HEARTH_WORKER_DISCONNECT,
           "command %d came before the DISCONNECT", command);
    s_expect_reply (broker, 1, 200, "bye", NULL, 0);
    fake_worker_broker_send (broker, HEARTH_WORKER_DISCONNECT, NULL, 0);
    s_runner_finish (&runner, HEARTH_OK);
    fake_worker_broker_destroy (&broker);
}

/*  hearth.h: inline mode is for concurrency 1 and credit 1 only.         */
static void
test_inline_refused (void)
{
    test_state_t state = { 0 };
    hearth_descriptor_t d = { .service = "x", .concurrency = 2 };
    hearth_worker_t *w = hearth_worker_new ("tcp://127.0.0.1:1", &d, s_handler,
                                            &state);
    REQUIRE (w, "new failed");
    CHECK (hearth_worker_set_inline (w, true) == HEARTH_EINVAL,
           "inline accepted with concurrency 2");
    hearth_worker_destroy (&w);
    d = (hearth_descriptor_t) { .service = "x", .concurrency = 1, .credit = 2 };
    w = hearth_worker_new ("tcp://127.0.0.1:1", &d, s_handler, &state);
    REQUIRE (w, "new failed");
    CHECK (hearth_worker_set_inline (w, true) == HEARTH_EINVAL,
           "inline accepted with credit 2");
    CHECK (hearth_worker_set_inline (w, false) == HEARTH_OK, "off refused");
    CHECK (hearth_worker_set_inline (NULL, true) == HEARTH_EINVAL, "NULL");
    hearth_worker_destroy (&w);
}

/*  4.3: a job whose deadline passes while it waits for a handler is
    answered 504 without running.                                            */
static void
test_deadline_queued (void)
{
    fake_worker_broker_t *broker = fake_worker_broker_new ();
    runner_t *runner = s_runner_start (broker, 1, 2);
    s_register (broker, runner, 1000);
    fake_worker_broker_request (broker, 1, NULL, 0, "gate");
    hearth_meta_writer_t writer;
    hearth_meta_writer_init (&writer);
    hearth_meta_put_uint (&writer, HEARTH_META_DEADLINE, 20);
    size_t size;
    void *meta = hearth_meta_writer_to_buffer (&writer, &size);
    fake_worker_broker_request (broker, 2, meta, size, "echo:late");
    free (meta);
    hearth_meta_writer_destroy (&writer);
    int64_t until = hearth_clock_ms () + WAIT_MS;
    while (atomic_load (&runner->state.running) == 0 && hearth_clock_ms () < until)
        s_sleep_ms (1);
    s_sleep_ms (40);            /* let job 2's 20 ms budget run out        */
    atomic_store (&runner->state.gate, true);
    s_expect_reply (broker, 1, 200, "opened", NULL, 0);
    char error[256];
    s_expect_reply (broker, 2, 504, "", error, sizeof error);
    CHECK (strstr (error, "deadline"), "error '%s'", error);
    CHECK (atomic_load (&runner->state.calls) == 1, "expired job ran");
    s_runner_finish (&runner, HEARTH_OK);
    fake_worker_broker_destroy (&broker);
}

/*  Stop before any broker exists: run returns promptly with HEARTH_OK.    */
static void
test_stop_unconnected (void)
{
    test_state_t state = { 0 };
    hearth_descriptor_t d = { .service = "x" };
    hearth_worker_t *w = hearth_worker_new ("tcp://127.0.0.1:1", &d, s_handler,
                                            &state);
    hearth_worker_stop (w);
    int64_t start = hearth_clock_ms ();
    int rc = hearth_worker_run (w);
    CHECK (rc == HEARTH_OK, "run returned %s", hearth_error_name (rc));
    CHECK (hearth_clock_ms () - start < 2000, "stop took too long");
    hearth_worker_destroy (&w);
}

/*  4.5: stopping before the broker registered us (as after reconnecting to
    a broker that has just shut down, the state `hearth up` stops its
    workers in) waits a heartbeat (1000 ms before REGISTERED) for the
    broker's word, not the whole 5 s stop grace for an acknowledgement that
    a gone broker never sends.                                               */
static void
test_stop_unregistered (void)
{
    fake_worker_broker_t *broker = fake_worker_broker_new ();
    runner_t *runner = s_runner_start (broker, 1, 1);
    hearth_frames_t f;
    REQUIRE (s_expect (broker, HEARTH_WORKER_READY, &f), "no READY");
    hearth_frames_close (&f);
    int64_t start = hearth_clock_ms ();
    hearth_worker_stop (runner->worker);
    REQUIRE (s_expect (broker, HEARTH_WORKER_DISCONNECT, &f),
             "no DISCONNECT on stop");
    hearth_frames_close (&f);
    int64_t until = start + WAIT_MS;
    while (!atomic_load (&runner->done) && hearth_clock_ms () < until)
        s_sleep_ms (5);
    int64_t took = hearth_clock_ms () - start;
    CHECK (took < 4000, "stop took %lld ms (the stop grace is 5000)",
           (long long) took);
    s_runner_finish (&runner, HEARTH_OK);
    fake_worker_broker_destroy (&broker);
}

/*  4.5: a broker whose REGISTERED crossed our DISCONNECT knows us, and may
    have routed a request to us before it read the DISCONNECT: the worker
    then serves it and waits for the acknowledgement, as if registered.     */
static void
test_stop_registered_late (void)
{
    fake_worker_broker_t *broker = fake_worker_broker_new ();
    runner_t *runner = s_runner_start (broker, 1, 1);
    hearth_frames_t f;
    REQUIRE (s_expect (broker, HEARTH_WORKER_READY, &f), "no READY");
    hearth_frames_close (&f);
    hearth_worker_stop (runner->worker);
    REQUIRE (s_expect (broker, HEARTH_WORKER_DISCONNECT, &f),
             "no DISCONNECT on stop");
    hearth_frames_close (&f);
    fake_worker_broker_register (broker, 1000, 3);
    fake_worker_broker_request (broker, 4, NULL, 0, "echo:late");
    s_expect_reply (broker, 4, 200, "late", NULL, 0);
    CHECK (!atomic_load (&runner->done), "left before the acknowledgement");
    fake_worker_broker_send (broker, HEARTH_WORKER_DISCONNECT, NULL, 0);
    s_runner_finish (&runner, HEARTH_OK);
    fake_worker_broker_destroy (&broker);
}

/*  hearth.h: a malformed endpoint makes run fail with HEARTH_EINVAL.      */
static void
test_bad_endpoint (void)
{
    test_state_t state = { 0 };
    hearth_descriptor_t d = { .service = "x" };
    hearth_worker_t *w = hearth_worker_new ("nosuch://127.0.0.1:1", &d,
                                            s_handler, &state);
    REQUIRE (w, "new refused an endpoint only run can check");
    int rc = hearth_worker_run (w);
    CHECK (rc == HEARTH_EINVAL, "run returned %s", hearth_error_name (rc));
    hearth_worker_destroy (&w);
}

/*  A reply larger than the broker's max_message (1 MiB from the fake
    broker) is replaced by a 500 saying why, instead of being refused.      */
static void
test_reply_too_large (void)
{
    fake_worker_broker_t *broker = fake_worker_broker_new ();
    runner_t *runner = s_runner_start (broker, 1, 1);
    s_register (broker, runner, 1000);
    char error[256];
    fake_worker_broker_request (broker, 1, NULL, 0, "big:2000000");
    s_expect_reply (broker, 1, 500, "", error, sizeof error);
    CHECK (strstr (error, "max_message"), "error '%s'", error);
    fake_worker_broker_request (broker, 2, NULL, 0, "big:1000");
    hearth_frames_t f;
    REQUIRE (s_expect (broker, HEARTH_WORKER_REPLY, &f), "no reply");
    CHECK (hearth_frames_size (&f, 6) == 1000, "body of %zu bytes",
           hearth_frames_size (&f, 6));
    hearth_frames_close (&f);
    s_runner_finish (&runner, HEARTH_OK);
    fake_worker_broker_destroy (&broker);
}

/*  hearth.h: stop waits for a running handler only until its deadline;
    run then returns and destroy waits for the handler to come back.       */
static void
test_stop_stuck_handler (void)
{
    fake_worker_broker_t *broker = fake_worker_broker_new ();
    runner_t *runner = s_runner_start (broker, 1, 1);
    s_register (broker, runner, 1000);
    hearth_meta_writer_t writer;
    hearth_meta_writer_init (&writer);
    hearth_meta_put_uint (&writer, HEARTH_META_DEADLINE, 300);
    size_t size;
    void *meta = hearth_meta_writer_to_buffer (&writer, &size);
    fake_worker_broker_request (broker, 1, meta, size, "gate");
    free (meta);
    hearth_meta_writer_destroy (&writer);
    int64_t until = hearth_clock_ms () + WAIT_MS;
    while (atomic_load (&runner->state.running) == 0 && hearth_clock_ms () < until)
        s_sleep_ms (1);
    CHECK (atomic_load (&runner->state.running) == 1, "handler did not start");
    int64_t start = hearth_clock_ms ();
    hearth_worker_stop (runner->worker);
    until = start + WAIT_MS;
    while (!atomic_load (&runner->done) && hearth_clock_ms () < until)
        s_sleep_ms (2);
    CHECK (atomic_load (&runner->done), "run waited past the deadline");
    int64_t took = hearth_clock_ms () - start;
    CHECK (took < 2500, "run took %lld ms for a 300 ms deadline", (long long) took);
    CHECK (atomic_load (&runner->state.running) == 1, "handler was interrupted");
    atomic_store (&runner->state.gate, true);   /* destroy waits for it */
    s_runner_finish (&runner, HEARTH_OK);
    fake_worker_broker_destroy (&broker);
}

int
main (int argc, char **argv)
{
    static const struct { const char *name; void (*fn) (void); } cases[] = {
        { "new_checks", test_new_checks }, { "ready", test_ready },
        { "requests", test_requests }, { "pipelining", test_pipelining },
        { "heartbeat_busy", test_heartbeat_busy }, { "rejected", test_rejected },
        { "silent_broker", test_silent_broker }, { "disconnect", test_disconnect },
        { "malformed", test_malformed }, { "stop", test_stop },
        { "deadline_queued", test_deadline_queued },
        { "stop_unconnected", test_stop_unconnected },
        { "stop_unregistered", test_stop_unregistered },
        { "stop_registered_late", test_stop_registered_late },
        { "bad_endpoint", test_bad_endpoint },
        { "reply_too_large", test_reply_too_large },
        { "stop_stuck_handler", test_stop_stuck_handler },
        { "stop_in_handler", test_stop_in_handler },
        { "inline_refused", test_inline_refused },
    };
    /*  inline_CASE: CASE again with the handler run inline (cases with
        concurrency and credit 1 only).                                      */
    if (argc >= 2 && strncmp (argv[1], "inline_", 7) == 0
    &&  strcmp (argv[1], "inline_refused") != 0) {
        s_inline = true;
        argv[1] += 7;
    }
    if (getenv ("HEARTH_LOG") == NULL)
        setenv ("HEARTH_LOG", "warn", 1);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (argc < 2 || strcmp (argv[1], cases[i].name) == 0) {
            hearth_test_run (cases[i].name, cases[i].fn);
            if (argc >= 2)
                return HEARTH_TEST_RESULT;
        }
    if (argc >= 2) {
        fprintf (stderr, "unknown case %s\n", argv[1]);
        return 2;
    }
    return HEARTH_TEST_RESULT;
}
