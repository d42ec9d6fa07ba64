/*  bench_raw - raw libzmq echo baseline. See bench_raw.h. */
#include "bench_raw.h"
#include "bench_proc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "hearth_clock.h"
#include "hearth_wire.h"

/*  Queues as deep as the broker's, so neither side drops or stalls at a
    high-water mark the other does not have.                                 */
#define S_HWM 100000

/*  Echoes whatever is waiting, without blocking: identity and body frames
    go straight back, moved rather than copied.                               */
static int
s_echo_waiting (void *router)
{
    hearth_frames_t frames;
    while (hearth_frames_recv (&frames, router, ZMQ_DONTWAIT) == 0) {
        hearth_part_t parts[HEARTH_FRAMES_MAX];
        for (int i = 0; i < frames.count; i++)
            parts[i] = HEARTH_PART_MSG (&frames.frame[i]);
        /*  A peer that went away (EHOSTUNREACH) is not the server's
            problem: its echo is dropped.                                     */
        hearth_wire_send (router, parts, frames.count);
        hearth_frames_close (&frames);
    }
    return errno == EAGAIN ? 0 : -1;
}

int
bench_raw_serve (void *arg, int ready_fd)
{
    void *ctx = zmq_ctx_new ();
    void *router = zmq_socket (ctx, ZMQ_ROUTER);
    int hwm = S_HWM, linger = 0;
    char endpoint[256];
    size_t size = sizeof endpoint;
    zmq_setsockopt (router, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt (router, ZMQ_RCVHWM, &hwm, sizeof hwm);
    zmq_setsockopt (router, ZMQ_LINGER, &linger, sizeof linger);
    int rc = 1;
    if (zmq_bind (router, "tcp://127.0.0.1:*") == 0
    &&  zmq_getsockopt (router, ZMQ_LAST_ENDPOINT, endpoint, &size) == 0
    &&  bench_proc_ready (ready_fd, endpoint) == 0) {
        rc = 0;
        zmq_pollitem_t item = { router, 0, ZMQ_POLLIN, 0 };
        /*  SIGTERM is looked for when idle, or every 1024 busy turns: a
            syscall per echo would slow the baseline it is meant to be.      */
        for (unsigned turn = 0; ; turn++) {
            int ready = zmq_poll (&item, 1, 100);
            if ((ready <= 0 || turn % 1024 == 0) && bench_proc_stopping (0))
                break;
            if (ready > 0 && s_echo_waiting (router)) {
                rc = 1;
                break;
            }
        }
    }
    zmq_close (router);
    zmq_ctx_term (ctx);
    return rc;
}

/*  Receives every echo already waiting; counts it in *done after checking
    it equals body. Returns 0, or -1 on a wrong echo or socket error.       */
static int
s_collect (void *dealer, const uint8_t *body, size_t size, int *done)
{
    while (true) {
        zmq_msg_t msg;
        zmq_msg_init (&msg);
        if (zmq_msg_recv (&msg, dealer, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close (&msg);
            return errno == EAGAIN ? 0 : -1;
        }
        bool intact = zmq_msg_size (&msg) == size && !zmq_msg_more (&msg)
                   && memcmp (zmq_msg_data (&msg), body, size) == 0;
        zmq_msg_close (&msg);
        if (!intact) {
            fprintf (stderr, "hearth-bench: raw echo came back damaged\n");
            return -1;
        }
        (*done)++;
    }
}

/*  The send/receive loop; returns 0 when count echoes are in, else -1.     */
static int
s_pump (void *dealer, const uint8_t *body, size_t size, int count,
        int window, int64_t deadline)
{
    int sent = 0, done = 0;
    zmq_pollitem_t item = { dealer, 0, ZMQ_POLLIN, 0 };
    while (done < count) {
        while (sent < count && sent - done < window) {
            if (zmq_send (dealer, body, size, ZMQ_DONTWAIT) < 0) {
                if (errno == EAGAIN)
                    break;      /* at the high-water mark: drain first */
                return -1;
            }
            sent++;
        }
        int64_t left = deadline - hearth_clock_ms ();
        if (left <= 0) {
            fprintf (stderr, "hearth-bench: raw phase aborted after %d ms "
                     "(%d of %d echoes)\n", BENCH_PHASE_LIMIT_MS, done, count);
            return -1;
        }
        if (zmq_poll (&item, 1, left < 1000 ? (long) left : 1000) < 0
        ||  s_collect (dealer, body, size, &done))
            return -1;
    }
    return 0;
}

int
bench_raw_run (const bench_config_t *config, const char *endpoint, int count,
               int window, bench_figure_t *figure)
{
    void *ctx = zmq_ctx_new ();
    void *dealer = zmq_socket (ctx, ZMQ_DEALER);
    uint8_t *body = malloc (config->size ? config->size : 1);
    int hwm = S_HWM, linger = 0, rc = -1;
    zmq_setsockopt (dealer, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt (dealer, ZMQ_RCVHWM, &hwm, sizeof hwm);
    zmq_setsockopt (dealer, ZMQ_LINGER, &linger, sizeof linger);
    if (body && zmq_connect (dealer, endpoint) == 0) {
        bench_body_fill (body, config->size);
        int64_t deadline = hearth_clock_ms () + BENCH_PHASE_LIMIT_MS;
        /*  The warm-up also waits out the TCP connect, which is not what
            is being measured.                                                */
        if (s_pump (dealer, body, config->size, config->warmup, 1, deadline)
            == 0) {
            int64_t start = hearth_clock_us ();
            rc = s_pump (dealer, body, config->size, count, window, deadline);
            figure->elapsed_us = hearth_clock_us () - start;
            figure->messages = rc == 0 ? (uint64_t) count : 0;
        }
    }
    free (body);
    zmq_close (dealer);
    zmq_ctx_term (ctx);
    return rc;
}
