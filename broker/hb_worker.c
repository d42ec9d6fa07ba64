/*  hb_worker - workers: the object and its states, the identity-keyed
    table, and what the broker does to workers. See hb_worker.h.
*/
#include "hb_broker.h"

#include <errno.h>
#include <inttypes.h>

static size_t
s_identity_hash (const void *key)
{
    /*  FNV-1a: identities are short, and libzmq's generated ones differ
        only in their last bytes, which FNV mixes well.                      */
    const hb_identity_t *identity = key;
    size_t hash = 2166136261u;
    for (int i = 0; i < identity->size; i++)
        hash = (hash ^ identity->bytes[i]) * 16777619u;
    return hash;
}

static int
s_identity_compare (const void *a, const void *b)
{
    const hb_identity_t *x = a, *y = b;
    if (x->size != y->size)
        return x->size < y->size ? -1 : 1;
    return memcmp (x->bytes, y->bytes, x->size);
}

static void *
s_identity_dup (const void *key)
{
    const hb_identity_t *identity = key;
    hb_identity_t *copy = malloc (sizeof *copy);
    if (copy) {
        copy->size = identity->size;
        memcpy (copy->bytes, identity->bytes, identity->size);
    }
    return copy;
}

static void
s_identity_free (void **key_p)
{
    free (*key_p);
    *key_p = NULL;
}

zhashx_t *
hb_worker_table_new (void)
{
    zhashx_t *table = zhashx_new ();
    if (!table)
        return NULL;
    zhashx_set_key_hasher (table, s_identity_hash);
    zhashx_set_key_comparator (table, s_identity_compare);
    zhashx_set_key_duplicator (table, s_identity_dup);
    zhashx_set_key_destructor (table, s_identity_free);
    return table;
}

int
hb_identity_set (hb_identity_t *identity, const void *data, size_t size)
{
    if (size == 0 || size > HB_IDENTITY_MAX)
        return -1;
    identity->size = (uint8_t) size;
    memcpy (identity->bytes, data, size);
    return 0;
}

hb_worker_t *
hb_worker_new (const hb_identity_t *identity, hb_proto_t proto)
{
    hb_worker_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->jobs = zlistx_new ();
    if (!self->jobs) {
        free (self);
        return NULL;
    }
    self->identity = *identity;
    self->proto = proto;
    self->state = HB_WORKER_DETACHED;
    self->credit = 1;
    return self;
}

int
hb_worker_set_descriptor (hb_worker_t *self, const void *data, size_t size)
{
    uint8_t *copy = size ? malloc (size) : NULL;
    if (size && !copy)
        return -1;
    if (size)
        memcpy (copy, data, size);
    free (self->descriptor);
    self->descriptor = copy;
    self->descriptor_size = size;
    return 0;
}

void
hb_worker_destroy (hb_worker_t **self_p)
{
    hb_worker_t *self = *self_p;
    if (!self)
        return;
    zlistx_destroy (&self->jobs);
    free (self->descriptor);
    free (self->version);
    free (self);
    *self_p = NULL;
}

/* ------------------------------------------------------------- states */

const char *
hb_worker_state_name (hb_worker_state_t state)
{
    static const char *const names[] = {
        "detached", "ready", "full", "rested", "draining"
    };
    return state <= HB_WORKER_DRAINING ? names[state] : "?";
}

void
hb_worker_set_state (hb_worker_t *self, hb_worker_state_t state)
{
    if (self->state == state)
        return;
    hb_service_t *service = self->service;
    if (self->state == HB_WORKER_READY) {
        zlistx_delete (service->ready, self->ready_handle);
        self->ready_handle = NULL;
    }
    if (self->state == HB_WORKER_DRAINING)
        service->draining--;
    self->state = state;
    if (state == HB_WORKER_READY) {
        self->ready_handle = zlistx_add_end (service->ready, self);
        /*  Out of memory: leave it resting; its next message retries.    */
        if (!self->ready_handle)
            self->state = HB_WORKER_RESTED;
    }
    if (state == HB_WORKER_DRAINING)
        service->draining++;
}

hb_worker_state_t
hb_worker_credit_state (hb_worker_t *self)
{
    return zlistx_size (self->jobs) < self->credit ? HB_WORKER_READY
                                                   : HB_WORKER_FULL;
}

