/*  hearth_heap - binary min-heap with index callbacks. See the header.    */
#include "hearth_heap.h"

#include <assert.h>
#include <stdbool.h>
#include <stdlib.h>

typedef struct {
    int64_t key;
    uintptr_t item;
} s_entry_t;

struct _hearth_heap_t {
    s_entry_t *entries;
    size_t size, capacity;
    hearth_heap_moved_fn *moved;
    void *arg;
};

hearth_heap_t *
hearth_heap_new (hearth_heap_moved_fn *moved, void *arg)
{
    assert (moved);
    hearth_heap_t *self = calloc (1, sizeof *self);
    if (self) {
        self->moved = moved;
        self->arg = arg;
    }
    return self;
}

void
hearth_heap_destroy (hearth_heap_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free ((*self_p)->entries);
    free (*self_p);
    *self_p = NULL;
}

int
hearth_heap_reserve (hearth_heap_t *self, size_t size)
{
    if (size <= self->capacity)
        return 0;
    size_t capacity = self->capacity ? self->capacity : 64;
    while (capacity < size)
        capacity *= 2;
    s_entry_t *entries = realloc (self->entries, capacity * sizeof *entries);
    if (!entries)
        return -1;
    self->entries = entries;
    self->capacity = capacity;
    return 0;
}

static void
s_place (hearth_heap_t *self, size_t index, s_entry_t entry)
{
    self->entries[index] = entry;
    self->moved (self->arg, entry.item, index);
}

/*  Moves the hole at index up to where entry belongs, and puts it there.
    Filling a hole instead of swapping tells each owner only once.          */
static void
s_sift_up (hearth_heap_t *self, size_t index, s_entry_t entry)
{
    while (index > 0) {
        size_t parent = (index - 1) / 2;
        if (self->entries[parent].key <= entry.key)
            break;
        s_place (self, index, self->entries[parent]);
        index = parent;
    }
    s_place (self, index, entry);
}

static void
s_sift_down (hearth_heap_t *self, size_t index, s_entry_t entry)
{
    while (true) {
        size_t child = 2 * index + 1;
        if (child >= self->size)
            break;
        if (child + 1 < self->size
        &&  self->entries[child + 1].key < self->entries[child].key)
            child++;
        if (self->entries[child].key >= entry.key)
            break;
        s_place (self, index, self->entries[child]);
        index = child;
    }
    s_place (self, index, entry);
}

int
hearth_heap_push (hearth_heap_t *self, int64_t key, uintptr_t item)
{
    if (self->size == self->capacity
    &&  hearth_heap_reserve (self, self->size + 1))
        return -1;
    s_entry_t entry = { key, item };
    s_sift_up (self, self->size++, entry);
    return 0;
}

void
hearth_heap_remove (hearth_heap_t *self, size_t index)
{
    assert (index < self->size);
    uintptr_t gone = self->entries[index].item;
    s_entry_t last = self->entries[--self->size];
    if (index < self->size) {
        /*  The last entry fills the hole; it may belong above or below.   */
        if (index > 0 && last.key < self->entries[(index - 1) / 2].key)
            s_sift_up (self, index, last);
        else
            s_sift_down (self, index, last);
    }
    self->moved (self->arg, gone, HEARTH_HEAP_NONE);
}

size_t
hearth_heap_size (const hearth_heap_t *self)
{
    return self->size;
}

uintptr_t
hearth_heap_item (const hearth_heap_t *self, size_t index)
{
    assert (index < self->size);
    return self->entries[index].item;
}

int64_t
hearth_heap_key (const hearth_heap_t *self, size_t index)
{
    assert (index < self->size);
    return self->entries[index].key;
}
