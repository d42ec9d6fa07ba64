/*  hb_service - per-service queue and ready-worker list. See hb_service.h. */
#include "hb_service.h"

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
    free (self->descriptor);
    free (self->version);
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

int
hb_service_set_descriptor (hb_service_t *self, const void *data, size_t size,
                           const char *version, bool idempotent)
{
    uint8_t *copy = malloc (size ? size : 1);
    char *version_copy = version ? strdup (version) : NULL;
    if (!copy || (version && !version_copy)) {
        free (copy);
        free (version_copy);
        return -1;
    }
    memcpy (copy, data, size);
    free (self->descriptor);
    free (self->version);
    self->descriptor = copy;
    self->descriptor_size = size;
    self->version = version_copy;
    self->idempotent = idempotent;
    return 0;
}