int
hb_worker_hold (hb_worker_t *self, hb_job_t *job)
{
    assert (self->state == HB_WORKER_READY);
    job->worker_handle = zlistx_add_end (self->jobs, job);
    if (!job->worker_handle)
        return -1;
    job->worker = self;
    self->service->in_flight++;
    if (hb_worker_credit_state (self) == HB_WORKER_FULL)
        hb_worker_set_state (self, HB_WORKER_FULL);
    else
        zlistx_move_end (self->service->ready, self->ready_handle);
    return 0;
}

void
hb_worker_release (hb_worker_t *self, hb_job_t *job)
{
    zlistx_delete (self->jobs, job->worker_handle);
    job->worker_handle = NULL;
    job->worker = NULL;
    self->service->in_flight--;
    if (self->state == HB_WORKER_FULL)
        hb_worker_set_state (self, HB_WORKER_READY);
}

bool
hb_worker_heard (hb_worker_t *self, int64_t now)
{
    self->heard_at = now;
    if (self->state != HB_WORKER_RESTED)
        return false;
    hb_worker_set_state (self, hb_worker_credit_state (self));
    return self->state == HB_WORKER_READY;
}

/* --------------------------------------------------- the broker's side */

int
hb_worker_attach (hearth_broker_t *self, hb_worker_t *worker,
                  hb_service_t *service)
{
    if (zhashx_insert (self->workers, &worker->identity, worker))
        return -1;
    worker->service = service;
    worker->heard_at = self->now;
    worker->registered = ++self->registrations;
    snprintf (worker->id, sizeof worker->id, "%016" PRIx64,
              hb_broker_random (self));
    self->descriptor_bytes += worker->descriptor_size;
    service->offered = true;
    if (worker->idempotent)
        service->idempotent_workers++;
    if (!service->publisher && worker->descriptor)
        service->publisher = worker;
    hb_worker_set_state (worker, HB_WORKER_READY);
    if (service->workers == 0)
        hb_service_set_idle (self, service, false);
    service->workers++;
    service->credit += worker->credit;
    if (worker->proto == HB_PROTO_MDP)
        service->mdp_workers++;
    hearth_log_info ("worker %s registered for '%s' (%s, credit %zu)",
                     worker->id, service->name,
                     worker->proto == HB_PROTO_MDP ? "MDP/0.1" : "HMP/1",
                     worker->credit);
    return 0;
}

hb_worker_t *
hb_worker_lookup (hearth_broker_t *self, hearth_frames_t *msg)
{
    hb_identity_t identity;
    if (hb_identity_set (&identity, hearth_frames_data (msg, HB_IDENTITY),
                         hearth_frames_size (msg, HB_IDENTITY)))
        return NULL;
    return zhashx_lookup (self->workers, &identity);
}

void
hb_worker_send_failed (hearth_broker_t *self, hb_worker_t *worker)
{
    if (errno == EHOSTUNREACH) {
        hb_worker_remove (self, worker, "connection gone", false);
        return;
    }
    /*  Its pipe is full (EAGAIN): rest it rather than spin on it. Any
        message from it, a heartbeat included, makes it ready again.        */
    hearth_log_limited (&self->refusal_log, HEARTH_LOG_WARN,
                        "worker %s of '%s' not accepting requests: %s",
                        worker->id, worker->service->name,
                        zmq_strerror (errno));
    hb_worker_set_state (worker, HB_WORKER_RESTED);
}

void
hb_worker_replied (hearth_broker_t *self, hb_worker_t *worker)
{
    if (worker->state == HB_WORKER_DRAINING && zlistx_size (worker->jobs) == 0)
        /*  Our DISCONNECT back is the acknowledgement: nothing more will
            be routed to it, so it may close (PROTOCOL.md 4.5).             */
        hb_worker_remove (self, worker, "drained after DISCONNECT", true);
    else
        hb_dispatch_service (self, worker->service);
}

void
hb_worker_send_disconnect (hearth_broker_t *self, const hb_identity_t *identity,
                           hb_proto_t proto)
{
    uint8_t command = proto == HB_PROTO_NATIVE ? HEARTH_WORKER_DISCONNECT
                                               : HEARTH_MDPW_DISCONNECT;
    hearth_part_t parts[] = {
        HEARTH_PART_BYTES (identity->bytes, identity->size),
        HEARTH_PART_EMPTY,
        proto == HB_PROTO_NATIVE ? HEARTH_PART_STR (HEARTH_WORKER_HEADER)
                                 : HEARTH_PART_STR (HEARTH_MDPW_HEADER),
        HEARTH_PART_BYTES (&command, 1)
    };
    hb_send (self, parts, 4);
}

