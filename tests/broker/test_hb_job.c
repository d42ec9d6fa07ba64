/*  Unit tests of hb_job: the slot table (ids, stale ids) and the deadline
    heap (order under random insertions and removals).                      */
#include <stdlib.h>
#include "hb_job.h"
#include "hearth_test.h"

static void
test_ids_are_unique_and_stale_ids_fail (void)
{
    hb_jobs_t *jobs = hb_jobs_new ();
    hb_job_t *a = hb_jobs_create (jobs, 100);
    uint64_t old_id = a->id;
    CHECK (old_id != 0);
    CHECK (hb_jobs_find (jobs, old_id) == a);
    hb_jobs_release (jobs, &a);
    CHECK (a == NULL);
    /*  The slot is reused, with a new generation: the old id must not
        reach the new job (a late reply after a resend).                     */
    hb_job_t *b = hb_jobs_create (jobs, 100);
    CHECK_INT ((uint32_t) b->id, (uint32_t) old_id);
    CHECK (b->id != old_id);
    CHECK (hb_jobs_find (jobs, old_id) == NULL);
    CHECK (hb_jobs_find (jobs, b->id) == b);
    CHECK (hb_jobs_find (jobs, 0) == NULL);
    CHECK (hb_jobs_find (jobs, UINT64_MAX) == NULL);
    CHECK_INT (hb_jobs_count (jobs), 1);
    hb_jobs_destroy (&jobs);
    CHECK (jobs == NULL);
    hb_jobs_destroy (&jobs);     /* idempotent */
}

static void
test_id_codec (void)
{
    uint8_t wire[8];
    uint64_t id = 0;
    hb_job_id_encode (0x0102030405060708ULL, wire);
    CHECK_INT (wire[0], 1);
    CHECK_INT (wire[7], 8);
    CHECK_INT (hb_job_id_decode (wire, 8, &id), 0);
    CHECK (id == 0x0102030405060708ULL);
    CHECK_INT (hb_job_id_decode (wire, 7, &id), -1);
    CHECK_INT (hb_job_id_decode (wire, 9, &id), -1);
}

static void
test_heap_orders_deadlines (void)
{
    enum { N = 2000 };
    hb_jobs_t *jobs = hb_jobs_new ();
    hb_job_t *all[N];
    srand (7);
    for (int i = 0; i < N; i++)
        all[i] = hb_jobs_create (jobs, rand () % 100000);
    /*  Remove a third at random: some from the heap only, some entirely.   */
    for (int i = 0; i < N; i += 3) {
        if (i % 2)
            hb_jobs_forget_deadline (jobs, all[i]);
        else
            hb_jobs_release (jobs, &all[i]);
    }
    int64_t last = -1;
    int popped = 0;
    hb_job_t *job;
    while ((job = hb_jobs_earliest (jobs))) {
        CHECK (job->deadline_at >= last);
        last = job->deadline_at;
        hb_jobs_forget_deadline (jobs, job);
        CHECK (job->heap_index == SIZE_MAX);
        popped++;
    }
    CHECK_INT (popped, N - (N + 2) / 3);
    CHECK_INT (hb_jobs_count (jobs), N - (N + 5) / 6);
    hb_jobs_destroy (&jobs);
}

static void
s_count (hb_job_t *job, void *arg)
{
    (void) job;
    (*(int *) arg)++;
}

static void
test_each_visits_live_jobs (void)
{
    hb_jobs_t *jobs = hb_jobs_new ();
    hb_job_t *a = hb_jobs_create (jobs, 1);
    hb_jobs_create (jobs, 2);
    hb_jobs_create (jobs, 3);
    hb_jobs_release (jobs, &a);
    int count = 0;
    hb_jobs_each (jobs, s_count, &count);
    CHECK_INT (count, 2);
    hb_jobs_destroy (&jobs);
}

int
main (void)
{
    RUN (test_ids_are_unique_and_stale_ids_fail);
    RUN (test_id_codec);
    RUN (test_heap_orders_deadlines);
    RUN (test_each_visits_live_jobs);
    return HEARTH_TEST_RESULT;
}
