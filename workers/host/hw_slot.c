/*  hw_slot - a child process and the worker that serves it.

    Threads: the supervisor (this module's s_supervise) owns the child's
    life; the worker thread runs hearth_worker_run in inline mode, so the
    same thread talks to the child (concurrency 1), and the library's
    watchdog keeps heartbeats going meanwhile. child_lock says who may touch the
    child: the handler for a whole request, the supervisor to watch it idle
    (trylock, so it never waits behind a request) and to swap it.
*/
#define _GNU_SOURCE
#include "hw_slot.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "hearth/hearth.h"
#include "hearth_clock.h"
#include "hearth_log.h"
#include "hearth_meta.h"
#include "hearth_restart.h"
#include "hw_child.h"

#define S_WATCH_MS        100     /* idle child check and stop latency      */
#define S_COLLECT_MS      500     /* after a death: exit status and stderr  */
#define S_DRAIN_MS        4000    /* in-flight requests on stop, within the
                                     worker library's own 5 s grace         */
#define S_LATE_MS         3500    /* a request that came in between a death
                                     and our DISCONNECT waits this long for
                                     the new child: the broker keeps it
                                     with us while we drain, and the worker
                                     library drains for at most 5 s        */
#define S_ERROR_MAX       (HW_CHILD_TAIL + 512)

struct _hw_slot_t {
    const hw_options_t *options;
    int index;
    atomic_bool *stop;          /* the host's: everything ends              */
    atomic_bool *failed;        /* the host's: registration refused         */
    atomic_bool abort;          /* in-flight exchanges give up now          */
    hearth_worker_t *worker;
    pthread_t thread;
    bool thread_started;
    pthread_t worker_thread;
    int worker_result;

    pthread_mutex_t child_lock;
    hw_child_t *child;          /* guarded by child_lock                    */
    bool served;                /* guarded by child_lock: child answered    */

    pthread_mutex_t lock;       /* guards dead and worker_done              */
    pthread_cond_t cond;
    bool dead;                  /* the child must be replaced               */
    bool worker_done;           /* hearth_worker_run returned               */

    /*  Supervisor only.                                                    */
    hearth_restart_t *restart;  /* when the next child may start            */
};

/* ------------------------------------------------------------- helpers */

static bool
s_stopping (hw_slot_t *self)
{
    return atomic_load (self->stop);
}

/*  Waits on the slot's condition, lock held, for at most S_WATCH_MS.      */
static void
s_wait_watch (hw_slot_t *self)
{
    struct timespec ts;
    clock_gettime (CLOCK_REALTIME, &ts);
    ts.tv_nsec += S_WATCH_MS * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait (&self->cond, &self->lock, &ts);
}

static void
s_nap (int ms)
{
    struct timespec ts = { ms / 1000, (long) (ms % 1000) * 1000000L };
    nanosleep (&ts, NULL);
}

/*  Sets whether the child must be replaced, and wakes whoever waits on it
    (the supervisor for a death, a request for a new child).                */
static void
s_set_dead (hw_slot_t *self, bool dead)
{
    pthread_mutex_lock (&self->lock);
    self->dead = dead;
    pthread_cond_broadcast (&self->cond);
    pthread_mutex_unlock (&self->lock);
}

static bool
s_is_dead (hw_slot_t *self)
{
    pthread_mutex_lock (&self->lock);
    bool dead = self->dead;
    pthread_mutex_unlock (&self->lock);
    return dead;
}

/*  The request's budget: --timeout, or less if the caller's deadline is
    nearer (its answer would be thrown away after that anyway).             */
static int64_t
s_deadline (hw_slot_t *self, const hearth_request_t *request, int *budget_ms)
{
    int64_t budget = self->options->timeout_ms;
    int64_t remaining = hearth_request_remaining_ms (request);
    if (remaining >= 0 && remaining < budget)
        budget = remaining;
    *budget_ms = (int) budget;
    return hearth_clock_ms () + budget;
}

