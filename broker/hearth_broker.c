/*  hearth_broker - the broker object and its event loop.

    The loop is deliberately small: wait for a message or the next timer,
    hand each message to the handler of its protocol (hb_native.c,
    hb_mdp.c), then run what is due (hb_timer.c). Every handler works on
    one message and never blocks: sends are non-blocking, and a peer that
    cannot take a message is treated as gone (EHOSTUNREACH) or rested
    (EAGAIN, hb_worker.h), never waited for.
*/
#include "hb_broker.h"

#include <errno.h>
#include <poll.h>
#include <sys/random.h>
#include <unistd.h>
#include <string.h>

/*  Messages handled per wake-up before timers get a turn, so a flood of
    requests cannot starve deadlines and heartbeats.                         */
#define S_BATCH 256

void
hearth_broker_config_defaults (hearth_broker_config_t *config)
{
    hearth_settings_defaults (hearth_broker_settings, config);
}

const char *
hearth_broker_config_check (const hearth_broker_config_t *config)
{
    return hearth_broker_settings_check (config);
}

static void
s_service_free (void **item_p)
{
    hb_service_destroy ((hb_service_t **) item_p);
}

static int
s_router_setup (hearth_broker_t *self)
{
    /*  What peers send us is read at once, so the receive side keeps the
        default bound of the send side.                                      */
    int on = 1, rcvhwm = HEARTH_DEFAULT_SEND_HWM, linger = 0;
    /*  Refuse frames far beyond the limit at the transport, so a hostile
        peer cannot make us buffer gigabytes; between the limit and this
        guard we still read the message and answer 413.                      */
    int64_t guard = (int64_t) self->config.max_message * 2;
    if (zmq_setsockopt (self->router, ZMQ_ROUTER_MANDATORY, &on, sizeof on)
    ||  zmq_setsockopt (self->router, ZMQ_SNDHWM, &self->config.send_hwm,
                        sizeof self->config.send_hwm)
    ||  zmq_setsockopt (self->router, ZMQ_RCVHWM, &rcvhwm, sizeof rcvhwm)
    ||  zmq_setsockopt (self->router, ZMQ_LINGER, &linger, sizeof linger)
    ||  zmq_setsockopt (self->router, ZMQ_MAXMSGSIZE, &guard, sizeof guard))
        return -1;
    return 0;
}

/*  libzmq names each anonymous ROUTER peer 0x00 and a 32-bit counter that
    starts at rand (), and asserts (aborting the broker) when that name is
    one a peer already chose for itself. Unseeded, rand () starts the same
    in every process, so an attacker could claim the coming names; seeded
    from the kernel before the socket exists, the start is unguessable.
    The same seed starts the broker's own random numbers.                   */
static uint64_t
s_seed (void)
{
    uint64_t seed = 0;
    if (getrandom (&seed, sizeof seed, 0) != (ssize_t) sizeof seed)
        seed = (uint64_t) hearth_clock_ms () ^ ((uint64_t) getpid () << 32)
             ^ (uint64_t) (uintptr_t) &seed;
    srand ((unsigned) (seed ^ (seed >> 32)));
    return seed | 1;            /* xorshift needs a non-zero state          */
}

uint64_t
hb_broker_random (hearth_broker_t *self)
{
    uint64_t x = self->random;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    self->random = x;
    return x * 0x2545F4914F6CDD1DULL;
}

hearth_broker_t *
hearth_broker_new (const hearth_broker_config_t *config)
{
    const char *invalid = hearth_broker_config_check (config);
    if (invalid) {
        hearth_log_error ("invalid broker config: %s", invalid);
        return NULL;
    }
    hearth_broker_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->config = *config;
    self->random = s_seed ();
    self->context = zmq_ctx_new ();
    self->router = self->context ? zmq_socket (self->context, ZMQ_ROUTER) : NULL;
    self->workers = hb_worker_table_new ();
    self->services = zhashx_new ();
    self->idle = zlistx_new ();
    self->pipelines = zhashx_new ();
    self->jobs = hb_jobs_new ();
    self->merge = self->context ? hb_merge_new (self->context) : NULL;
    self->merge_fd = self->merge ? hb_merge_fd (self->merge) : -1;
    hearth_meta_writer_init (&self->writer);
    if (!self->router || !self->workers || !self->services || !self->idle
    ||  !self->jobs || !self->pipelines || self->merge_fd < 0
    ||  s_router_setup (self)) {
        hearth_broker_destroy (&self);
        return NULL;
    }
    zhashx_set_destructor (self->services, s_service_free);
    zhashx_set_destructor (self->pipelines, (zhashx_destructor_fn *) zstr_free);
    zhashx_set_duplicator (self->pipelines, (zhashx_duplicator_fn *) strdup);
    self->now = hearth_clock_ms ();
    self->next_tick = self->now + self->config.heartbeat_ms;
    return self;
}

