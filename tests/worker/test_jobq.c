/*  test_jobq - the worker's guarded job queue (workers/hearth_jobq.c):
    FIFO order, bounds, take, and close waking blocked handlers.
*/
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include "hearth_jobq.h"
#include "hearth_test.h"

#define ITEMS 20000

static hearth_jobq_t *s_queue;
static atomic_long s_sum;
static atomic_int s_popped;

static void *
s_consumer (void *arg)
{
    uint32_t index;
    while (hearth_jobq_pop (s_queue, &index) == 0) {
        atomic_fetch_add (&s_sum, (long) index);
        atomic_fetch_add (&s_popped, 1);
    }
    return NULL;
}

int
main (void)
{
    hearth_jobq_t *queue = hearth_jobq_new (3);
    REQUIRE (queue, "new");
    uint32_t index;
    CHECK (hearth_jobq_take (queue, &index) == -1, "take from empty");
    for (uint32_t i = 1; i <= 3; i++)
        CHECK (hearth_jobq_push (queue, i) == 0, "push %u", i);
    CHECK (hearth_jobq_push (queue, 4) == -1, "push beyond capacity");
    CHECK (hearth_jobq_pop (queue, &index) == 0 && index == 1, "FIFO 1");
    CHECK (hearth_jobq_push (queue, 4) == 0, "push after pop (wraps)");
    CHECK (hearth_jobq_take (queue, &index) == 0 && index == 2, "take 2");
    CHECK (hearth_jobq_pop (queue, &index) == 0 && index == 3, "FIFO 3");
    CHECK (hearth_jobq_pop (queue, &index) == 0 && index == 4, "FIFO 4");
    hearth_jobq_close (queue);
    CHECK (hearth_jobq_pop (queue, &index) == -1, "pop after close");
    hearth_jobq_destroy (&queue);
    hearth_jobq_destroy (&queue);
    CHECK (queue == NULL, "destroy clears");

    /*  Four consumers, one producer: every item popped exactly once, and
        close wakes the consumers blocked on an empty queue.                */
    s_queue = hearth_jobq_new (64);
    pthread_t threads[4];
    for (int i = 0; i < 4; i++)
        pthread_create (&threads[i], NULL, s_consumer, NULL);
    long expected = 0;
    for (uint32_t i = 1; i <= ITEMS; i++) {
        while (hearth_jobq_push (s_queue, i))
            sched_yield ();         /* full: the consumers catch up */
        expected += i;
    }
    while (atomic_load (&s_popped) < ITEMS)
        sched_yield ();
    hearth_jobq_close (s_queue);
    for (int i = 0; i < 4; i++)
        pthread_join (threads[i], NULL);
    CHECK (atomic_load (&s_sum) == expected, "sum %ld, expected %ld",
           atomic_load (&s_sum), expected);
    hearth_jobq_destroy (&s_queue);
    return HEARTH_TEST_RESULT;
}
