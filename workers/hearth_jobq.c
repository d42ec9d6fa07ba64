/*  hearth_jobq - a bounded, mutex-guarded FIFO of job indexes.
    See hearth_jobq.h.
*/
#include "hearth_jobq.h"

#include <pthread.h>
#include <stdlib.h>

struct _hearth_jobq_t {
    pthread_mutex_t mutex;
    pthread_cond_t ready;
    uint32_t *ring;
    int capacity, head, count;
    int waiting;                /* handlers blocked in pop                  */
    bool closed;
};

hearth_jobq_t *
hearth_jobq_new (int capacity)
{
    hearth_jobq_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->ring = calloc ((size_t) capacity, sizeof *self->ring);
    if (!self->ring) {
        free (self);
        return NULL;
    }
    self->capacity = capacity;
    pthread_mutex_init (&self->mutex, NULL);
    pthread_cond_init (&self->ready, NULL);
    return self;
}

void
hearth_jobq_destroy (hearth_jobq_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    hearth_jobq_t *self = *self_p;
    pthread_mutex_destroy (&self->mutex);
    pthread_cond_destroy (&self->ready);
    free (self->ring);
    free (self);
    *self_p = NULL;
}

int
hearth_jobq_push (hearth_jobq_t *self, uint32_t index)
{
    pthread_mutex_lock (&self->mutex);
    int rc = -1;
    if (self->count < self->capacity) {
        self->ring[(self->head + self->count) % self->capacity] = index;
        self->count++;
        rc = 0;
        /*  Signal only a sleeper: a busy handler finds the job by itself. */
        if (self->waiting > 0)
            pthread_cond_signal (&self->ready);
    }
    pthread_mutex_unlock (&self->mutex);
    return rc;
}

/*  With the mutex held.                                                    */
static uint32_t
s_shift (hearth_jobq_t *self)
{
    uint32_t index = self->ring[self->head];
    self->head = (self->head + 1) % self->capacity;
    self->count--;
    return index;
}

int
hearth_jobq_pop (hearth_jobq_t *self, uint32_t *index)
{
    pthread_mutex_lock (&self->mutex);
    while (self->count == 0 && !self->closed) {
        self->waiting++;
        pthread_cond_wait (&self->ready, &self->mutex);
        self->waiting--;
    }
    int rc = -1;
    if (!self->closed) {
        *index = s_shift (self);
        rc = 0;
    }
    pthread_mutex_unlock (&self->mutex);
    return rc;
}

int
hearth_jobq_take (hearth_jobq_t *self, uint32_t *index)
{
    pthread_mutex_lock (&self->mutex);
    int rc = -1;
    if (self->count > 0) {
        *index = s_shift (self);
        rc = 0;
    }
    pthread_mutex_unlock (&self->mutex);
    return rc;
}

void
hearth_jobq_close (hearth_jobq_t *self)
{
    pthread_mutex_lock (&self->mutex);
    self->closed = true;
    pthread_cond_broadcast (&self->ready);
    pthread_mutex_unlock (&self->mutex);
}