static void
s_worker_free (hearth_broker_t *self)
{
    hb_worker_t *worker = zhashx_first (self->workers);
    while (worker) {
        hb_worker_destroy (&worker);
        worker = zhashx_next (self->workers);
    }
    zhashx_destroy (&self->workers);
}

void
hearth_broker_destroy (hearth_broker_t **self_p)
{
    hearth_broker_t *self = *self_p;
    if (!self)
        return;
    if (self->workers)
        s_worker_free (self);
    zlistx_destroy (&self->idle);        /* not owned: before the services */
    zhashx_destroy (&self->services);
    zhashx_destroy (&self->pipelines);
    hb_jobs_destroy (&self->jobs);
    hearth_meta_writer_destroy (&self->writer);
    hb_merge_destroy (&self->merge);
    if (self->router)
        zmq_close (self->router);
    if (self->context)
        zmq_ctx_term (self->context);
    free (self);
    *self_p = NULL;
}

int
hearth_broker_bind (hearth_broker_t *self, const char *endpoint, char *resolved,
                    size_t size)
{
    if (zmq_bind (self->router, endpoint))
        return -1;
    if (resolved && size) {
        size_t length = size;
        if (zmq_getsockopt (self->router, ZMQ_LAST_ENDPOINT, resolved, &length))
            snprintf (resolved, size, "%s", endpoint);
    }
    return 0;
}

int
hearth_broker_add_pipeline (hearth_broker_t *self, const char *name,
                            const char *route, char *error, size_t size)
{
    hearth_route_expr_t spec;
    char reason[300];
    const char *invalid = hearth_route_expr_name_check (name);
    int parsed = invalid ? -1 : hearth_route_expr_parse (route, &spec, reason, sizeof reason);
    if (!invalid)
        hearth_route_expr_free (&spec);
    if (invalid)
        snprintf (error, size, "pipeline name '%s' %s", name, invalid);
    else
    if (parsed)
        snprintf (error, size, "pipeline '%s': %s", name, reason);
    else
    if (zhashx_insert (self->pipelines, name, (void *) route))
        snprintf (error, size, "pipeline '%s' is defined twice", name);
    else
        return 0;
    return -1;
}

void
hearth_broker_stop (hearth_broker_t *self)
{
    self->stop_requested = 1;
}

void
hearth_broker_stats (hearth_broker_t *self, hearth_broker_stats_t *stats)
{
    *stats = self->stats;
}

void
hb_drop (hearth_broker_t *self, hearth_frames_t *msg, int frame,
         const char *why)
{
    self->stats.dropped++;
    char sample[160] = "(none)";
    if (frame >= 0 && frame < msg->count)
        hearth_log_sample (hearth_frames_data (msg, frame),
                           hearth_frames_size (msg, frame), sample, sizeof sample);
    hearth_log_limited (&self->drop_log, HEARTH_LOG_WARN,
                        "dropped message of %zu frame%s%s: %s; frame %d: %s",
                        msg->frames, msg->frames == 1 ? "" : "s",
                        msg->truncated ? " (only the first read)" : "", why,
                        frame - 1, sample);
}

int
hb_send (hearth_broker_t *self, hearth_part_t *parts, int count)
{
    int rc = hearth_wire_send (self->router, parts, count);
    self->sends++;
    if (rc && errno != EHOSTUNREACH && errno != EAGAIN)
        hearth_log_error ("send failed: %s", zmq_strerror (errno));
    return rc;
}

/*  Hands one message to the handler of its protocol, by its header frame. */
static void
s_demux (hearth_broker_t *self, hearth_frames_t *msg)
{
    if (msg->count < 3)
        hb_drop (self, msg, msg->count - 1, "too few frames");
    else
    if (hearth_frames_size (msg, HB_FRAME (0)) != 0)
        hb_drop (self, msg, HB_FRAME (0), "no empty delimiter frame");
    else
    if (hearth_frames_is (msg, HB_FRAME (1), HEARTH_CLIENT_HEADER))
        hb_native_client (self, msg);
    else
    if (hearth_frames_is (msg, HB_FRAME (1), HEARTH_WORKER_HEADER))
        hb_native_worker (self, msg);
    else
    if (hearth_frames_is (msg, HB_FRAME (1), HEARTH_MDPC_HEADER))
        hb_mdp_client (self, msg);
    else
    if (hearth_frames_is (msg, HB_FRAME (1), HEARTH_MDPW_HEADER))
        hb_mdp_worker (self, msg);
    else
        hb_drop (self, msg, HB_FRAME (1), "unknown protocol header");
}

