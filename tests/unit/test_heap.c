/*  Unit tests for hearth_heap: order, the owner's indexes, removal from
    anywhere, and a long random run checked against a plain array.          */
#include "hearth_heap.h"
#include "hearth_test.h"

#include <stdlib.h>

#define S_ITEMS 512

/*  The owner: each item is an index into these arrays.                     */
static size_t s_where[S_ITEMS];
static int64_t s_key[S_ITEMS];
static bool s_in[S_ITEMS];
static int s_moves;

static void
s_moved (void *arg, uintptr_t item, size_t index)
{
    CHECK (arg == (void *) s_where);
    CHECK (item < S_ITEMS);
    s_where[item] = index;
    s_moves++;
}

/*  Every item in the heap is where the owner was told, and no parent has
    a larger key than its children.                                         */
static void
s_check_heap (hearth_heap_t *heap)
{
    size_t size = hearth_heap_size (heap), count = 0;
    for (size_t i = 0; i < size; i++) {
        uintptr_t item = hearth_heap_item (heap, i);
        CHECK_INT (s_where[item], i);
        CHECK_INT (hearth_heap_key (heap, i), s_key[item]);
        if (i > 0)
            CHECK (hearth_heap_key (heap, (i - 1) / 2)
                   <= hearth_heap_key (heap, i));
    }
    for (size_t item = 0; item < S_ITEMS; item++)
        if (s_in[item]) {
            count++;
            CHECK (s_where[item] < size);
        }
        else
            CHECK_INT (s_where[item], HEARTH_HEAP_NONE);
    CHECK_INT (count, size);
}

static void
s_reset (void)
{
    for (size_t i = 0; i < S_ITEMS; i++) {
        s_where[i] = HEARTH_HEAP_NONE;
        s_in[i] = false;
    }
}

static void
s_push (hearth_heap_t *heap, uintptr_t item, int64_t key)
{
    s_key[item] = key;
    CHECK_INT (hearth_heap_push (heap, key, item), 0);
    s_in[item] = true;
}

static void
s_remove (hearth_heap_t *heap, uintptr_t item)
{
    hearth_heap_remove (heap, s_where[item]);
    s_in[item] = false;
}

static void
test_empty (void)
{
    hearth_heap_t *heap = hearth_heap_new (s_moved, s_where);
    CHECK (heap);
    CHECK_INT (hearth_heap_size (heap), 0);
    hearth_heap_destroy (&heap);
    CHECK (heap == NULL);
    hearth_heap_destroy (&heap);        /* idempotent                      */
}

/*  Pushed in any order, items come off the top smallest key first.        */
static void
test_order (void)
{
    s_reset ();
    hearth_heap_t *heap = hearth_heap_new (s_moved, s_where);
    static const int64_t keys[] = { 50, 10, 40, 10, 70, -5, 30, 20, 60, 0 };
    size_t count = sizeof keys / sizeof keys[0];
    for (size_t i = 0; i < count; i++)
        s_push (heap, i, keys[i]);
    s_check_heap (heap);
    int64_t last = INT64_MIN;
    for (size_t i = 0; i < count; i++) {
        int64_t key = hearth_heap_key (heap, 0);
        CHECK (key >= last);
        last = key;
        s_remove (heap, hearth_heap_item (heap, 0));
        s_check_heap (heap);
    }
    CHECK_INT (last, 70);
    CHECK_INT (hearth_heap_size (heap), 0);
    hearth_heap_destroy (&heap);
}

/*  Removing from the middle, where the last entry must move up, or down. */
static void
test_remove_anywhere (void)
{
    s_reset ();
    hearth_heap_t *heap = hearth_heap_new (s_moved, s_where);
    /*  A heap whose last leaf (key 2) is smaller than the parent of the
        removed item's place in the other subtree: it has to go up.         */
    static const int64_t keys[] = { 1, 100, 3, 101, 102, 4, 5, 103, 104, 105,
                                    106, 6, 7, 8, 9, 2 };
    size_t count = sizeof keys / sizeof keys[0];
    for (size_t i = 0; i < count; i++)
        s_push (heap, i, keys[i]);
    s_check_heap (heap);
    s_remove (heap, 3);                 /* key 101, under 100               */
    s_check_heap (heap);
    s_remove (heap, 2);                 /* key 3                            */
    s_check_heap (heap);
    /*  The last index moves nothing: only the removed item hears of it.  */
    uintptr_t last = hearth_heap_item (heap, hearth_heap_size (heap) - 1);
    s_moves = 0;
    s_remove (heap, last);
    CHECK_INT (s_moves, 1);
    s_check_heap (heap);
    while (hearth_heap_size (heap))
        s_remove (heap, hearth_heap_item (heap, hearth_heap_size (heap) / 2));
    s_check_heap (heap);
    hearth_heap_destroy (&heap);
}

/*  After reserve, pushes up to that size do not reallocate (and so could
    not fail); the heap grows past it on demand.                            */
static void
test_reserve (void)
{
    s_reset ();
    hearth_heap_t *heap = hearth_heap_new (s_moved, s_where);
    CHECK_INT (hearth_heap_reserve (heap, 100), 0);
    CHECK_INT (hearth_heap_reserve (heap, 10), 0);
    for (uintptr_t i = 0; i < 300; i++)
        s_push (heap, i, (int64_t) (i * 7919 % 301));
    CHECK_INT (hearth_heap_size (heap), 300);
    s_check_heap (heap);
    hearth_heap_destroy (&heap);
}

/*  Random pushes and removals against the owner's own record.              */
static void
test_random (void)
{
    s_reset ();
    hearth_heap_t *heap = hearth_heap_new (s_moved, s_where);
    srand (6);
    for (int round = 0; round < 20000; round++) {
        uintptr_t item = (uintptr_t) (rand () % S_ITEMS);
        if (s_in[item])
            s_remove (heap, item);
        else
            s_push (heap, item, rand () % 1000);    /* with repeats        */
        if (round % 97 == 0)
            s_check_heap (heap);
        if (hearth_heap_size (heap)) {
            int64_t least = INT64_MAX;
            for (size_t i = 0; i < S_ITEMS; i++)
                if (s_in[i] && s_key[i] < least)
                    least = s_key[i];
            if (hearth_heap_key (heap, 0) != least) {
                CHECK_INT (hearth_heap_key (heap, 0), least);
                break;
            }
        }
    }
    s_check_heap (heap);
    hearth_heap_destroy (&heap);
}

int
main (void)
{
    RUN (test_empty);
    RUN (test_order);
    RUN (test_remove_anywhere);
    RUN (test_reserve);
    RUN (test_random);
    return HEARTH_TEST_RESULT;
}