static bool
s_idempotent (hw_slot_t *self, const hearth_request_t *request)
{
    if (self->options->idempotent)
        return true;
    size_t size;
    const void *meta = hearth_request_meta (request, &size);
    hearth_meta_entry_t entry;
    bool value = false;
    return hearth_meta_find (meta, size, HEARTH_META_IDEMPOTENT, &entry) == 1
        && hearth_meta_value_bool (&entry, &value) == 0 && value;
}

static int
s_fail (hearth_response_t *response, int status, const char *error)
{
    hearth_response_set_error (response, error);
    return status;
}

/*  Waits, without the child lock, until a new child is installed (dead
    cleared) or until until_ms. True if one is there.                      */
static bool
s_wait_new_child (hw_slot_t *self, int64_t until_ms)
{
    pthread_mutex_lock (&self->lock);
    while (self->dead && !s_stopping (self) && hearth_clock_ms () < until_ms) {
        struct timespec ts;
        clock_gettime (CLOCK_REALTIME, &ts);
        ts.tv_nsec += 20 * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait (&self->cond, &self->lock, &ts);
    }
    bool ready = !self->dead;
    pthread_mutex_unlock (&self->lock);
    return ready;
}

static hw_child_t *s_child_spawn_ready (hw_slot_t *self, int64_t deadline_at);
static void s_child_install (hw_slot_t *self, hw_child_t *child);

/* ----------------------------------------------------- warm children */

/*  Describes why a request failed on a warm child, and tells it to go.
    Returns the status for the caller.                                      */
static int
s_warm_failure (hw_slot_t *self, hw_child_t *child, hw_child_result_t rc,
                int budget_ms, char *error, size_t size)
{
    char tail[HW_CHILD_TAIL + 1], how[96];
    int pid = (int) hw_child_pid (child);
    const char *service = self->options->service;
    if (rc == HW_CHILD_DIED) {
        hw_child_collect (child, S_COLLECT_MS);
        snprintf (error, size, "%s: child pid %d %s during the request; "
                  "stderr: %s", service, pid,
                  hw_child_describe (child, how, sizeof how),
                  hw_child_tail (child, tail, sizeof tail));
        return HEARTH_STATUS_WORKER_LOST;
    }
    /*  A first request with not one byte back is the classic symptom of a
        program whose stdout is block-buffered on a pipe.                   */
    bool silent = !self->served && hw_child_buffered (child) == 0;
    hw_child_terminate (child);
    if (rc == HW_CHILD_TIMEOUT) {
        snprintf (error, size, "%s: no reply from child pid %d within %d ms; "
                  "it was killed and a fresh one is starting%s", service, pid,
                  budget_ms, silent ? ". It wrote nothing on stdout: does "
                  "it flush stdout after each reply (C: fflush(stdout), or "
                  "run it under 'stdbuf -oL'; Python: print(..., "
                  "flush=True))? A program that reads all of stdin before "
                  "answering needs --per-request" : "");
        return HEARTH_STATUS_TIMEOUT;
    }
    if (rc == HW_CHILD_GARBAGE) {
        /*  Show what it wrote: often a progress or log line printed on
            stdout, which belongs on stderr.                                */
        char sample[81];
        snprintf (error, size, "%s: child pid %d wrote garbage on stdout (an "
                  "empty line, an invalid %s frame or output nobody asked "
                  "for; diagnostics belong on stderr): \"%s\"; stderr: %s",
                  service, pid, hw_framing_name (self->options->framing),
                  hw_child_stdout_sample (child, sample, sizeof sample),
                  hw_child_tail (child, tail, sizeof tail));
        return HEARTH_STATUS_WORKER_ERROR;
    }
    snprintf (error, size, "%s: hearth-worker is shutting down", service);
    return HEARTH_STATUS_UNAVAILABLE;
}

/*  Called with the child lock held, after the child died with an
    idempotent request: replaces the child at once (no backoff: one try)
    and runs the request again on it. The broker routes nothing else to us
    meanwhile, since we hold our only credit.                               */
