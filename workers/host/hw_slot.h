/*  hw_slot - one place in hearth-worker's pool: a child process and the
    hearth_worker_t (credit 1, concurrency 1) that serves it, with a
    supervisor thread that keeps them going.

    The worker registers only while its child is ready, so the broker never
    routes a request to a loading or restarting child. When the child dies,
    hangs or talks garbage, the request in hand is answered, the worker is
    stopped (DISCONNECT), the child is killed and reaped, and a new one is
    started with backoff; a crash loop is logged, never spun.

    In per-request mode a slot runs one command per request instead, and
    its worker stays registered.
*/
#ifndef HW_SLOT_H_INCLUDED
#define HW_SLOT_H_INCLUDED

#include <stdatomic.h>
#include <stdbool.h>
#include "hw_host.h"

typedef struct _hw_slot_t hw_slot_t;

/*  Creates slot number index. options and the flags must outlive the slot:
    stop is raised by the host to end everything; failed is raised by the
    slot if the broker refuses its registration. Returns NULL on a bad
    descriptor or out of memory.                                             */
hw_slot_t *hw_slot_new (const hw_options_t *options, int index,
                        atomic_bool *stop, atomic_bool *failed);

/*  Starts the supervisor thread. Returns 0 or -1.                          */
int hw_slot_start (hw_slot_t *self);

/*  True while the slot's worker is registered with the broker.             */
bool hw_slot_serving (hw_slot_t *self);

/*  Waits for the supervisor to finish (after the host raised stop), then
    frees the slot. Idempotent.                                             */
void hw_slot_destroy (hw_slot_t **self_p);

#endif
