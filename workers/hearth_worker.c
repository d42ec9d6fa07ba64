/*  hearth_worker - an HMP/1 worker: public API in include/hearth/hearth.h.

    The caller of hearth_worker_run becomes the I/O thread: it waits on the
    broker socket and keeps time (heartbeats, broker expiry, reconnects),
    so heartbeats go out however long handlers run. Jobs go to
    `concurrency` handler threads through a guarded FIFO (hearth_jobq).

    The broker socket and the state around it are guarded by `lock` (a
    mutex is the full memory barrier ZeroMQ asks for when a socket changes
    threads). A handler that finishes a job takes the lock, sends the reply
    itself and reads what the broker sent meanwhile, so under load a request
    costs no wake-up of the I/O thread: with credit above concurrency the
    handler feeds itself. The I/O thread sleeps in poll() on the socket's
    ZMQ_FD without the lock. ZMQ_FD is edge-triggered, and any send may
    consume its signal, so whoever sends also reads until EAGAIN before
    letting go of the lock. A pipe wakes the I/O thread for stop and for
    what only it acts on (a refusal, a lost connection, a drained job while
    stopping).

    Inline mode (concurrency and credit 1, opt-in): the I/O thread runs the
    handler itself, which saves the hand-off to a handler thread and back.
    While it is inside the handler, a watchdog thread that otherwise sleeps
    takes the lock at each heartbeat time to send HEARTBEAT and read what
    came. With credit 1 no request can be waiting unread meanwhile, so
    every deadline is still measured from the request's arrival.
*/
#include "hearth/hearth.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "hearth_clock.h"
#include "hearth_job.h"
#include "hearth_jobq.h"
#include "hearth_log.h"
#include "hearth_meta.h"
#include "hearth_wire.h"

/*  hearth_worker_stop runs in signal handlers: its store must not lock.   */
_Static_assert (ATOMIC_BOOL_LOCK_FREE == 2, "atomic_bool must be lock-free");

#define S_BACKOFF_MIN_MS    100
#define S_BACKOFF_MAX_MS    5000
#define S_STOP_CHECK_MS     100     /* slack past the last deadline on stop  */
#define S_WAIT_MAX_MS       1000    /* longest sleep: a safety net, since
                                       stop and handlers wake us by the pipe */
#define S_STOP_GRACE_MS     5000    /* longest wait for handlers on stop     */
#define S_FLUSH_LINGER_MS   1000    /* to flush DISCONNECT and last replies  */
#define S_DRAIN_MAX         256     /* messages read per lock hold, so the
                                       other threads get the lock          */

struct _hearth_worker_t {
    char *endpoint;
    char *service;
    int concurrency;
    int credit;
    void *descriptor;           /* encoded msgpack map, sent in READY       */
    size_t descriptor_size;
    hearth_handler_fn *handler;
    void *arg;
    atomic_bool stop;           /* lock-free: safe from a signal handler    */
    atomic_bool registered;
    atomic_bool running;
    int wake[2];                /* pipe: [1] written to wake the I/O thread */

    /*  Guarded by lock while running (the I/O thread alone between runs).  */
    pthread_mutex_t lock;
    pthread_cond_t gone;        /* a handler thread ended                   */
    pthread_cond_t watch;       /* wakes the watchdog (monotonic clock)     */
    bool inline_mode;           /* handler runs on the I/O thread           */
    bool busy;                  /* inline: the I/O thread is in the handler */
    bool watch_quit;            /* the watchdog must end                    */
    int64_t watch_at;           /* when the watchdog wakes next             */
    int threads_alive;          /* handler threads not yet ended            */
    bool stopping;              /* DISCONNECT sent, finishing               */
    bool acknowledged;          /* the broker answered it: nothing more comes */
    int64_t unknown_until;      /* stopping before REGISTERED: when to give
                                   up on the broker's word (-1: it knows us) */
    void *ctx;
    void *broker;               /* DEALER, NULL while waiting to reconnect  */
    int broker_fd;              /* its ZMQ_FD                               */
    pthread_t *threads;
    int threads_started;
    bool stuck;                 /* a run left handlers inside user code     */
    hearth_jobq_t *queue;       /* jobs waiting for a handler               */
    hearth_job_t *jobs;         /* pool of credit + concurrency jobs: the
                                   old connection's running jobs plus a
                                   full credit from the new one             */
    uint32_t *free_jobs;        /* stack of unused job indexes              */
    int free_jobs_count;
    int pool_size;
    int outstanding;            /* jobs queued or at handlers               */
    uint64_t epoch;             /* bumped on every new broker connection    */
    int heartbeat_ms, liveness;
    size_t max_message;
    int64_t heartbeat_at;       /* next HEARTBEAT to send                   */
    int64_t expiry_at;          /* broker presumed dead after this          */
    int64_t reconnect_at;
    int backoff_ms;
    int result;                 /* run's return value once decided, or -1  */
    hearth_meta_writer_t writer;
};

