/*  bench_mesh - broker and worker children, hearth clients. See
    bench_mesh.h.
*/
#include "bench_mesh.h"
#include "bench_proc.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hearth/hearth.h"
#include "hearth_broker.h"
#include "hearth_clock.h"

/*  Queued requests the broker accepts per service: more than any window,
    so the benchmark measures throughput, not 503s.                          */
#define S_QUEUE_MAX 100000

/* ---------------------------------------------------------------- broker */

static void *
s_broker_thread (void *broker)
{
    hearth_broker_run (broker);
    return NULL;
}

int
bench_mesh_broker (void *arg, int ready_fd)
{
    hearth_broker_config_t config;
    hearth_broker_config_defaults (&config);
    config.queue_max = S_QUEUE_MAX;
    config.grace_ms = 200;      /* nothing is left to drain at the end */
    hearth_broker_t *broker = hearth_broker_new (&config);
    char endpoint[256];
    if (!broker
    ||  hearth_broker_bind (broker, "tcp://127.0.0.1:*", endpoint,
                            sizeof endpoint)
    ||  bench_proc_ready (ready_fd, endpoint)) {
        hearth_broker_destroy (&broker);
        return 1;
    }
    /*  run() on a thread, so this one can wait for SIGTERM with the signal
        blocked everywhere (bench_proc) rather than in a handler.             */
    pthread_t thread;
    if (pthread_create (&thread, NULL, s_broker_thread, broker)) {
        hearth_broker_destroy (&broker);
        return 1;
    }
    while (!bench_proc_stopping (1000))
        ;
    hearth_broker_stop (broker);
    pthread_join (thread, NULL);
    hearth_broker_destroy (&broker);
    return 0;
}

/* ---------------------------------------------------------------- worker */

static int
s_echo (const hearth_request_t *request, hearth_response_t *response,
        void *arg)
{
    size_t size;
    const void *body = hearth_request_body (request, &size);
    if (hearth_response_set_body (response, body, size))
        return HEARTH_STATUS_WORKER_ERROR;
    return HEARTH_STATUS_OK;
}

typedef struct {
    hearth_worker_t *worker;
    atomic_bool done;           /* run() returned: refused or failed       */
} s_worker_run_t;

static void *
s_worker_thread (void *arg)
{
    s_worker_run_t *run = arg;
    hearth_worker_run (run->worker);
    atomic_store (&run->done, true);
    return NULL;
}

int
bench_mesh_worker (void *arg, int ready_fd)
{
    const bench_worker_args_t *args = arg;
    hearth_descriptor_t descriptor = {
        .service = args->service,
        .version = HEARTH_VERSION_STRING,
        .description = "hearth-bench echo",
        .concurrency = 1,
        .credit = args->credit,
    };
    s_worker_run_t run = { .worker = hearth_worker_new (args->endpoint,
                                                        &descriptor, s_echo,
                                                        NULL) };
    atomic_init (&run.done, false);
    if (run.worker && args->inline_handler
    &&  hearth_worker_set_inline (run.worker, true))
        hearth_worker_destroy (&run.worker);
    pthread_t thread;
    if (!run.worker || pthread_create (&thread, NULL, s_worker_thread, &run)) {
        hearth_worker_destroy (&run.worker);
        return 1;
    }
    /*  Ready once the broker has answered REGISTERED 200; the parent
        bounds how long that may take.                                        */
    bool ready = false;
    int rc = 0;
    while (!bench_proc_stopping (ready ? 1000 : 5)) {
        if (atomic_load (&run.done)) {
            rc = 1;
            break;
        }
        if (!ready && hearth_worker_registered (run.worker)) {
            if (bench_proc_ready (ready_fd, "registered"))
                break;
            ready = true;
        }
    }
    hearth_worker_stop (run.worker);
    pthread_join (thread, NULL);
    hearth_worker_destroy (&run.worker);
    return rc;
}

/* ---------------------------------------------------------------- client */

/*  True if reply is a 200 whose body is the request's; says why if not.   */
static bool
s_reply_ok (const hearth_reply_t *reply, const uint8_t *body, size_t size)
{
    size_t got;
    const void *data = hearth_reply_body (reply, &got);
    if (hearth_reply_status (reply) != HEARTH_STATUS_OK) {
        const char *error = hearth_reply_error (reply);
        fprintf (stderr, "hearth-bench: reply %d %s\n",
                 hearth_reply_status (reply), error ? error : "");
        return false;
    }
    if (got != size || memcmp (data, body, size) != 0) {
        fprintf (stderr, "hearth-bench: echo came back damaged\n");
        return false;
    }
    return true;
}