/*  A job whose worker died: resent once if that is safe, else 502.         */
static void
s_orphan (hearth_broker_t *self, hb_job_t *job, const char *worker_id,
          const char *reason)
{
    hb_service_t *service = job->service;
    bool idempotent = job->idempotent || hb_service_idempotent (service);
    if (!job->answered && idempotent && job->attempt < 2
    &&  job->deadline_at > self->now
    &&  hb_service_enqueue_front (service, job) == 0) {
        job->attempt++;
        job->dispatched_at = 0;
        self->stats.resent++;
        hearth_log_info ("resending request for '%s': worker %s %s",
                         service->name, worker_id, reason);
        return;
    }
    hb_reply_fail (self, job, HEARTH_STATUS_WORKER_LOST,
                   "worker %s of '%s' lost with the request: %s", worker_id,
                   service->name, reason);
}

/*  The service's longest registered native worker with a descriptor, or
    NULL: the next publisher once the current one leaves (it has already
    left the table). A walk of the table, but only when a publisher goes.  */
static hb_worker_t *
s_next_publisher (hearth_broker_t *self, hb_service_t *service)
{
    hb_worker_t *next = NULL;
    hb_worker_t *worker = zhashx_first (self->workers);
    for (; worker; worker = zhashx_next (self->workers))
        if (worker->service == service && worker->descriptor
        && (!next || worker->registered < next->registered))
            next = worker;
    return next;
}

void
hb_worker_remove (hearth_broker_t *self, hb_worker_t *worker,
                  const char *reason, bool disconnect)
{
    hb_service_t *service = worker->service;
    hearth_log_info ("worker %s of '%s' removed: %s (%zu request%s held)",
                     worker->id, service->name, reason,
                     zlistx_size (worker->jobs),
                     zlistx_size (worker->jobs) == 1 ? "" : "s");
    if (disconnect)
        hb_worker_send_disconnect (self, &worker->identity, worker->proto);
    hb_worker_set_state (worker, HB_WORKER_DETACHED);
    hb_job_t *job;
    while ((job = zlistx_first (worker->jobs))) {
        hb_worker_release (worker, job);
        s_orphan (self, job, worker->id, reason);
    }
    service->workers--;
    service->credit -= worker->credit;
    if (worker->proto == HB_PROTO_MDP)
        service->mdp_workers--;
    if (worker->idempotent)
        service->idempotent_workers--;
    if (service->workers == 0)
        hb_service_set_idle (self, service, true);
    zhashx_delete (self->workers, &worker->identity);
    self->descriptor_bytes -= worker->descriptor_size;
    if (service->publisher == worker)
        service->publisher = s_next_publisher (self, service);
    hb_worker_destroy (&worker);
    hb_dispatch_service (self, service);
}

/*  An idle MDP worker keeps its own heartbeat interval (RFC 7), and the
    guide's mdwrkapi sends one only when a poll of that interval wakes, so
    its silences run past 2.5 s. Its silence limit uses at least this
    interval, as the guide's broker does (2500 ms x 3).                     */
#define S_MDP_HEARTBEAT_MIN_MS 2500

/*  Why a worker is dead, or NULL if it is not: silent too long, except a
    busy MDP worker, which cannot heartbeat: it is hung only once its
    request is overdue as well.                                              */
static const char *
s_verdict (hearth_broker_t *self, hb_worker_t *worker)
{
    int64_t heartbeat = self->config.heartbeat_ms;
    int64_t expiry = heartbeat * self->config.liveness;
    hb_job_t *job = zlistx_first (worker->jobs);
    if (worker->proto == HB_PROTO_MDP && job)
        return self->now > job->deadline_at + expiry && self->now - worker->heard_at > expiry
             ? "hung: busy past its request's deadline" : NULL;
    if (worker->proto == HB_PROTO_MDP && heartbeat < S_MDP_HEARTBEAT_MIN_MS)
        expiry = (int64_t) S_MDP_HEARTBEAT_MIN_MS * self->config.liveness;
    return self->now - worker->heard_at > expiry ? "expired: no heartbeat" : NULL;
}