/* ------------------------------------------------------------ creation */

static bool
s_has_prefix (const char *s, const char *prefix)
{
    return strncmp (s, prefix, strlen (prefix)) == 0;
}

static int
s_check_descriptor (const hearth_descriptor_t *d, int *concurrency,
                    int *credit)
{
    if (!d || !d->service)
        return -1;
    size_t len = strlen (d->service);
    if (len == 0 || len > HEARTH_SERVICE_MAX
    ||  s_has_prefix (d->service, HEARTH_MMI_PREFIX)
    ||  s_has_prefix (d->service, HEARTH_INTERNAL_PREFIX))
        return -1;
    *concurrency = d->concurrency ? d->concurrency : 1;
    *credit = d->credit ? d->credit : *concurrency;
    if (*concurrency < 1 || *credit < *concurrency
    ||  *credit > HEARTH_CREDIT_MAX)
        return -1;
    return 0;
}

static void
s_put_optional (hearth_meta_writer_t *writer, const char *key,
                const char *value)
{
    if (value)
        hearth_meta_put_str (writer, key, value);
}

static void *
s_encode_descriptor (const hearth_descriptor_t *d, int concurrency,
                     int credit, size_t *size)
{
    hearth_meta_writer_t writer;
    hearth_meta_writer_init (&writer);
    hearth_meta_put_str (&writer, HEARTH_DESC_SERVICE, d->service);
    s_put_optional (&writer, HEARTH_DESC_VERSION, d->version);
    s_put_optional (&writer, HEARTH_DESC_DESCRIPTION, d->description);
    hearth_meta_put_uint (&writer, HEARTH_DESC_CREDIT, (uint64_t) credit);
    hearth_meta_put_uint (&writer, HEARTH_DESC_CONCURRENCY,
                          (uint64_t) concurrency);
    hearth_meta_put_bool (&writer, HEARTH_DESC_IDEMPOTENT, d->idempotent);
    s_put_optional (&writer, HEARTH_DESC_INPUT_SCHEMA, d->input_schema);
    s_put_optional (&writer, HEARTH_DESC_OUTPUT_SCHEMA, d->output_schema);
    s_put_optional (&writer, HEARTH_DESC_EXAMPLE, d->example);
    void *buffer = hearth_meta_writer_to_buffer (&writer, size);
    hearth_meta_writer_destroy (&writer);
    return buffer;
}

/*  A non-blocking, close-on-exec pipe. Returns 0 or -1.                    */
static int
s_wake_pipe (int fds[2])
{
    if (pipe (fds))
        return -1;
    for (int i = 0; i < 2; i++)
        if (fcntl (fds[i], F_SETFL, O_NONBLOCK)
        ||  fcntl (fds[i], F_SETFD, FD_CLOEXEC))
            return -1;
    return 0;
}

/*  Wakes the I/O thread. Async-signal-safe (hearth_worker_stop).           */
static void
s_wake (hearth_worker_t *self)
{
    /*  A full pipe already holds a wake-up: EAGAIN is fine.                */
    char byte = 1;
    ssize_t rc = write (self->wake[1], &byte, 1);
    (void) rc;
}

