/*  hb_job - the broker's jobs: a slot table for lookup by id, and a
    deadline heap (hearth_heap) for expiry. See hb_job.h.
*/
#include "hb_job.h"
#include "hearth_heap.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    hb_job_t *job;              /* NULL when free                           */
    uint32_t generation;        /* bumped each time the slot is reused      */
    uint32_t next_free;         /* free list link                           */
} s_slot_t;

struct _hb_jobs_t {
    s_slot_t *slots;
    uint32_t capacity;
    uint32_t free_head;         /* UINT32_MAX when no free slot             */
    size_t count;
    hearth_heap_t *heap;        /* jobs by deadline_at                       */
    size_t bytes;               /* held by counted jobs (hb_jobs_hold)       */
};

#define S_NO_SLOT UINT32_MAX

static void
s_free_job (hb_job_t *job)
{
    zmq_msg_close (&job->meta);
    zmq_msg_close (&job->body);
    for (int i = 0; i < job->more_count; i++)
        zmq_msg_close (&job->more[i]);
    free (job->more);
    if (job->addresses != job->inline_addresses)
        free (job->addresses);
    free (job);
}

/*  The heap tells us each job's place, so it can leave from anywhere.     */
static void
s_job_moved (void *arg, uintptr_t item, size_t index)
{
    ((hb_job_t *) item)->heap_index = index;
}

hb_jobs_t *
hb_jobs_new (void)
{
    hb_jobs_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->free_head = S_NO_SLOT;
    self->heap = hearth_heap_new (s_job_moved, NULL);
    if (!self->heap) {
        free (self);
        return NULL;
    }
    return self;
}

void
hb_jobs_destroy (hb_jobs_t **self_p)
{
    if (!*self_p)
        return;
    hb_jobs_t *self = *self_p;
    for (uint32_t i = 0; i < self->capacity; i++)
        if (self->slots[i].job)
            s_free_job (self->slots[i].job);
    free (self->slots);
    hearth_heap_destroy (&self->heap);
    free (self);
    *self_p = NULL;
}

/* ------------------------------------------------------------------ heap */

void
hb_jobs_forget_deadline (hb_jobs_t *self, hb_job_t *job)
{
    if (job->heap_index == SIZE_MAX)
        return;
    assert (job->heap_index < hearth_heap_size (self->heap)
         && hearth_heap_item (self->heap, job->heap_index) == (uintptr_t) job);
    hearth_heap_remove (self->heap, job->heap_index);
}

hb_job_t *
hb_jobs_earliest (hb_jobs_t *self)
{
    return hearth_heap_size (self->heap)
         ? (hb_job_t *) hearth_heap_item (self->heap, 0) : NULL;
}

/* ----------------------------------------------------------------- table */

static int
s_grow (hb_jobs_t *self)
{
    uint32_t capacity = self->capacity ? self->capacity * 2 : 256;
    if (capacity <= self->capacity)
        return -1;
    s_slot_t *slots = realloc (self->slots, capacity * sizeof *slots);
    if (!slots)
        return -1;
    /*  New slots join the free list in index order.                         */
    for (uint32_t i = capacity; i-- > self->capacity;) {
        slots[i].job = NULL;
        slots[i].generation = 0;
        slots[i].next_free = self->free_head;
        self->free_head = i;
    }
    self->slots = slots;
    self->capacity = capacity;
    return 0;
}