/*  Sends a HEARTBEAT; returns NULL, or why the worker is gone.              */
static const char *
s_heartbeat (hearth_broker_t *self, hb_worker_t *worker)
{
    bool native = worker->proto == HB_PROTO_NATIVE;
    uint8_t command = native ? HEARTH_WORKER_HEARTBEAT : HEARTH_MDPW_HEARTBEAT;
    hearth_part_t parts[] = {
        HEARTH_PART_BYTES (worker->identity.bytes, worker->identity.size),
        HEARTH_PART_EMPTY,
        native ? HEARTH_PART_STR (HEARTH_WORKER_HEADER)
               : HEARTH_PART_STR (HEARTH_MDPW_HEADER),
        HEARTH_PART_BYTES (&command, 1)
    };
    /*  A full pipe (EAGAIN) is no verdict: silence will be, if it lasts.  */
    return hb_send (self, parts, 4) == 0 || errno != EHOSTUNREACH
         ? NULL : "connection gone";
}

void
hb_worker_check_all (hearth_broker_t *self)
{
    zlistx_t *dead = zlistx_new ();
    if (!dead)
        return;
    hb_worker_t *worker = zhashx_first (self->workers);
    for (; worker; worker = zhashx_next (self->workers)) {
        /*  The heartbeat goes out first: a worker is judged on what it
            heard from us up to now, and a gone connection says so at once. */
        const char *verdict = s_heartbeat (self, worker);
        if (!verdict)
            verdict = s_verdict (self, worker);
        if (verdict) {
            zlistx_add_end (dead, worker);
            zlistx_add_end (dead, (void *) verdict);
        }
    }
    /*  Removal changes the table, so it waits until the walk is over.      */
    while (zlistx_size (dead)) {
        worker = zlistx_first (dead);
        zlistx_delete (dead, zlistx_cursor (dead));
        const char *verdict = zlistx_first (dead);
        zlistx_delete (dead, zlistx_cursor (dead));
        /*  A gone connection cannot take a DISCONNECT.                     */
        hb_worker_remove (self, worker, verdict, strcmp (verdict, "connection gone"));
    }
    zlistx_destroy (&dead);
}

/* ----------------------------------------------------- command tables */

void
hb_worker_message (hearth_broker_t *self, hearth_frames_t *msg,
                   hb_proto_t proto, const hb_worker_command_t *table)
{
    int command = hearth_frames_command (msg, HB_FRAME (2));
    const hb_worker_command_t *entry = table;
    while (entry->handler && entry->command != command)
        entry++;
    hb_worker_t *worker = hb_worker_lookup (self, msg);
    if (worker)
        hb_worker_heard (worker, self->now);
    if (!entry->handler) {
        hb_drop (self, msg, HB_FRAME (2), "unknown worker command");
        return;
    }
    if (entry->registers) {
        if (worker)
            hb_worker_remove (self, worker, "sent a second READY", true);
        else
            entry->handler (self, NULL, msg);
        return;
    }
    if (!worker || worker->proto != proto) {
        /*  Unknown (e.g. we restarted): DISCONNECT makes it register again;
            a DISCONNECT itself needs no answer.                              */
        hb_identity_t identity;
        if (command != HEARTH_WORKER_DISCONNECT
        &&  hb_identity_set (&identity, hearth_frames_data (msg, HB_IDENTITY),
                             hearth_frames_size (msg, HB_IDENTITY)) == 0)
            hb_worker_send_disconnect (self, &identity, proto);
        if (worker)
            hb_worker_remove (self, worker, "switched protocol", false);
        return;
    }
    hearth_log_debug ("worker %s: %s (%s)", worker->id, entry->name,
                      hb_worker_state_name (worker->state));
    entry->handler (self, worker, msg);
}

void
hb_worker_on_heartbeat (hearth_broker_t *self, hb_worker_t *worker,
                        hearth_frames_t *msg)
{
    (void) msg;
    /*  Being heard may have ended a rest: the queue may have work for it. */
    if (worker->state == HB_WORKER_READY)
        hb_dispatch_service (self, worker->service);
}

void
hb_worker_on_disconnect_native (hearth_broker_t *self, hb_worker_t *worker,
                                hearth_frames_t *msg)
{
    (void) msg;
    size_t held = zlistx_size (worker->jobs);
    if (held == 0) {
        hb_worker_remove (self, worker, "disconnected", true);
        return;
    }
    /*  A worker stopping gracefully finishes what it holds: keep those
        requests with it (silence still means death), send it no more.      */
    hb_worker_set_state (worker, HB_WORKER_DRAINING);
    hearth_log_info ("worker %s of '%s' draining %zu request%s",
                     worker->id, worker->service->name, held,
                     held == 1 ? "" : "s");
}