static hw_child_result_t
s_retry_on_new_child (hw_slot_t *self, const void *body, size_t size,
                      int64_t deadline_at, void **reply, size_t *reply_size,
                      hw_child_t **child_p)
{
    hearth_log_info ("%s: idempotent: running the request once more on a "
                     "new child", self->options->service);
    hw_child_t *old = *child_p;
    hw_child_kill (old);
    self->child = NULL;
    hw_child_destroy (&old);
    hw_child_t *child = s_child_spawn_ready (self, deadline_at);
    *child_p = NULL;
    if (!child)
        return HW_CHILD_DIED;
    self->child = child;
    self->served = false;
    *child_p = child;
    return hw_child_exchange (child, self->options->framing, body, size,
                              HEARTH_DEFAULT_MAX_MESSAGE, deadline_at,
                              &self->abort, reply, reply_size);
}

static int
s_handle_warm (hw_slot_t *self, const hearth_request_t *request,
               hearth_response_t *response)
{
    size_t size;
    const void *body = hearth_request_body (request, &size);
    if (hw_framing_check (self->options->framing, body, size))
        return s_fail (response, HEARTH_STATUS_BAD_REQUEST,
                       "the body contains a newline, which line framing "
                       "cannot carry: run hearth-worker with --framing length");
    int budget_ms;
    int64_t entry = hearth_clock_ms ();
    int64_t deadline_at = s_deadline (self, request, &budget_ms);
    pthread_mutex_lock (&self->child_lock);
    if (!self->child || s_is_dead (self)) {
        /*  Came in between a death and our DISCONNECT: the broker keeps it
            with us, so serve it on the new child if that is quick.        */
        pthread_mutex_unlock (&self->child_lock);
        int64_t late = entry + S_LATE_MS;
        if (late < deadline_at)
            deadline_at = late;
        if (!s_wait_new_child (self, deadline_at))
            return s_fail (response, HEARTH_STATUS_UNAVAILABLE,
                           "the child is restarting: try again");
        pthread_mutex_lock (&self->child_lock);
        if (!self->child) {
            pthread_mutex_unlock (&self->child_lock);
            return s_fail (response, HEARTH_STATUS_UNAVAILABLE,
                           "the child is restarting: try again");
        }
    }
    hw_child_t *child = self->child;
    void *reply;
    size_t reply_size;
    hw_child_result_t rc = hw_child_exchange (child, self->options->framing,
                                              body, size,
                                              HEARTH_DEFAULT_MAX_MESSAGE,
                                              deadline_at, &self->abort,
                                              &reply, &reply_size);
    char *error = malloc (S_ERROR_MAX);
    if (rc == HW_CHILD_DIED && error && s_idempotent (self, request)) {
        /*  Log why the first try failed before its child goes.            */
        s_warm_failure (self, child, rc, budget_ms, error, S_ERROR_MAX);
        hearth_log_warn ("%.*s", 400, error);
        rc = s_retry_on_new_child (self, body, size, deadline_at, &reply,
                                   &reply_size, &child);
    }
    if (rc == HW_CHILD_OK) {
        self->served = true;
        pthread_mutex_unlock (&self->child_lock);
        free (error);
        hearth_response_take_body (response, reply, reply_size);
        return HEARTH_STATUS_OK;
    }
    int status = HEARTH_STATUS_WORKER_LOST;
    if (!error) {
        if (child)
            hw_child_terminate (child);
        status = s_fail (response, HEARTH_STATUS_WORKER_ERROR, "out of memory");
    }
    else
    if (!child)
        snprintf (error, S_ERROR_MAX, "%s: the child died with the request "
                  "and its replacement could not start in time",
                  self->options->service);
    else
        status = s_warm_failure (self, child, rc, budget_ms, error,
                                 S_ERROR_MAX);
    pthread_mutex_unlock (&self->child_lock);
    s_set_dead (self, true);
    /*  Stopping from the handler makes the worker send DISCONNECT before
        this reply: the reply frees our only credit, and the broker must
        not spend it on the failed child. The broker keeps a request that
        slipped in before the DISCONNECT with us while we drain, so the new
        child (the supervisor starts it now) serves it.                     */
    hearth_worker_stop (self->worker);
    if (error) {
        hearth_log_warn ("%.*s", 400, error);
        hearth_response_set_error (response, error);
        free (error);
    }
    return status;
}

