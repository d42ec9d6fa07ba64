/*  hearth_cli_reorder - a bounded reorder buffer: items are reserved in
    input order, completed in any order, and popped in input order.

    `hearth run` keeps up to `capacity` documents open at once: each gets a
    sequence number when read, is completed when its reply arrives, and is
    written only once every earlier one has been. The buffer is what bounds
    memory: when it is full, no new document is read until the oldest one
    is popped.
*/
#ifndef HEARTH_CLI_REORDER_H_INCLUDED
#define HEARTH_CLI_REORDER_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct _hearth_cli_reorder_t hearth_cli_reorder_t;

/*  Frees an item the buffer still holds when it is destroyed.              */
typedef void (hearth_cli_reorder_free_fn) (void *item);

/*  Creates a buffer for at most capacity (>= 1) open items; free_fn (may be
    NULL) frees items left in it at destroy. Returns NULL on a bad capacity
    or out of memory.                                                        */
hearth_cli_reorder_t *hearth_cli_reorder_new (size_t capacity,
                                              hearth_cli_reorder_free_fn *free_fn);

/*  Destroys the buffer and every item still in it. Idempotent.            */
void hearth_cli_reorder_destroy (hearth_cli_reorder_t **self_p);

/*  Opens the next sequence number for item (not NULL), which the buffer
    owns from then on. Returns 0 with *seq_p set (0, 1, 2, ...), or -1 if
    the buffer is full (the item stays the caller's).                       */
int hearth_cli_reorder_reserve (hearth_cli_reorder_t *self, void *item,
                                uint64_t *seq_p);

/*  The item of an open sequence number (still owned by the buffer), or
    NULL if seq is not open (never reserved, or already popped).            */
void *hearth_cli_reorder_get (hearth_cli_reorder_t *self, uint64_t seq);

/*  Marks an open sequence number complete. Returns 0, or -1 if seq is not
    open or was already completed: a second completion is refused, so one
    document can never be written twice.                                    */
int hearth_cli_reorder_complete (hearth_cli_reorder_t *self, uint64_t seq);

/*  Removes and returns the oldest open item if it is complete (the caller
    owns it), else NULL. Call until NULL to drain everything in order.      */
void *hearth_cli_reorder_pop (hearth_cli_reorder_t *self);

/*  Number of open items (reserved and not yet popped).                     */
size_t hearth_cli_reorder_open (const hearth_cli_reorder_t *self);

/*  True when no more can be reserved until the oldest item is popped.     */
bool hearth_cli_reorder_full (const hearth_cli_reorder_t *self);

#endif
