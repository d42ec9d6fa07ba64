/*  hearth_cli_reorder - bounded reorder buffer (see the header).

    A ring of capacity slots: sequence number s lives in slot s % capacity.
    Open numbers are [head, next); since at most capacity are open, no two
    share a slot.
*/
#include "hearth_cli_reorder.h"

#include <assert.h>
#include <stdlib.h>

typedef struct {
    void *item;
    bool complete;
} s_slot_t;

struct _hearth_cli_reorder_t {
    s_slot_t *slots;
    size_t capacity;
    uint64_t head;              /* oldest open sequence number              */
    uint64_t next;              /* the next one reserve hands out           */
    hearth_cli_reorder_free_fn *free_fn;
};

hearth_cli_reorder_t *
hearth_cli_reorder_new (size_t capacity, hearth_cli_reorder_free_fn *free_fn)
{
    if (capacity == 0 || capacity > SIZE_MAX / sizeof (s_slot_t))
        return NULL;
    hearth_cli_reorder_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->slots = calloc (capacity, sizeof *self->slots);
    if (!self->slots) {
        free (self);
        return NULL;
    }
    self->capacity = capacity;
    self->free_fn = free_fn;
    return self;
}

void
hearth_cli_reorder_destroy (hearth_cli_reorder_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    hearth_cli_reorder_t *self = *self_p;
    for (uint64_t seq = self->head; seq < self->next; seq++) {
        s_slot_t *slot = &self->slots[seq % self->capacity];
        if (self->free_fn)
            self->free_fn (slot->item);
    }
    free (self->slots);
    free (self);
    *self_p = NULL;
}

/*  The slot of an open sequence number, or NULL.                           */
static s_slot_t *
s_slot (hearth_cli_reorder_t *self, uint64_t seq)
{
    if (seq < self->head || seq >= self->next)
        return NULL;
    return &self->slots[seq % self->capacity];
}

int
hearth_cli_reorder_reserve (hearth_cli_reorder_t *self, void *item,
                            uint64_t *seq_p)
{
    assert (self && item && seq_p);
    if (hearth_cli_reorder_full (self))
        return -1;
    s_slot_t *slot = &self->slots[self->next % self->capacity];
    slot->item = item;
    slot->complete = false;
    *seq_p = self->next++;
    return 0;
}

void *
hearth_cli_reorder_get (hearth_cli_reorder_t *self, uint64_t seq)
{
    assert (self);
    s_slot_t *slot = s_slot (self, seq);
    return slot ? slot->item : NULL;
}

int
hearth_cli_reorder_complete (hearth_cli_reorder_t *self, uint64_t seq)
{
    assert (self);
    s_slot_t *slot = s_slot (self, seq);
    if (!slot || slot->complete)
        return -1;
    slot->complete = true;
    return 0;
}

void *
hearth_cli_reorder_pop (hearth_cli_reorder_t *self)
{
    assert (self);
    s_slot_t *slot = s_slot (self, self->head);
    if (!slot || !slot->complete)
        return NULL;
    void *item = slot->item;
    slot->item = NULL;
    slot->complete = false;
    self->head++;
    return item;
}

size_t
hearth_cli_reorder_open (const hearth_cli_reorder_t *self)
{
    assert (self);
    return (size_t) (self->next - self->head);
}

bool
hearth_cli_reorder_full (const hearth_cli_reorder_t *self)
{
    return hearth_cli_reorder_open (self) >= self->capacity;
}