hearth_worker_t *
hearth_worker_new (const char *endpoint, const hearth_descriptor_t *descriptor,
                   hearth_handler_fn *handler, void *arg)
{
    int concurrency, credit;
    if (!endpoint || !strstr (endpoint, "://") || !handler
    ||  s_check_descriptor (descriptor, &concurrency, &credit))
        return NULL;
    hearth_worker_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->wake[0] = self->wake[1] = -1;
    pthread_mutex_init (&self->lock, NULL);
    pthread_cond_init (&self->gone, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init (&attr);
    pthread_condattr_setclock (&attr, CLOCK_MONOTONIC);
    pthread_cond_init (&self->watch, &attr);
    pthread_condattr_destroy (&attr);
    self->endpoint = strdup (endpoint);
    self->service = strdup (descriptor->service);
    self->descriptor = s_encode_descriptor (descriptor, concurrency, credit,
                                            &self->descriptor_size);
    if (!self->endpoint || !self->service || !self->descriptor
    ||  s_wake_pipe (self->wake)) {
        hearth_worker_destroy (&self);
        return NULL;
    }
    self->concurrency = concurrency;
    self->credit = credit;
    self->handler = handler;
    self->arg = arg;
    atomic_init (&self->stop, false);
    atomic_init (&self->registered, false);
    atomic_init (&self->running, false);
    return self;
}

/*  Frees the per-run pools. Only once every handler thread is gone.        */
static void
s_pools_free (hearth_worker_t *self)
{
    for (int i = 0; self->jobs && i < self->pool_size; i++)
        hearth_job_release (&self->jobs[i]);
    free (self->jobs);
    free (self->free_jobs);
    free (self->threads);
    hearth_jobq_destroy (&self->queue);
    self->jobs = NULL;
    self->free_jobs = NULL;
    self->threads = NULL;
}

/*  Ends the run's context and frees its pools. No handler thread left.    */
static void
s_cleanup (hearth_worker_t *self)
{
    if (self->ctx) {
        zmq_ctx_term (self->ctx);
        self->ctx = NULL;
    }
    s_pools_free (self);
}

void
hearth_worker_destroy (hearth_worker_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    hearth_worker_t *self = *self_p;
    /*  A run that gave up waiting on stuck handlers left them detached,
        using the pools: wait until they have returned from user code.     */
    pthread_mutex_lock (&self->lock);
    while (self->threads_alive > 0)
        pthread_cond_wait (&self->gone, &self->lock);
    pthread_mutex_unlock (&self->lock);
    s_cleanup (self);
    for (int i = 0; i < 2; i++)
        if (self->wake[i] >= 0)
            close (self->wake[i]);
    pthread_cond_destroy (&self->gone);
    pthread_cond_destroy (&self->watch);
    pthread_mutex_destroy (&self->lock);
    free (self->endpoint);
    free (self->service);
    free (self->descriptor);
    free (self);
    *self_p = NULL;
}

void
hearth_worker_stop (hearth_worker_t *self)
{
    if (self) {
        atomic_store (&self->stop, true);
        s_wake (self);
    }
}

int
hearth_worker_set_inline (hearth_worker_t *self, bool on)
{
    if (!self || (on && (self->concurrency != 1 || self->credit != 1))
    ||  atomic_load (&self->running))
        return HEARTH_EINVAL;
    self->inline_mode = on;
    return HEARTH_OK;
}

bool
hearth_worker_registered (hearth_worker_t *self)
{
    return self && atomic_load (&self->registered);
}

/* ------------------------------------------------------- broker socket */

/*  Sends READY (with service and descriptor), HEARTBEAT or DISCONNECT.   */
static int
s_send_command (hearth_worker_t *self, int command)
{
    char cmd = (char) command;
    hearth_part_t parts[] = {
        HEARTH_PART_EMPTY,
        HEARTH_PART_STR (HEARTH_WORKER_HEADER),
        HEARTH_PART_BYTES (&cmd, 1),
        HEARTH_PART_BYTES (self->service, strlen (self->service)),
        HEARTH_PART_BYTES (self->descriptor, self->descriptor_size),
    };
    int count = command == HEARTH_WORKER_READY ? HEARTH_WORKER_READY_FRAMES : 3;
    int rc = hearth_wire_send (self->broker, parts, count);
    if (rc)
        hearth_log_debug ("send of command %d to broker failed: %s",
                          command, zmq_strerror (errno));
    return rc;
}

/*  Opens a fresh DEALER and sends READY. A fresh socket, not a reconnect of
    the old one, so nothing queued for a dead broker reaches a new one.    */
static int
s_connect (hearth_worker_t *self, int64_t now)
{
    self->broker = zmq_socket (self->ctx, ZMQ_DEALER);
    int linger = 0;
    int hwm = self->credit * 2 + 1000;
    if (!self->broker
    ||  zmq_setsockopt (self->broker, ZMQ_LINGER, &linger, sizeof linger)
    ||  zmq_setsockopt (self->broker, ZMQ_SNDHWM, &hwm, sizeof hwm)
    ||  zmq_setsockopt (self->broker, ZMQ_RCVHWM, &hwm, sizeof hwm)
    ||  zmq_connect (self->broker, self->endpoint)) {
        int saved = errno;
        hearth_log_error ("cannot connect to %s: %s", self->endpoint,
                          zmq_strerror (saved));
        if (self->broker)
            zmq_close (self->broker);
        self->broker = NULL;
        errno = saved;
        return -1;
    }
    size_t fd_size = sizeof self->broker_fd;
    zmq_getsockopt (self->broker, ZMQ_FD, &self->broker_fd, &fd_size);
    self->epoch++;
    self->heartbeat_ms = HEARTH_DEFAULT_HEARTBEAT_MS;
    self->liveness = HEARTH_DEFAULT_LIVENESS;
    self->max_message = HEARTH_DEFAULT_MAX_MESSAGE;
    self->heartbeat_at = now + self->heartbeat_ms;
    self->expiry_at = now + (int64_t) self->heartbeat_ms * self->liveness;
    hearth_log_debug ("connecting to %s", self->endpoint);
    s_send_command (self, HEARTH_WORKER_READY);
    return 0;
}

/*  Jobs not yet started belong to the connection that sent them: the next
    broker does not know their ids, so running them would be wasted work.  */
static void
s_drop_queued (hearth_worker_t *self)
{
    uint32_t index;
    while (hearth_jobq_take (self->queue, &index) == 0) {
        hearth_job_release (&self->jobs[index]);
        self->free_jobs[self->free_jobs_count++] = index;
        self->outstanding--;
    }
}

static void
s_disconnect (hearth_worker_t *self, int64_t now, const char *why)
{
    if (self->broker) {
        zmq_close (self->broker);
        self->broker = NULL;
    }
    atomic_store (&self->registered, false);
    s_drop_queued (self);
    if (self->backoff_ms < S_BACKOFF_MIN_MS)
        self->backoff_ms = S_BACKOFF_MIN_MS;
    hearth_log_warn ("broker %s %s; reconnecting in %d ms", self->endpoint,
                     why, self->backoff_ms);
    self->reconnect_at = now + self->backoff_ms;
    self->backoff_ms *= 2;
    if (self->backoff_ms > S_BACKOFF_MAX_MS)
        self->backoff_ms = S_BACKOFF_MAX_MS;
}

/* ---------------------------------------------------- broker messages */

static void
s_log_bad (const char *why, hearth_frames_t *frames)
{
    char sample[160] = "";
    if (frames->count > 0)
        hearth_log_sample (hearth_frames_data (frames, frames->count > 2 ? 2 : 0),
                           hearth_frames_size (frames,
                                               frames->count > 2 ? 2 : 0),
                           sample, sizeof sample);
    hearth_log_warn ("dropped malformed message from broker (%s, %d frames): "
                     "%s", why, frames->count, sample);
}

/*  Copies a string entry into out (NUL-terminated, truncated).             */
static void
s_meta_text (const void *data, size_t size, const char *key, char *out,
             size_t out_size)
{
    hearth_meta_entry_t entry;
    const char *str;
    size_t len;
    out[0] = 0;
    if (hearth_meta_find (data, size, key, &entry) == 1
    &&  hearth_meta_value_str (&entry, &str, &len) == 0)
        hearth_log_sample (str, len, out, out_size);
}

static int
s_setting (const void *data, size_t size, const char *key, uint64_t min,
           uint64_t max, uint64_t fallback)
{
    hearth_meta_entry_t entry;
    uint64_t value;
    if (hearth_meta_find (data, size, key, &entry) == 1
    &&  hearth_meta_value_uint (&entry, &value) == 0
    &&  value >= min && value <= max)
        return (int) value;
    return (int) fallback;
}

static void
s_handle_registered (hearth_worker_t *self, hearth_frames_t *frames,
                     int64_t now)
{
    if (frames->count != HEARTH_WORKER_REGISTERED_FRAMES) {
        s_log_bad ("REGISTERED frame count", frames);
        return;
    }
    int status = hearth_wire_status_decode (hearth_frames_data (frames, 3),
                                            hearth_frames_size (frames, 3));
    const void *settings = hearth_frames_data (frames, 4);
    size_t size = hearth_frames_size (frames, 4);
    if (status < 0 || hearth_meta_validate (settings, size)) {
        s_log_bad ("REGISTERED status or settings", frames);
        return;
    }
    if (status != HEARTH_STATUS_OK) {
        char error[256];
        s_meta_text (settings, size, HEARTH_META_ERROR, error, sizeof error);
        hearth_log_error ("broker refused service %s: %d %s", self->service,
                          status, error[0] ? error : hearth_status_text (status));
        self->result = HEARTH_EREJECTED;
        return;
    }
    self->heartbeat_ms = s_setting (settings, size, HEARTH_SET_HEARTBEAT, 10,
                                    3600000, HEARTH_DEFAULT_HEARTBEAT_MS);
    self->liveness = s_setting (settings, size, HEARTH_SET_LIVENESS, 1, 1000,
                                HEARTH_DEFAULT_LIVENESS);
    self->max_message = (size_t) s_setting (settings, size,
                                            HEARTH_SET_MAX_MESSAGE, 1024,
                                            INT32_MAX,
                                            HEARTH_DEFAULT_MAX_MESSAGE);
    self->heartbeat_at = now + self->heartbeat_ms;
    self->expiry_at = now + (int64_t) self->heartbeat_ms * self->liveness;
    self->backoff_ms = S_BACKOFF_MIN_MS;
    char worker_id[128];
    s_meta_text (settings, size, HEARTH_SET_WORKER_ID, worker_id,
                 sizeof worker_id);
    atomic_store (&self->registered, true);
    /*  Even while stopping: it knows us now, so its acknowledgement of our
        DISCONNECT will come, and requests it sent first come before it.   */
    self->unknown_until = -1;
    hearth_log_info ("registered service %s as %s (heartbeat %d ms, "
                     "liveness %d)", self->service,
                     worker_id[0] ? worker_id : "?", self->heartbeat_ms,
                     self->liveness);
}

static void
s_handle_request (hearth_worker_t *self, hearth_frames_t *frames, int64_t now)
{
    if (frames->count != HEARTH_WORKER_REQUEST_FRAMES
    ||  hearth_frames_size (frames, 3) == 0
    ||  hearth_frames_size (frames, 3) > HEARTH_REQUEST_ID_MAX
    ||  hearth_frames_size (frames, 4) > HEARTH_META_MAX) {
        s_log_bad ("REQUEST frames", frames);
        return;
    }
    if (self->free_jobs_count == 0) {
        /*  Only a broker that ignores our credit gets here.                */
        s_log_bad ("REQUEST beyond credit", frames);
        return;
    }
    uint32_t index = self->free_jobs[self->free_jobs_count - 1];
    if (hearth_job_accept (&self->jobs[index], &frames->frame[3],
                           &frames->frame[4], &frames->frame[5], now,
                           self->epoch)) {
        s_log_bad ("REQUEST metadata", frames);
        return;
    }
    self->free_jobs_count--;
    self->outstanding++;
    /*  Cannot fail: the queue holds the whole pool.                        */
    hearth_jobq_push (self->queue, index);
}

static void
s_handle_broker_message (hearth_worker_t *self, hearth_frames_t *frames,
                         int64_t now)
{
    if (frames->truncated || frames->count < 3
    ||  hearth_frames_size (frames, 0) != 0
    ||  !hearth_frames_is (frames, 1, HEARTH_WORKER_HEADER)) {
        s_log_bad ("not HEARTHW1", frames);
        return;
    }
    /*  Any well-framed message shows the broker is alive.                  */
    self->expiry_at = now + (int64_t) self->heartbeat_ms * self->liveness;
    switch (hearth_frames_command (frames, 2)) {
        case HEARTH_WORKER_REQUEST:
            s_handle_request (self, frames, now);
            break;
        case HEARTH_WORKER_REGISTERED:
            s_handle_registered (self, frames, now);
            break;
        case HEARTH_WORKER_HEARTBEAT:
            break;
        case HEARTH_WORKER_DISCONNECT: {
            char reason[160] = "";
            if (frames->count > 3)
                hearth_log_sample (hearth_frames_data (frames, 3),
                                   hearth_frames_size (frames, 3), reason,
                                   sizeof reason);
            if (self->stopping) {
                /*  Its answer to ours: it routes nothing more to us.       */
                self->acknowledged = true;
                break;
            }
            hearth_log_info ("broker sent DISCONNECT%s%s",
                             reason[0] ? ": " : "", reason);
            s_disconnect (self, now, "disconnected us");
            break;
        }
        default:
            s_log_bad ("unknown command", frames);
    }
}

/*  Handles what the broker sent, without waiting. Returns how many.      */
static int
s_read_broker (hearth_worker_t *self, int64_t now)
{
    hearth_frames_t frames;
    int count = 0;
    while (count < S_DRAIN_MAX && self->broker && self->result < 0) {
        if (hearth_frames_recv (&frames, self->broker, ZMQ_DONTWAIT))
            break;
        s_handle_broker_message (self, &frames, now);
        hearth_frames_close (&frames);
        count++;
    }
    return count;
}

/* ------------------------------------------------------ handler threads */

static int64_t
s_min (int64_t a, int64_t b)
{
    return a < b ? a : b;
}

static void s_begin_drain (hearth_worker_t *self);
static int64_t s_round (hearth_worker_t *self, int *fd);

/*  Sends a finished job's reply and frees its slot. With the lock held.   */
static void
s_job_done (hearth_worker_t *self, uint32_t index)
{
    hearth_job_t *job = &self->jobs[index];
    /*  A stop asked for (perhaps by this very handler) goes out before the
        reply: the reply frees credit, and the broker must not spend it on
        us once we are leaving.                                              */
    if (atomic_load (&self->stop) && !self->stopping)
        s_begin_drain (self);
    if (!self->broker || job->epoch != self->epoch)
        hearth_log_debug ("dropping a result for a previous broker "
                          "connection");
    else
    if (hearth_job_reply (job, self->broker, &self->writer,
                          self->max_message))
        hearth_log_warn ("could not send a reply to the broker: %s",
                         zmq_strerror (errno));
    hearth_job_release (job);
    self->free_jobs[self->free_jobs_count++] = index;
    self->outstanding--;
}

static void *
s_handler_main (void *arg)
{
    hearth_worker_t *self = arg;
    uint32_t index;
    while (hearth_jobq_pop (self->queue, &index) == 0) {
        hearth_job_run (&self->jobs[index], self->handler, self->arg);
        pthread_mutex_lock (&self->lock);
        s_job_done (self, index);
        /*  The send may have consumed ZMQ_FD's signal for a message that
            arrived meanwhile: read it now (the I/O thread would not wake). */
        s_read_broker (self, hearth_clock_ms ());
        if (self->stopping || self->result >= 0 || !self->broker)
            s_wake (self);
        pthread_mutex_unlock (&self->lock);
    }
    pthread_mutex_lock (&self->lock);
    self->threads_alive--;
    pthread_cond_broadcast (&self->gone);
    pthread_mutex_unlock (&self->lock);
    return NULL;
}

/*  Inline mode: runs the jobs waiting in the queue on this (the I/O)
    thread, with the lock held except inside the handler.                   */
static void
s_run_queued (hearth_worker_t *self)
{
    uint32_t index;
    while (self->inline_mode && hearth_jobq_take (self->queue, &index) == 0) {
        self->busy = true;
        /*  The watchdog may sleep past what is due now (the broker's
            REGISTERED shortened the heartbeat, a reconnect): wake it.      */
        if (self->broker
        &&  self->watch_at > s_min (self->heartbeat_at, self->expiry_at))
            pthread_cond_signal (&self->watch);
        pthread_mutex_unlock (&self->lock);
        hearth_job_run (&self->jobs[index], self->handler, self->arg);
        pthread_mutex_lock (&self->lock);
        self->busy = false;
        s_job_done (self, index);
        s_read_broker (self, hearth_clock_ms ());
    }
}

/*  Inline mode: while the I/O thread is inside the handler, does its
    rounds for it (heartbeats, broker expiry and reconnects, reading what
    comes; requests wait in the queue for the handler to return). Otherwise
    it sleeps, waking about once a heartbeat.                                */
static void *
s_watchdog_main (void *arg)
{
    hearth_worker_t *self = arg;
    pthread_mutex_lock (&self->lock);
    while (!self->watch_quit) {
        int64_t now = hearth_clock_ms ();
        int fd;
        int64_t sleep_ms = self->busy ? s_round (self, &fd)
                         : self->broker ? self->heartbeat_at - now
                         : S_WAIT_MAX_MS;
        if (sleep_ms <= 0)      /* the I/O thread is about to act           */
            sleep_ms = self->heartbeat_ms / 4 + 1;
        int64_t at = now + sleep_ms;
        self->watch_at = at;
        struct timespec ts = { (time_t) (at / 1000),
                               (long) (at % 1000) * 1000000L };
        pthread_cond_timedwait (&self->watch, &self->lock, &ts);
    }
    self->threads_alive--;
    pthread_cond_broadcast (&self->gone);
    pthread_mutex_unlock (&self->lock);
    return NULL;
}

/*  Pools and threads for one run. Returns 0 or -1.                         */
static int
s_start (hearth_worker_t *self)
{
    self->pool_size = self->credit + self->concurrency;
    self->jobs = calloc ((size_t) self->pool_size, sizeof *self->jobs);
    self->free_jobs = calloc ((size_t) self->pool_size, sizeof (uint32_t));
    self->threads = calloc ((size_t) self->concurrency, sizeof (pthread_t));
    self->queue = hearth_jobq_new (self->pool_size);
    self->ctx = zmq_ctx_new ();
    if (!self->jobs || !self->free_jobs || !self->threads || !self->queue
    ||  !self->ctx)
        return -1;
    for (int i = 0; i < self->pool_size; i++)
        self->free_jobs[i] = (uint32_t) (self->pool_size - 1 - i);
    self->free_jobs_count = self->pool_size;
    self->outstanding = 0;
    self->threads_started = 0;
    self->watch_quit = false;
    self->busy = false;
    for (int i = 0; i < self->concurrency; i++) {
        pthread_mutex_lock (&self->lock);
        self->threads_alive++;
        pthread_mutex_unlock (&self->lock);
        if (pthread_create (&self->threads[i], NULL, self->inline_mode
                            ? s_watchdog_main : s_handler_main, self)) {
            pthread_mutex_lock (&self->lock);
            self->threads_alive--;
            pthread_mutex_unlock (&self->lock);
            return -1;
        }
        self->threads_started++;
    }
    return 0;
}

/*  Ends every handler thread and frees the run's resources. Handlers still
    inside user code after the stop grace are detached and left with the
    pools and queue, which the next run or hearth_worker_destroy frees once
    they have returned.                                                      */
static void
s_finish (hearth_worker_t *self)
{
    if (self->queue)
        hearth_jobq_close (self->queue);
    pthread_mutex_lock (&self->lock);
    if (self->inline_mode) {
        /*  Nothing runs outside this thread: what is still queued (past
            the stop grace) is dropped, and the watchdog told to end.       */
        if (self->queue)
            s_drop_queued (self);
        self->watch_quit = true;
        pthread_cond_signal (&self->watch);
    }
    bool stuck = self->outstanding > 0;
    pthread_mutex_unlock (&self->lock);
    for (int i = 0; i < self->threads_started; i++) {
        if (stuck)
            pthread_detach (self->threads[i]);
        else
            pthread_join (self->threads[i], NULL);
    }
    self->threads_started = 0;
    if (stuck) {
        hearth_log_warn ("%d handler(s) still running after stop; their "
                         "replies are abandoned", self->outstanding);
        self->stuck = true;
        return;
    }
    s_cleanup (self);
}

/* ------------------------------------------------------------ run loop */

static void
s_timers (hearth_worker_t *self, int64_t now)
{
    if (!self->broker) {
        /*  A malformed endpoint will not get better by retrying.          */
        if (now >= self->reconnect_at && s_connect (self, now))
            self->result = errno == EINVAL || errno == EPROTONOSUPPORT
                         ? HEARTH_EINVAL : HEARTH_ESYS;
        return;
    }
    if (now >= self->expiry_at) {
        s_disconnect (self, now, "silent");
        return;
    }
    if (now >= self->heartbeat_at) {
        s_send_command (self, HEARTH_WORKER_HEARTBEAT);
        self->heartbeat_at = now + self->heartbeat_ms;
    }
}

/*  Sleeps until the broker socket or the wake pipe has something, or for
    timeout_ms (at most S_WAIT_MAX_MS). Without the lock.                   */
static void
s_wait (hearth_worker_t *self, int broker_fd, int64_t timeout_ms)
{
    struct pollfd fds[] = {
        { self->wake[0], POLLIN, 0 },
        { broker_fd, POLLIN, 0 },
    };
    if (timeout_ms > S_WAIT_MAX_MS)
        timeout_ms = S_WAIT_MAX_MS;
    if (timeout_ms < 0)
        timeout_ms = 0;
    if (poll (fds, broker_fd >= 0 ? 2 : 1, (int) timeout_ms) > 0
    &&  (fds[0].revents & POLLIN)) {
        char drain[64];
        while (read (self->wake[0], drain, sizeof drain) > 0)
            ;
    }
}

/*  One round of the I/O thread, with the lock held: timers, then whatever
    the broker sent. Returns how long it may sleep, and sets *fd to the
    socket to wait on (-1 while disconnected).                              */
static int64_t
s_round (hearth_worker_t *self, int *fd)
{
    int64_t now = hearth_clock_ms ();
    s_timers (self, now);
    /*  Read after the timers: a HEARTBEAT sent may consume ZMQ_FD's signal. */
    bool more = s_read_broker (self, now) == S_DRAIN_MAX;
    *fd = self->broker ? self->broker_fd : -1;
    if (more)
        return 0;
    int64_t wake_at = self->broker ? s_min (self->heartbeat_at, self->expiry_at)
                                   : self->reconnect_at;
    return wake_at - now;
}

static void
s_serve (hearth_worker_t *self)
{
    while (true) {
        int fd = -1;
        int64_t timeout = 0;
        pthread_mutex_lock (&self->lock);
        bool done = self->result >= 0 || atomic_load (&self->stop);
        if (!done) {
            timeout = s_round (self, &fd);
            if (self->inline_mode && self->outstanding > 0) {
                s_run_queued (self);
                timeout = 0;    /* a round first: timers, what came        */
            }
        }
        done = done || self->result >= 0;
        pthread_mutex_unlock (&self->lock);
        if (done)
            break;
        s_wait (self, fd, timeout);
    }
}

/*  Says goodbye: DISCONNECT, after which the broker routes nothing new to
    us and waits for what we hold (PROTOCOL.md 4.5). With the lock held.   */
static void
s_begin_drain (hearth_worker_t *self)
{
    self->stopping = true;
    self->acknowledged = false;
    /*  A broker that has not registered us on this connection has routed
        nothing to us unless its REGISTERED is on the way, which a live one
        sends within a heartbeat; one that is gone (it disconnected us as
        it shut down, and we reconnected to nothing) never answers. So we
        wait a heartbeat for its word, not the whole stop grace.           */
    self->unknown_until = atomic_load (&self->registered) ? -1
                        : hearth_clock_ms () + self->heartbeat_ms;
    if (self->broker)
        s_send_command (self, HEARTH_WORKER_DISCONNECT);
    atomic_store (&self->registered, false);
}

/*  The time by which held jobs must be finished on stop: their latest
    deadline, within S_STOP_GRACE_MS. With the lock held.                   */
static int64_t
s_drain_until (hearth_worker_t *self, int64_t now)
{
    int64_t until = now + S_STOP_GRACE_MS;
    int64_t latest = -1;
    for (int i = 0; i < self->pool_size; i++)
        if (self->jobs[i].held) {
            int64_t at = self->jobs[i].request.deadline_at;
            latest = at < 0 ? until : at > latest ? at : latest;
        }
    return latest >= 0 ? s_min (until, latest + S_STOP_CHECK_MS) : until;
}

/*  On stop: tell the broker (it then sends nothing new and waits for what
    we hold, PROTOCOL.md 4.5), then finish every held job, queued ones too,
    until their deadlines (at most S_STOP_GRACE_MS) and send the replies,
    and wait for the broker's acknowledging DISCONNECT.                      */
static void
s_drain (hearth_worker_t *self)
{
    pthread_mutex_lock (&self->lock);
    int64_t now = hearth_clock_ms ();
    if (!self->stopping)
        s_begin_drain (self);
    int64_t until = s_drain_until (self, now);
    /*  Until the broker acknowledges, a request it sent before reading our
        DISCONNECT may still arrive: it is ours to serve.                    */
    while (true) {
        /*  Keep the broker from declaring us dead while we finish.         */
        if (self->broker && now >= self->heartbeat_at) {
            s_send_command (self, HEARTH_WORKER_HEARTBEAT);
            self->heartbeat_at = now + self->heartbeat_ms;
        }
        s_read_broker (self, now);
        s_run_queued (self);
        bool unknown = self->unknown_until >= 0;
        bool answered = !self->broker || self->acknowledged
                     || (unknown && now >= self->unknown_until);
        if ((self->outstanding == 0 && answered) || now >= until)
            break;
        int fd = self->broker ? self->broker_fd : -1;
        /*  Past unknown_until only the jobs still out keep us: wait for
            them, not for an answer whose time is over (that would spin).   */
        int64_t wake = unknown && now < self->unknown_until
                     ? s_min (until, self->unknown_until) : until;
        pthread_mutex_unlock (&self->lock);
        s_wait (self, fd, wake - now);
        pthread_mutex_lock (&self->lock);
        now = hearth_clock_ms ();
    }
    if (self->broker) {
        /*  Linger briefly so DISCONNECT and the last replies reach it; a
            broker that never answered, holding nothing of ours, is gone
            and nothing would leave.                                        */
        bool silent = self->unknown_until >= 0 && !self->acknowledged
                   && self->outstanding == 0;
        int linger = silent ? 0 : S_FLUSH_LINGER_MS;
        zmq_setsockopt (self->broker, ZMQ_LINGER, &linger, sizeof linger);
        zmq_close (self->broker);
        self->broker = NULL;
    }
    pthread_mutex_unlock (&self->lock);
}

int
hearth_worker_run (hearth_worker_t *self)
{
    if (!self || atomic_exchange (&self->running, true))
        return HEARTH_EINVAL;
    if (self->stuck) {
        /*  A previous run left handlers in user code: usable once they
            have all returned.                                               */
        pthread_mutex_lock (&self->lock);
        bool alive = self->threads_alive > 0;
        pthread_mutex_unlock (&self->lock);
        if (alive) {
            atomic_store (&self->running, false);
            return HEARTH_EINVAL;
        }
        s_cleanup (self);
        self->stuck = false;
    }
    self->result = -1;
    self->stopping = false;
    self->backoff_ms = S_BACKOFF_MIN_MS;
    self->reconnect_at = 0;
    self->broker = NULL;
    hearth_meta_writer_init (&self->writer);
    if (s_start (self))
        self->result = HEARTH_ESYS;
    else {
        s_serve (self);
        if (self->result < 0)
            s_drain (self);
        else {
            pthread_mutex_lock (&self->lock);
            if (self->broker) {
                zmq_close (self->broker);
                self->broker = NULL;
            }
            pthread_mutex_unlock (&self->lock);
        }
    }
    atomic_store (&self->registered, false);
    s_finish (self);
    hearth_meta_writer_destroy (&self->writer);
    int result = self->result < 0 ? HEARTH_OK : self->result;
    atomic_store (&self->stop, false);
    atomic_store (&self->running, false);
    return result;
}
