/*  hb_service - per-service queue and ready-worker list, and the broker's
    table of services. See hb_service.h.
*/
#include "hb_broker.h"

hb_service_t *
hb_service_new (const char *name)
{
    hb_service_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->name = strdup (name);
    self->queue = zlistx_new ();
    self->ready = zlistx_new ();
    if (!self->name || !self->queue || !self->ready)
        hb_service_destroy (&self);
    return self;
}

void
hb_service_destroy (hb_service_t **self_p)
{
    hb_service_t *self = *self_p;
    if (!self)
        return;
    zlistx_destroy (&self->queue);
    zlistx_destroy (&self->ready);
    free (self->name);
    free (self);
    *self_p = NULL;
}

int
hb_service_enqueue (hb_service_t *self, hb_job_t *job)
{
    job->queue_handle = zlistx_add_end (self->queue, job);
    return job->queue_handle ? 0 : -1;
}

int
hb_service_enqueue_front (hb_service_t *self, hb_job_t *job)
{
    job->queue_handle = zlistx_add_start (self->queue, job);
    return job->queue_handle ? 0 : -1;
}

hb_job_t *
hb_service_dequeue (hb_service_t *self)
{
    hb_job_t *job = zlistx_first (self->queue);
    if (job)
        hb_service_unqueue (self, job);
    return job;
}

void
hb_service_unqueue (hb_service_t *self, hb_job_t *job)
{
    if (job->queue_handle) {
        zlistx_delete (self->queue, job->queue_handle);
        job->queue_handle = NULL;
    }
}

size_t
hb_service_queued (hb_service_t *self)
{
    return zlistx_size (self->queue);
}

bool
hb_service_idempotent (const hb_service_t *self)
{
    return self->workers > 0 && self->idempotent_workers == self->workers;
}

void
hb_service_completed (hb_service_t *self, int64_t run_ms)
{
    /*  A moving mean, so a service that slows down (or a faster worker that
        joins) shows within a few replies, while one slow reply does not
        swing it; the first reply seeds it.                                  */
    double sample = run_ms > 0 ? (double) run_ms : 0;
    self->run_ms = self->completions ? self->run_ms + (sample - self->run_ms) / 8
                                     : sample;
    self->completions++;
}

int64_t
hb_service_expected_ms (hb_service_t *self)
{
    if (zlistx_size (self->ready) || self->credit == 0
    ||  self->completions < HB_SERVICE_ESTIMATE_MIN)
        return -1;
    /*  By Little's law the service finishes credit / run_ms jobs a ms,
        whatever each worker does with its credit (run_ms includes any wait
        inside the worker). Jobs at workers count whole, overstating the
        wait by less than one run: in a steady overload every request is
        admitted at the limit, and without that margin each would finish
        just past its deadline.                                              */
    double ahead = (double) (hb_service_queued (self) + self->in_flight);
    return (int64_t) (ahead * self->run_ms / (double) self->credit + self->run_ms);
}

/* ------------------------------------------------------ the broker's side */

hb_service_t *
hb_service_lookup (hearth_broker_t *self, const char *name, hb_lookup_t mode)
{
    hb_service_t *service = zhashx_lookup (self->services, name);
    if (mode == HB_FIND_OFFERED)
        return service && service->offered ? service : NULL;
    if (service || mode == HB_FIND)
        return service;
    if (mode == HB_FIND_OR_QUEUE && zlistx_size (self->idle) >= HB_IDLE_SERVICES_MAX)
        return NULL;
    service = hb_service_new (name);
    if (!service)
        return NULL;
    if (zhashx_insert (self->services, name, service)) {
        hb_service_destroy (&service);
        return NULL;
    }
    hb_service_set_idle (self, service, true);
    return service;
}

/*  Forgets a worker-less service (its queue is empty).                     */
static void
s_forget (hearth_broker_t *self, hb_service_t *service)
{
    zlistx_delete (self->idle, service->idle_handle);
    service->idle_handle = NULL;
    zhashx_delete (self->services, service->name);
}

void
hb_service_set_idle (hearth_broker_t *self, hb_service_t *service, bool idle)
{
    if (!idle) {
        if (service->idle_handle)
            zlistx_delete (self->idle, service->idle_handle);
        service->idle_handle = NULL;
        service->empty_since = 0;
        return;
    }
    service->empty_since = self->now;
    if (service->idle_handle)
        zlistx_move_end (self->idle, service->idle_handle);
    else
        service->idle_handle = zlistx_add_end (self->idle, service);
    if (zlistx_size (self->idle) <= HB_IDLE_SERVICES_MAX)
        return;
    /*  The front is the longest idle; one with queued MDP requests waits
        for its linger (there are at most HB_IDLE_SERVICES_MAX of those).  */
    hb_service_t *oldest = zlistx_first (self->idle);
    while (oldest && (oldest == service || hb_service_queued (oldest)))
        oldest = zlistx_next (self->idle);
    if (oldest) {
        hearth_log_debug ("service '%s' forgotten: over %d services without "
                          "workers", oldest->name, HB_IDLE_SERVICES_MAX);
        s_forget (self, oldest);
    }
}

int
hb_service_name (hearth_frames_t *msg, int frame,
                 char name[HEARTH_SERVICE_MAX + 1])
{
    size_t size = hearth_frames_size (msg, frame);
    const uint8_t *data = hearth_frames_data (msg, frame);
    if (size == 0 || size > HEARTH_SERVICE_MAX)
        return -1;
    for (size_t i = 0; i < size; i++)
        if (data[i] < 0x20 || data[i] == 0x7f)
            return -1;
    memcpy (name, data, size);
    name[size] = 0;
    return 0;
}

void
hb_service_linger_all (hearth_broker_t *self)
{
    zlistx_t *forget = zlistx_new ();
    if (!forget)
        return;
    /*  Only the idle list: the work is proportional to worker-less
        services, not to all of them.                                        */
    hb_service_t *service = zlistx_first (self->idle);
    for (; service; service = zlistx_next (self->idle)) {
        if (self->now - service->empty_since < self->config.linger_ms)
            break;              /* longest idle first: the rest are younger */
        hb_job_t *job = zlistx_first (service->queue);
        while (job) {
            hb_job_t *next = zlistx_next (service->queue);
            if (!hb_job_waits_for_workers (job))
                hb_reply_fail (self, job, HEARTH_STATUS_UNAVAILABLE,
                               "no workers for service '%s' for %d ms",
                               service->name, self->config.linger_ms);
            job = next;
        }
        if (hb_service_queued (service) == 0)
            zlistx_add_end (forget, service);
    }
    while ((service = zlistx_first (forget))) {
        zlistx_delete (forget, zlistx_cursor (forget));
        s_forget (self, service);
    }
    zlistx_destroy (&forget);
}