/*  count synchronous calls; returns 0, or -1 on a failed call, a damaged
    echo or when deadline (ms) passes.                                        */
static int
s_calls (hearth_client_t *client, const char *service, const uint8_t *body,
         size_t size, int count, int64_t deadline)
{
    for (int i = 0; i < count; i++) {
        int64_t left = deadline - hearth_clock_ms ();
        if (left <= 0) {
            fprintf (stderr, "hearth-bench: phase aborted after %d ms "
                     "(%d of %d calls)\n", BENCH_PHASE_LIMIT_MS, i, count);
            return -1;
        }
        hearth_reply_t *reply = NULL;
        int rc = hearth_client_call (client, service, body, size, (int) left,
                                     0, &reply);
        bool ok = reply && s_reply_ok (reply, body, size);
        if (rc != HEARTH_OK && !reply)
            fprintf (stderr, "hearth-bench: call failed: %s\n",
                     hearth_strerror (rc));
        hearth_reply_destroy (&reply);
        if (rc != HEARTH_OK || !ok)
            return -1;
    }
    return 0;
}

/*  Keeps up to window requests in flight until count replies are in.      */
static int
s_pump (hearth_client_t *client, const char *service, const uint8_t *body,
        size_t size, int count, int window, int64_t deadline)
{
    int sent = 0, done = 0;
    while (done < count) {
        int64_t left = deadline - hearth_clock_ms ();
        if (left <= 0) {
            fprintf (stderr, "hearth-bench: phase aborted after %d ms "
                     "(%d of %d replies)\n", BENCH_PHASE_LIMIT_MS, done, count);
            return -1;
        }
        for (; sent < count && sent - done < window; sent++) {
            uint64_t id;
            int rc = hearth_client_send (client, service, body, size,
                                         (int) left, 0, &id);
            if (rc != HEARTH_OK) {
                fprintf (stderr, "hearth-bench: send failed: %s\n",
                         hearth_strerror (rc));
                return -1;
            }
        }
        hearth_reply_t *reply = NULL;
        int rc = hearth_client_recv (client, left < 1000 ? (int) left : 1000,
                                     &reply);
        if (rc == HEARTH_ETIMEOUT)
            continue;
        bool ok = rc == HEARTH_OK && s_reply_ok (reply, body, size);
        hearth_reply_destroy (&reply);
        if (!ok)
            return -1;
        done++;
    }
    return 0;
}

/*  The common frame of both phases: a client, a body, a warm-up of
    synchronous calls (which also waits out the connect), then the timed
    part: window 0 means synchronous calls.                                   */
static int
s_phase (const bench_config_t *config, const char *endpoint,
         const char *service, int count, int window, bench_figure_t *figure)
{
    hearth_client_t *client = hearth_client_new (endpoint);
    uint8_t *body = malloc (config->size ? config->size : 1);
    int rc = -1;
    if (client && body) {
        hearth_client_set_name (client, "hearth-bench", HEARTH_VERSION_STRING);
        hearth_client_set_connect_timeout (client, BENCH_READY_LIMIT_MS);
        bench_body_fill (body, config->size);
        int64_t deadline = hearth_clock_ms () + BENCH_PHASE_LIMIT_MS;
        if (s_calls (client, service, body, config->size, config->warmup,
                     deadline) == 0) {
            int64_t start = hearth_clock_us ();
            rc = window ? s_pump (client, service, body, config->size, count,
                                  window, deadline)
                        : s_calls (client, service, body, config->size, count,
                                   deadline);
            figure->elapsed_us = hearth_clock_us () - start;
            figure->messages = rc == 0 ? (uint64_t) count : 0;
        }
    }
    free (body);
    hearth_client_destroy (&client);
    return rc;
}

int
bench_mesh_sync (const bench_config_t *config, const char *endpoint,
                 const char *service, int count, bench_figure_t *figure)
{
    return s_phase (config, endpoint, service, count, 0, figure);
}

int
bench_mesh_pipelined (const bench_config_t *config, const char *endpoint,
                      const char *service, int count, int window,
                      bench_figure_t *figure)
{
    return s_phase (config, endpoint, service, count, window, figure);
}