/* ------------------------------------------------ per-request children */

/*  A program started per request may still print its ready line first
    (the same script serves both modes): it is not part of the answer.      */
static void
s_strip_ready_line (const char *ready_line, char *reply, size_t *size)
{
    size_t len = ready_line ? strlen (ready_line) : 0;
    if (len == 0 || *size < len || memcmp (reply, ready_line, len) != 0)
        return;
    size_t cut = len;
    if (cut < *size && reply[cut] == '\r')
        cut++;
    if (cut < *size && reply[cut] != '\n')
        return;                 /* a longer first line, not the ready line */
    if (cut < *size)
        cut++;
    memmove (reply, reply + cut, *size - cut);
    *size -= cut;
}

static int
s_handle_once (hw_slot_t *self, const hearth_request_t *request,
               hearth_response_t *response)
{
    size_t size;
    const void *body = hearth_request_body (request, &size);
    int budget_ms;
    int64_t deadline_at = s_deadline (self, request, &budget_ms);
    int tries = s_idempotent (self, request) ? 2 : 1;
    char error[S_ERROR_MAX], tail[HW_CHILD_TAIL + 1], how[96];
    const char *service = self->options->service;
    for (int attempt = 1; attempt <= tries; attempt++) {
        hw_child_t *child = hw_child_spawn (self->options->argv, service);
        if (!child)
            return s_fail (response, HEARTH_STATUS_WORKER_LOST,
                           "the command could not be started");
        void *reply;
        size_t reply_size;
        hw_child_result_t rc = hw_child_run_once (child, body, size,
                                                  HEARTH_DEFAULT_MAX_MESSAGE,
                                                  deadline_at, &self->abort,
                                                  &reply, &reply_size);
        int pid = (int) hw_child_pid (child);
        int status = HEARTH_STATUS_OK;
        if (rc == HW_CHILD_OK)
            s_strip_ready_line (self->options->ready_line, reply, &reply_size);
        if (rc == HW_CHILD_OK && reply_size == 0) {
            free (reply);
            snprintf (error, sizeof error, "%s: child pid %d exited 0 "
                      "without output; stderr: %s", service, pid,
                      hw_child_tail (child, tail, sizeof tail));
            status = HEARTH_STATUS_WORKER_ERROR;
        }
        else
        if (rc == HW_CHILD_OK)
            hearth_response_take_body (response, reply, reply_size);
        else
        if (rc == HW_CHILD_DIED) {
            hw_child_collect (child, S_COLLECT_MS);
            snprintf (error, sizeof error, "%s: child pid %d %s; stderr: %s",
                      service, pid, hw_child_describe (child, how, sizeof how),
                      hw_child_tail (child, tail, sizeof tail));
            status = HEARTH_STATUS_WORKER_LOST;
        }
        else
        if (rc == HW_CHILD_TIMEOUT) {
            snprintf (error, sizeof error, "%s: child pid %d gave no answer "
                      "within %d ms and was killed", service, pid, budget_ms);
            status = HEARTH_STATUS_TIMEOUT;
        }
        else
        if (rc == HW_CHILD_GARBAGE) {
            snprintf (error, sizeof error, "%s: child pid %d wrote more than "
                      "%d bytes; stderr: %s", service, pid,
                      HEARTH_DEFAULT_MAX_MESSAGE,
                      hw_child_tail (child, tail, sizeof tail));
            status = HEARTH_STATUS_WORKER_ERROR;
        }
        else {
            snprintf (error, sizeof error, "%s: hearth-worker is shutting "
                      "down", service);
            status = HEARTH_STATUS_UNAVAILABLE;
        }
        hw_child_destroy (&child);      /* kills what is left, reaps        */
        if (status == HEARTH_STATUS_OK)
            return status;
        hearth_log_warn ("%.*s", 400, error);
        if (status != HEARTH_STATUS_WORKER_LOST || attempt == tries)
            return s_fail (response, status, error);
        hearth_log_info ("%s: idempotent: running the request once more",
                         service);
    }
    return s_fail (response, HEARTH_STATUS_WORKER_ERROR, "no attempt made");
}