/*  Reads up to S_BATCH messages without blocking. Returns 0 once the socket
    said EAGAIN, 1 if more may be waiting, -1 on a fatal error.             */
static int
s_read_batch (hearth_broker_t *self)
{
    hearth_frames_t msg;
    /*  Frames of a message already over max_message are never needed to
        refuse it; the margin keeps the frames before a body (ids, names,
        metadata) so a message over only by its body is still answered 413.  */
    size_t keep = self->config.max_message + HEARTH_META_MAX + 1024;
    for (int i = 0; i < S_BATCH; i++) {
        if (hearth_frames_recv_bounded (&msg, self->router, ZMQ_DONTWAIT, keep)) {
            if (errno == EAGAIN) {
                self->sends = 0;
                return 0;
            }
            if (errno == EINTR)
                return 1;
            hearth_log_error ("receive failed: %s", zmq_strerror (errno));
            self->sends = 0;    /* sleep next round: a retry would spin     */
            return errno == ETERM || errno == ENOTSOCK ? -1 : 0;
        }
        self->now = hearth_clock_ms ();
        s_demux (self, &msg);
        hearth_frames_close (&msg);
    }
    return 1;
}

/*  Sleeps until the ROUTER or the merge pipe may have input, or for
    timeout_ms. A plain poll on their ZMQ_FDs: zmq_poll would add two
    system calls per round. ZMQ_FD is edge-triggered and a send may consume
    its signal, so the caller sleeps only after reads that ended at EAGAIN
    with no send since (the merge pipe is read after every batch).          */
static int
s_sleep (hearth_broker_t *self, int timeout_ms)
{
    struct pollfd items[] = {
        { self->router_fd, POLLIN, 0 }, { self->merge_fd, POLLIN, 0 }
    };
    if (poll (items, 2, timeout_ms) < 0 && errno != EINTR) {
        hearth_log_error ("poll failed: %s", strerror (errno));
        return -1;
    }
    return 0;
}

static void
s_fail_for_shutdown (hb_job_t *job, void *arg)
{
    hearth_broker_t *self = arg;
    if (job->sink == HB_SINK_PIPELINE)
        job->pipeline = NULL;   /* freed with its parent, below or before  */
    else {
        hb_reply_answer (self, job, HEARTH_STATUS_UNAVAILABLE,
                         "broker shutting down", NULL, NULL, NULL);
        hb_pipeline_discard (&job->pipeline);
    }
}

/*  Answers every job left with 503 and disconnects all workers.            */
static void
s_shutdown (hearth_broker_t *self)
{
    size_t left = hb_jobs_count (self->jobs);
    hb_jobs_each (self->jobs, s_fail_for_shutdown, self);
    hb_worker_t *worker = zhashx_first (self->workers);
    for (; worker; worker = zhashx_next (self->workers))
        hb_worker_send_disconnect (self, &worker->identity, worker->proto);
    hearth_log_info ("stopped: %zu request%s left at shutdown (native "
                     "clients got 503)", left, left == 1 ? "" : "s");
}

static void
s_begin_drain (hearth_broker_t *self)
{
    self->draining = true;
    self->drain_until = self->now + self->config.grace_ms;
    hearth_log_info ("stopping: draining %zu request%s for up to %d ms",
                     self->open_jobs, self->open_jobs == 1 ? "" : "s",
                     self->config.grace_ms);
}

int
hearth_broker_run (hearth_broker_t *self)
{
    size_t fd_size = sizeof self->router_fd;
    if (zmq_getsockopt (self->router, ZMQ_FD, &self->router_fd, &fd_size)) {
        hearth_log_error ("cannot get the socket's fd: %s",
                          zmq_strerror (errno));
        return -1;
    }
    int more = 1;               /* read before the first sleep              */
    while (true) {
        self->now = hearth_clock_ms ();
        if (self->stop_requested && !self->draining)
            s_begin_drain (self);
        if (self->draining
        && (self->open_jobs == 0 || self->now >= self->drain_until))
            break;
        if (!more && self->sends == 0
        &&  s_sleep (self, hb_timer_wait_ms (self, hearth_clock_ms ())))
            return -1;
        more = s_read_batch (self);
        if (more < 0)
            return -1;
        self->now = hearth_clock_ms ();
        hb_pipeline_collect (self);
        hb_timer_expire (self);
        if (self->now >= self->next_tick)
            hb_timer_tick (self);
    }
    s_shutdown (self);
    return 0;
}
