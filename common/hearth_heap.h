/*  hearth_heap - a binary min-heap of (key, item) pairs, for deadlines:
    the broker's jobs and the client's requests in flight expire through
    one of these.

    The heap is intrusive by index: every time an item lands at a new
    place, the heap tells its owner through the moved callback, and the
    owner keeps that index beside the item. So an item is removed in
    O(log n) from wherever it is, without a search, and the owner may keep
    its items wherever it likes (pointers, or indexes into an array that
    moves when it grows). Keys are copied into the heap, so comparing them
    touches no item: an item's key must not change while it is in the heap.

    Internal to Hearth (not part of libhearth's API). Not thread-safe.
*/
#ifndef HEARTH_HEAP_H_INCLUDED
#define HEARTH_HEAP_H_INCLUDED

#include <stddef.h>
#include <stdint.h>

#define HEARTH_HEAP_NONE SIZE_MAX   /* an index that is no place in a heap  */

/*  Tells the owner that item now sits at index (its handle for
    hearth_heap_remove), or HEARTH_HEAP_NONE once it has left the heap.     */
typedef void (hearth_heap_moved_fn) (void *arg, uintptr_t item, size_t index);

typedef struct _hearth_heap_t hearth_heap_t;

/*  Creates an empty heap; moved and arg are kept for every change.
    Returns NULL out of memory.                                              */
hearth_heap_t *hearth_heap_new (hearth_heap_moved_fn *moved, void *arg);

/*  Frees the heap (not the items; moved is not called). Idempotent.        */
void hearth_heap_destroy (hearth_heap_t **self_p);

/*  Makes room for size items in all, so that pushes up to that size cannot
    fail. Returns 0, or -1 out of memory (the heap is unchanged).           */
int hearth_heap_reserve (hearth_heap_t *self, size_t size);

/*  Adds item with key. Returns 0, or -1 out of memory (not added, moved
    not called).                                                             */
int hearth_heap_push (hearth_heap_t *self, int64_t key, uintptr_t item);

/*  Removes the item at index (as last told by moved); moved tells it
    HEARTH_HEAP_NONE. index must be in the heap.                             */
void hearth_heap_remove (hearth_heap_t *self, size_t index);

/*  Number of items in the heap.                                            */
size_t hearth_heap_size (const hearth_heap_t *self);

/*  The item and key at index (< size). Index 0 holds the smallest key;
    the last index is the one whose removal moves nothing.                   */
uintptr_t hearth_heap_item (const hearth_heap_t *self, size_t index);
int64_t hearth_heap_key (const hearth_heap_t *self, size_t index);

#endif