static int
s_handler (const hearth_request_t *request, hearth_response_t *response,
           void *arg)
{
    hw_slot_t *self = arg;
    return self->options->per_request
         ? s_handle_once (self, request, response)
         : s_handle_warm (self, request, response);
}

/* -------------------------------------------------------- supervision */

static void *
s_worker_main (void *arg)
{
    hw_slot_t *self = arg;
    int rc = hearth_worker_run (self->worker);
    pthread_mutex_lock (&self->lock);
    self->worker_result = rc;
    self->worker_done = true;
    pthread_cond_signal (&self->cond);
    pthread_mutex_unlock (&self->lock);
    return NULL;
}

/*  Starts a child and waits for its ready line, until deadline_at at the
    latest (and --start-timeout). Returns the ready child (caller owns it),
    or NULL if it could not start (logged).                                 */
static hw_child_t *
s_child_spawn_ready (hw_slot_t *self, int64_t deadline_at)
{
    const hw_options_t *options = self->options;
    int64_t started = hearth_clock_ms ();
    hw_child_t *child = hw_child_spawn (options->argv, options->service);
    if (!child || !options->ready_line)
        return child;
    int64_t limit = started + options->start_timeout_ms;
    hw_child_result_t rc = hw_child_wait_ready (
        child, options->ready_line, limit < deadline_at ? limit : deadline_at,
        self->stop);
    char how[96];
    int pid = (int) hw_child_pid (child);
    /*  Name the limit that ran out, not the time it took to notice: a
        loaded machine wakes us a little late.                               */
    if (rc == HW_CHILD_TIMEOUT)
        hearth_log_warn ("[%s pid %d] no ready line \"%s\" within %d ms: "
                         "killing it", options->service, pid,
                         options->ready_line,
                         (int) (limit < deadline_at ? options->start_timeout_ms
                                                    : deadline_at - started));
    else
    if (rc == HW_CHILD_DIED) {
        hw_child_collect (child, S_COLLECT_MS);
        hearth_log_warn ("[%s pid %d] %s before its ready line",
                         options->service, pid,
                         hw_child_describe (child, how, sizeof how));
    }
    if (rc != HW_CHILD_OK) {
        hw_child_destroy (&child);
        return NULL;
    }
    hearth_log_info ("[%s pid %d] ready after %d ms", options->service, pid,
                     (int) (hearth_clock_ms () - started));
    return child;
}

/*  Makes child the slot's child (the child lock must not be held) and
    wakes a request waiting for it.                                         */
static void
s_child_install (hw_slot_t *self, hw_child_t *child)
{
    pthread_mutex_lock (&self->child_lock);
    self->child = child;
    self->served = false;
    pthread_mutex_unlock (&self->child_lock);
    s_set_dead (self, false);
}

/*  Starts and installs a ready child. Returns 0, or -1 if it failed.      */
static int
s_child_start (hw_slot_t *self)
{
    hearth_restart_started (self->restart, hearth_clock_ms ());
    hw_child_t *child = s_child_spawn_ready (self, INT64_MAX);
    if (!child)
        return -1;
    s_child_install (self, child);
    return 0;
}

/*  A child that exits, closes stdout or talks while no request is in hand
    is found here, so it is replaced before a caller meets it.             */
