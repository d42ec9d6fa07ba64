/*  hearth_jobq - the worker's queue of jobs waiting for a handler thread.

    Whoever reads a REQUEST from the broker socket (the I/O thread, or a
    handler that just sent its reply) pushes its job index; handler threads
    pop them (or, inline, the I/O thread takes them). A mutex
    and a condition variable guard it, so a handler that finishes takes the
    next job at once instead of waiting for the I/O thread to hand one over
    (a thread wake-up per job is what limits a pipelined worker), and no
    job waits behind a slow handler while another is idle.
*/
#ifndef HEARTH_JOBQ_H_INCLUDED
#define HEARTH_JOBQ_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>

typedef struct _hearth_jobq_t hearth_jobq_t;

/*  A queue that holds up to capacity indexes. NULL out of memory.         */
hearth_jobq_t *hearth_jobq_new (int capacity);
/*  Destroys the queue; no thread may be using it. Idempotent.             */
void hearth_jobq_destroy (hearth_jobq_t **self_p);

/*  Appends index. Returns 0, or -1 if full (the caller's pool is sized so
    that cannot happen).                                                     */
int hearth_jobq_push (hearth_jobq_t *self, uint32_t index);
/*  Waits for the next index: 0 with *index set, or -1 once the queue is
    closed.                                                                  */
int hearth_jobq_pop (hearth_jobq_t *self, uint32_t *index);
/*  Takes the oldest index not yet popped, without waiting: 0 or -1 empty. */
int hearth_jobq_take (hearth_jobq_t *self, uint32_t *index);
/*  Wakes every waiting pop with -1, now and from now on.                   */
void hearth_jobq_close (hearth_jobq_t *self);

#endif
