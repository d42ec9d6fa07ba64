/*  test_reorder - the reorder buffer of `hearth run`
    (client/cli/hearth_cli_reorder.c): input order out whatever the order of
    completion, bounded by its capacity, never an item twice.
*/
#include "hearth_cli_reorder.h"
#include "hearth_test.h"

#include <stdlib.h>

static int s_freed;

static void
s_free_item (void *item)
{
    s_freed++;
    free (item);
}

static int *
s_item (int value)
{
    int *item = malloc (sizeof *item);
    *item = value;
    return item;
}

static void
test_bad_capacity (void)
{
    CHECK (hearth_cli_reorder_new (0, NULL) == NULL);
    hearth_cli_reorder_t *buffer = NULL;
    hearth_cli_reorder_destroy (&buffer);       /* idempotent on NULL       */
    CHECK (buffer == NULL);
}

static void
test_in_order_and_bounded (void)
{
    hearth_cli_reorder_t *buffer = hearth_cli_reorder_new (3, s_free_item);
    CHECK (buffer != NULL);
    uint64_t seq[3];
    for (int i = 0; i < 3; i++) {
        CHECK_INT (hearth_cli_reorder_reserve (buffer, s_item (i), &seq[i]), 0);
        CHECK_INT (seq[i], i);
    }
    CHECK (hearth_cli_reorder_full (buffer));
    int *extra = s_item (99);
    uint64_t unused;
    CHECK_INT (hearth_cli_reorder_reserve (buffer, extra, &unused), -1);
    free (extra);                               /* refused: still ours      */

    /*  Completed last-first: nothing comes out until the oldest is done.  */
    CHECK_INT (hearth_cli_reorder_complete (buffer, 2), 0);
    CHECK_INT (hearth_cli_reorder_complete (buffer, 1), 0);
    CHECK (hearth_cli_reorder_pop (buffer) == NULL);
    CHECK_INT (hearth_cli_reorder_complete (buffer, 0), 0);
    for (int i = 0; i < 3; i++) {
        int *item = hearth_cli_reorder_pop (buffer);
        CHECK (item != NULL);
        if (item)
            CHECK_INT (*item, i);
        free (item);
    }
    CHECK (hearth_cli_reorder_pop (buffer) == NULL);
    CHECK_INT (hearth_cli_reorder_open (buffer), 0);
    CHECK (!hearth_cli_reorder_full (buffer));
    hearth_cli_reorder_destroy (&buffer);
    CHECK (buffer == NULL);
}

static void
test_refusals (void)
{
    hearth_cli_reorder_t *buffer = hearth_cli_reorder_new (2, s_free_item);
    uint64_t seq;
    CHECK_INT (hearth_cli_reorder_reserve (buffer, s_item (7), &seq), 0);
    CHECK (hearth_cli_reorder_get (buffer, seq) != NULL);
    CHECK_INT (*(int *) hearth_cli_reorder_get (buffer, seq), 7);
    CHECK (hearth_cli_reorder_get (buffer, seq + 1) == NULL);   /* unopened */
    CHECK_INT (hearth_cli_reorder_complete (buffer, seq + 1), -1);
    CHECK_INT (hearth_cli_reorder_complete (buffer, seq), 0);
    /*  A second completion (a duplicate reply) is refused.                */
    CHECK_INT (hearth_cli_reorder_complete (buffer, seq), -1);
    free (hearth_cli_reorder_pop (buffer));
    /*  Popped: gone for good, even though its slot will be reused.        */
    CHECK (hearth_cli_reorder_get (buffer, seq) == NULL);
    CHECK_INT (hearth_cli_reorder_complete (buffer, seq), -1);
    CHECK_INT (hearth_cli_reorder_reserve (buffer, s_item (8), &seq), 0);
    CHECK_INT (seq, 1);
    CHECK_INT (hearth_cli_reorder_reserve (buffer, s_item (9), &seq), 0);
    CHECK_INT (seq, 2);
    CHECK (hearth_cli_reorder_get (buffer, 0) == NULL);
    hearth_cli_reorder_destroy (&buffer);
}

static void
test_destroy_frees_open_items (void)
{
    hearth_cli_reorder_t *buffer = hearth_cli_reorder_new (4, s_free_item);
    uint64_t seq;
    for (int i = 0; i < 4; i++)
        hearth_cli_reorder_reserve (buffer, s_item (i), &seq);
    hearth_cli_reorder_complete (buffer, 1);
    free (hearth_cli_reorder_pop (buffer));     /* 0 is not complete: NULL  */
    s_freed = 0;
    hearth_cli_reorder_destroy (&buffer);
    CHECK_INT (s_freed, 4);
}

/*  A small reproducible PRNG, so a failure replays exactly.               */
static uint32_t
s_rand (uint32_t *state)
{
    *state = *state * 1103515245u + 12345u;
    return *state >> 8;
}

/*  Many laps of the ring, completions in random order, the window kept
    full: every item comes out once, in reserve order.                     */
static void
test_shuffled_laps (void)
{
    enum { CAPACITY = 17, TOTAL = 5000 };
    hearth_cli_reorder_t *buffer = hearth_cli_reorder_new (CAPACITY, s_free_item);
    uint32_t state = 42;
    int reserved = 0, popped = 0, out_of_order = 0;
    uint64_t open[CAPACITY];
    size_t open_count = 0;
    while (popped < TOTAL) {
        while (reserved < TOTAL && !hearth_cli_reorder_full (buffer)) {
            uint64_t seq;
            if (hearth_cli_reorder_reserve (buffer, s_item (reserved), &seq))
                break;
            CHECK_INT (seq, reserved);
            open[open_count++] = seq;
            reserved++;
        }
        CHECK (open_count > 0);
        if (open_count == 0)
            break;
        size_t pick = s_rand (&state) % open_count;
        CHECK_INT (hearth_cli_reorder_complete (buffer, open[pick]), 0);
        open[pick] = open[--open_count];
        int *item;
        while ((item = hearth_cli_reorder_pop (buffer))) {
            if (*item != popped)
                out_of_order++;
            popped++;
            free (item);
        }
        CHECK (hearth_cli_reorder_open (buffer) <= CAPACITY);
    }
    CHECK_INT (popped, TOTAL);
    CHECK_INT (reserved, TOTAL);
    CHECK_INT (out_of_order, 0);
    CHECK_INT (hearth_cli_reorder_open (buffer), 0);
    hearth_cli_reorder_destroy (&buffer);
}

int
main (void)
{
    RUN (test_bad_capacity);
    RUN (test_in_order_and_bounded);
    RUN (test_refusals);
    RUN (test_destroy_frees_open_items);
    RUN (test_shuffled_laps);
    return HEARTH_TEST_RESULT;
}