static void
s_watch_idle (hw_slot_t *self)
{
    if (pthread_mutex_trylock (&self->child_lock))
        return;                         /* a request is in hand            */
    hw_child_t *child = self->child;
    bool gone = child && !s_is_dead (self) && !hw_child_check (child);
    if (gone && hw_child_buffered (child) > 0) {
        /*  Most often a banner or a log line printed on stdout.            */
        char sample[81];
        hearth_log_warn ("[%s pid %d] wrote to stdout unasked: \"%s\" "
                         "(stdout carries replies only: diagnostics belong on "
                         "stderr, a start-up banner needs --ready-line); "
                         "replacing it", self->options->service,
                         (int) hw_child_pid (child),
                         hw_child_stdout_sample (child, sample, sizeof sample));
    }
    else
    if (gone) {
        char how[96];
        hw_child_collect (child, S_COLLECT_MS);
        hearth_log_warn ("[%s pid %d] %s while idle: replacing it",
                         self->options->service, (int) hw_child_pid (child),
                         hw_child_describe (child, how, sizeof how));
    }
    /*  Marked dead before the child lock goes, so a request that takes the
        lock next waits for the new child instead of meeting this one.      */
    if (gone)
        s_set_dead (self, true);
    pthread_mutex_unlock (&self->child_lock);
}

/*  Ends the worker's run, which the caller has asked to stop (only once:
    a stop that lands after the run ended would end the next run at once):
    in-flight requests get S_DRAIN_MS, then are aborted (their child is
    killed) so the join is bounded.                                         */
static void
s_worker_end (hw_slot_t *self)
{
    pthread_mutex_lock (&self->lock);
    int64_t until = hearth_clock_ms () + S_DRAIN_MS;
    while (!self->worker_done && hearth_clock_ms () < until) {
        s_wait_watch (self);
    }
    pthread_mutex_unlock (&self->lock);
    atomic_store (&self->abort, true);
    pthread_join (self->worker_thread, NULL);
    atomic_store (&self->abort, false);
    if (self->worker_result != HEARTH_OK) {
        hearth_log_error ("%s: worker ended: %s; hearth-worker stops",
                          self->options->service,
                          hearth_strerror (self->worker_result));
        atomic_store (self->failed, true);
        atomic_store (self->stop, true);
    }
}

/*  Starts the worker's run (it registers at once). Returns 0 or -1.       */
static int
s_worker_start (hw_slot_t *self)
{
    pthread_mutex_lock (&self->lock);
    self->worker_done = false;
    self->worker_result = HEARTH_OK;
    pthread_mutex_unlock (&self->lock);
    if (pthread_create (&self->worker_thread, NULL, s_worker_main, self)) {
        hearth_log_error ("%s: cannot start a worker thread",
                          self->options->service);
        atomic_store (self->failed, true);
        atomic_store (self->stop, true);
        return -1;
    }
    return 0;
}

/*  Watches until the child must go, the host stops, or the worker ends
    on its own (refused registration).                                      */
static void
s_watch (hw_slot_t *self)
{
    pthread_mutex_lock (&self->lock);
    while (!self->dead && !self->worker_done && !s_stopping (self)) {
        s_wait_watch (self);
        if (self->dead || self->worker_done || s_stopping (self))
            break;
        pthread_mutex_unlock (&self->lock);
        if (!self->options->per_request)
            s_watch_idle (self);
        pthread_mutex_lock (&self->lock);
    }
    pthread_mutex_unlock (&self->lock);
}

/*  Kills and reaps the child. One that answered a request was healthy,
    however short its life: its death was the request's doing, not a
    crash.                                                                   */
static void
s_child_end (hw_slot_t *self)
{
    pthread_mutex_lock (&self->child_lock);
    hw_child_t *child = self->child;
    bool served = self->served;
    self->child = NULL;
    pthread_mutex_unlock (&self->child_lock);
    if (child) {
        char how[96];
        hw_child_kill (child);
        hearth_log_info ("[%s pid %d] %s", self->options->service,
                         (int) hw_child_pid (child),
                         hw_child_describe (child, how, sizeof how));
        hw_child_destroy (&child);
    }
    if (served)
        hearth_restart_healthy (self->restart);
}

/*  After a child ended or failed to start: waits as long as the restart
    policy says (a crash loop is logged there), or until the host stops.  */