hb_job_t *
hb_jobs_create (hb_jobs_t *self, int64_t deadline_at)
{
    if (self->free_head == S_NO_SLOT && s_grow (self))
        return NULL;
    hb_job_t *job = malloc (sizeof *job);
    if (!job)
        return NULL;
    uint32_t index = self->free_head;
    s_slot_t *slot = &self->slots[index];
    job->sink = HB_SINK_NATIVE;
    job->client_len = 0;
    job->addresses = job->inline_addresses;
    job->client = job->request_id = job->inline_addresses;
    job->service = NULL;
    job->received_at = job->dispatched_at = 0;
    job->idempotent = false;
    job->deadline_at = deadline_at;
    job->heap_index = SIZE_MAX;
    job->attempt = 1;
    job->request_id_len = 0;
    job->queue_handle = job->worker_handle = NULL;
    job->worker = NULL;
    job->pipeline = NULL;
    job->pipeline_slot = 0;
    job->answered = false;
    job->more = NULL;
    job->more_count = 0;
    job->bytes = 0;
    zmq_msg_init (&job->meta);
    zmq_msg_init (&job->body);
    if (hearth_heap_push (self->heap, deadline_at, (uintptr_t) job)) {
        zmq_msg_close (&job->meta);
        zmq_msg_close (&job->body);
        free (job);
        return NULL;
    }
    self->free_head = slot->next_free;
    slot->job = job;
    slot->generation++;
    /*  Generation 0 never appears on the wire, so id 0 is never valid.     */
    if (slot->generation == 0)
        slot->generation = 1;
    job->id = ((uint64_t) slot->generation << 32) | index;
    self->count++;
    return job;
}

hb_job_t *
hb_jobs_find (hb_jobs_t *self, uint64_t id)
{
    uint32_t index = (uint32_t) id;
    if (index >= self->capacity)
        return NULL;
    hb_job_t *job = self->slots[index].job;
    return job && job->id == id ? job : NULL;
}

void
hb_jobs_release (hb_jobs_t *self, hb_job_t **job_p)
{
    hb_job_t *job = *job_p;
    if (!job)
        return;
    uint32_t index = (uint32_t) job->id;
    assert (index < self->capacity && self->slots[index].job == job);
    hb_jobs_forget_deadline (self, job);
    self->slots[index].job = NULL;
    self->slots[index].next_free = self->free_head;
    self->free_head = index;
    self->count--;
    self->bytes -= job->bytes;
    s_free_job (job);
    *job_p = NULL;
}

int
hb_job_set_addresses (hb_job_t *job, const void *client, size_t client_len,
                      const void *request_id, size_t request_id_len)
{
    assert (client_len <= HB_IDENTITY_MAX && request_id_len <= 255);
    assert (job->addresses == job->inline_addresses);
    size_t size = client_len + request_id_len;
    if (size > sizeof job->inline_addresses) {
        job->addresses = malloc (size);
        if (!job->addresses) {
            job->addresses = job->inline_addresses;
            return -1;
        }
    }
    memcpy (job->addresses, client, client_len);
    if (request_id_len)
        memcpy (job->addresses + client_len, request_id, request_id_len);
    job->client = job->addresses;
    job->client_len = (uint8_t) client_len;
    job->request_id = job->addresses + client_len;
    job->request_id_len = (uint8_t) request_id_len;
    return 0;
}

size_t
hb_jobs_hold (hb_jobs_t *self, hb_job_t *job)
{
    if (job->bytes == 0) {
        job->bytes = sizeof *job + zmq_msg_size (&job->meta)
                   + zmq_msg_size (&job->body);
        if (job->addresses != job->inline_addresses)
            job->bytes += job->client_len + job->request_id_len;
        for (int i = 0; i < job->more_count; i++)
            job->bytes += zmq_msg_size (&job->more[i]);
        self->bytes += job->bytes;
    }
    return self->bytes;
}

size_t
hb_jobs_count (hb_jobs_t *self)
{
    return self->count;
}

void
hb_jobs_each (hb_jobs_t *self, void (*fn) (hb_job_t *job, void *arg), void *arg)
{
    for (uint32_t i = 0; i < self->capacity; i++)
        if (self->slots[i].job)
            fn (self->slots[i].job, arg);
}

void
hb_job_id_encode (uint64_t id, uint8_t out[8])
{
    for (int i = 0; i < 8; i++)
        out[i] = (uint8_t) (id >> (56 - 8 * i));
}

int
hb_job_id_decode (const void *data, size_t size, uint64_t *id)
{
    const uint8_t *bytes = data;
    if (size != 8)
        return -1;
    uint64_t value = 0;
    for (int i = 0; i < 8; i++)
        value = (value << 8) | bytes[i];
    *id = value;
    return 0;
}