static void
s_backoff (hw_slot_t *self)
{
    if (s_stopping (self))
        return;
    int64_t until = hearth_clock_ms ()
                  + hearth_restart_died (self->restart, hearth_clock_ms ());
    while (!s_stopping (self) && hearth_clock_ms () < until)
        s_nap (S_WATCH_MS < until - hearth_clock_ms ()
               ? S_WATCH_MS : (int) (until - hearth_clock_ms ()));
}

/*  One turn: serve with the ready child until it must go. Then stop the
    worker (DISCONNECT: nothing new comes) and, while its run drains,
    replace the child, so a request that slipped in before the DISCONNECT
    can still be served by the new one. Returns true if the next child is
    already in place.                                                       */
static bool
s_turn (hw_slot_t *self)
{
    if (s_worker_start (self))
        return false;
    s_watch (self);
    hearth_worker_stop (self->worker);
    bool ready = false;
    if (!s_stopping (self)) {
        s_child_end (self);
        s_backoff (self);
        ready = !s_stopping (self) && s_child_start (self) == 0;
        if (!ready)
            s_child_end (self);         /* counts the failed start         */
    }
    s_worker_end (self);
    if (!ready)
        s_backoff (self);
    return ready;
}

static void *
s_supervise (void *arg)
{
    hw_slot_t *self = arg;
    if (self->options->per_request) {
        if (s_worker_start (self) == 0) {
            s_watch (self);
            hearth_worker_stop (self->worker);
            s_worker_end (self);
        }
        return NULL;
    }
    bool ready = false;
    while (!s_stopping (self)) {
        if (!ready && s_child_start (self)) {
            s_child_end (self);
            s_backoff (self);
            continue;
        }
        ready = s_turn (self);
    }
    s_child_end (self);
    return NULL;
}

/* ---------------------------------------------------------- lifecycle */

hw_slot_t *
hw_slot_new (const hw_options_t *options, int index, atomic_bool *stop,
             atomic_bool *failed)
{
    hw_slot_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->options = options;
    self->index = index;
    self->stop = stop;
    self->failed = failed;
    atomic_init (&self->abort, false);
    pthread_mutex_init (&self->child_lock, NULL);
    pthread_mutex_init (&self->lock, NULL);
    pthread_cond_init (&self->cond, NULL);
    self->restart = hearth_restart_new (options->service);
    if (!self->restart) {
        hw_slot_destroy (&self);
        return NULL;
    }
    hearth_descriptor_t descriptor = {
        .service = options->service,
        .version = options->version,
        .description = options->description,
        .concurrency = 1,
        .credit = 1,
        .idempotent = options->idempotent,
        .input_schema = options->input_schema,
        .output_schema = options->output_schema,
        .example = options->example,
    };
    self->worker = hearth_worker_new (options->endpoint, &descriptor,
                                      s_handler, self);
    /*  One request at a time: the worker's own thread talks to the child,
        one thread wake-up less per request. Our handler always ends: the
        exchange has a deadline and gives up on abort.                       */
    if (!self->worker || hearth_worker_set_inline (self->worker, true)) {
        hw_slot_destroy (&self);
        return NULL;
    }
    return self;
}

int
hw_slot_start (hw_slot_t *self)
{
    if (pthread_create (&self->thread, NULL, s_supervise, self))
        return -1;
    self->thread_started = true;
    return 0;
}

bool
hw_slot_serving (hw_slot_t *self)
{
    return hearth_worker_registered (self->worker);
}

void
hw_slot_destroy (hw_slot_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    hw_slot_t *self = *self_p;
    if (self->thread_started)
        pthread_join (self->thread, NULL);
    hearth_worker_destroy (&self->worker);
    hw_child_destroy (&self->child);
    hearth_restart_destroy (&self->restart);
    pthread_cond_destroy (&self->cond);
    pthread_mutex_destroy (&self->lock);
    pthread_mutex_destroy (&self->child_lock);
    free (self);
    *self_p = NULL;
}
