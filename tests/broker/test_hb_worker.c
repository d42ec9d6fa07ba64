/*  Unit tests of hb_worker's states: every transition of hb_worker.h's
    diagram, with the ready-list membership and the service's counts each
    one must keep (a worker is in its service's ready list exactly while
    READY, once).                                                            */
#include <stdlib.h>
#include "hb_broker.h"
#include "hearth_test.h"

/*  How often worker appears in its service's ready list.                  */
static int
s_listed (hb_worker_t *worker)
{
    int count = 0;
    hb_worker_t *each = zlistx_first (worker->service->ready);
    for (; each; each = zlistx_next (worker->service->ready))
        count += each == worker;
    return count;
}

static hb_worker_t *
s_worker (hb_service_t *service, uint8_t id, size_t credit)
{
    hb_identity_t identity;
    hb_identity_set (&identity, &id, 1);
    hb_worker_t *worker = hb_worker_new (&identity, HB_PROTO_NATIVE);
    worker->credit = credit;
    worker->service = service;
    return worker;
}

static void
s_in_state (hb_worker_t *worker, hb_worker_state_t state, int line)
{
    if (worker->state != state)
        fprintf (stderr, "(line %d: %s, expected %s)\n", line,
                 hb_worker_state_name (worker->state),
                 hb_worker_state_name (state));
    CHECK_INT (worker->state, state);
    CHECK_INT (s_listed (worker), state == HB_WORKER_READY);
    CHECK ((worker->ready_handle != NULL) == (state == HB_WORKER_READY));
}
#define IN_STATE(worker, state) s_in_state ((worker), (state), __LINE__)

static void
test_new_worker_is_detached (void)
{
    hb_service_t *service = hb_service_new ("echo");
    hb_worker_t *worker = s_worker (service, 1, 1);
    IN_STATE (worker, HB_WORKER_DETACHED);
    CHECK_STR (hb_worker_state_name (HB_WORKER_DETACHED), "detached");
    CHECK_STR (hb_worker_state_name (HB_WORKER_RESTED), "rested");
    hb_worker_destroy (&worker);
    CHECK (worker == NULL);
    hb_worker_destroy (&worker);
    hb_service_destroy (&service);
}

static void
test_ready_full_and_back_by_credit (void)
{
    hb_service_t *service = hb_service_new ("echo");
    hb_worker_t *worker = s_worker (service, 1, 2);
    hb_job_t a = { 0 }, b = { 0 };
    hb_worker_set_state (worker, HB_WORKER_READY);
    IN_STATE (worker, HB_WORKER_READY);
    hb_worker_set_state (worker, HB_WORKER_READY);    /* no second entry */
    IN_STATE (worker, HB_WORKER_READY);
    CHECK_INT (hb_worker_hold (worker, &a), 0);
    IN_STATE (worker, HB_WORKER_READY);               /* one credit left */
    CHECK (a.worker == worker);
    CHECK_INT (service->in_flight, 1);
    CHECK_INT (hb_worker_hold (worker, &b), 0);
    IN_STATE (worker, HB_WORKER_FULL);
    CHECK_INT (hb_worker_credit_state (worker), HB_WORKER_FULL);
    hb_worker_release (worker, &a);
    IN_STATE (worker, HB_WORKER_READY);
    CHECK (a.worker == NULL && a.worker_handle == NULL);
    hb_worker_release (worker, &b);
    IN_STATE (worker, HB_WORKER_READY);
    CHECK_INT (service->in_flight, 0);
    hb_worker_set_state (worker, HB_WORKER_DETACHED);
    IN_STATE (worker, HB_WORKER_DETACHED);
    hb_worker_destroy (&worker);
    hb_service_destroy (&service);
}

static void
test_hold_keeps_least_recently_used_first (void)
{
    hb_service_t *service = hb_service_new ("echo");
    hb_worker_t *first = s_worker (service, 1, 5);
    hb_worker_t *second = s_worker (service, 2, 5);
    hb_job_t job = { 0 };
    hb_worker_set_state (first, HB_WORKER_READY);
    hb_worker_set_state (second, HB_WORKER_READY);
    CHECK (zlistx_first (service->ready) == first);
    hb_worker_hold (first, &job);
    CHECK (zlistx_first (service->ready) == second);
    CHECK (zlistx_last (service->ready) == first);
    hb_worker_release (first, &job);
    hb_worker_set_state (first, HB_WORKER_DETACHED);
    hb_worker_set_state (second, HB_WORKER_DETACHED);
    CHECK_INT (zlistx_size (service->ready), 0);
    hb_worker_destroy (&first);
    hb_worker_destroy (&second);
    hb_service_destroy (&service);
}

/*  The stranded worker (issue 6): rested while holding nothing, it must
    be ready again as soon as it is heard from.                              */
static void
test_rested_worker_is_ready_when_heard (void)
{
    hb_service_t *service = hb_service_new ("echo");
    hb_worker_t *worker = s_worker (service, 1, 1);
    hb_worker_set_state (worker, HB_WORKER_READY);
    hb_worker_set_state (worker, HB_WORKER_RESTED);
    IN_STATE (worker, HB_WORKER_RESTED);
    CHECK (hb_worker_heard (worker, 1234));
    CHECK_INT (worker->heard_at, 1234);
    IN_STATE (worker, HB_WORKER_READY);
    /*  Heard while ready: nothing changes.                                  */
    CHECK (!hb_worker_heard (worker, 1300));
    IN_STATE (worker, HB_WORKER_READY);
    CHECK_INT (worker->heard_at, 1300);
    hb_worker_set_state (worker, HB_WORKER_DETACHED);
    hb_worker_destroy (&worker);
    hb_service_destroy (&service);
}

/*  Rested while holding jobs: a job done keeps it resting (only a message
    shows it reads again), and being heard with its credit used makes it
    FULL, not READY.                                                         */
static void
test_rested_worker_holding_jobs (void)
{
    hb_service_t *service = hb_service_new ("echo");
    hb_worker_t *worker = s_worker (service, 1, 2);
    hb_job_t a = { 0 }, b = { 0 };
    hb_worker_set_state (worker, HB_WORKER_READY);
    hb_worker_hold (worker, &a);
    hb_worker_hold (worker, &b);
    IN_STATE (worker, HB_WORKER_FULL);
    hb_worker_set_state (worker, HB_WORKER_RESTED);
    IN_STATE (worker, HB_WORKER_RESTED);
    CHECK (!hb_worker_heard (worker, 10));
    IN_STATE (worker, HB_WORKER_FULL);
    hb_worker_set_state (worker, HB_WORKER_RESTED);
    hb_worker_release (worker, &a);
    IN_STATE (worker, HB_WORKER_RESTED);
    CHECK (hb_worker_heard (worker, 20));
    IN_STATE (worker, HB_WORKER_READY);
    hb_worker_release (worker, &b);
    hb_worker_set_state (worker, HB_WORKER_DETACHED);
    hb_worker_destroy (&worker);
    hb_service_destroy (&service);
}

static void
test_draining_gets_no_work_and_is_counted (void)
{
    hb_service_t *service = hb_service_new ("echo");
    hb_worker_t *worker = s_worker (service, 1, 3);
    hb_job_t a = { 0 };
    hb_worker_set_state (worker, HB_WORKER_READY);
    hb_worker_hold (worker, &a);
    hb_worker_set_state (worker, HB_WORKER_DRAINING);
    IN_STATE (worker, HB_WORKER_DRAINING);
    CHECK_INT (service->draining, 1);
    hb_worker_set_state (worker, HB_WORKER_DRAINING);
    CHECK_INT (service->draining, 1);
    /*  Neither a finished job nor a heartbeat brings it back.              */
    hb_worker_release (worker, &a);
    IN_STATE (worker, HB_WORKER_DRAINING);
    CHECK (!hb_worker_heard (worker, 5));
    IN_STATE (worker, HB_WORKER_DRAINING);
    hb_worker_set_state (worker, HB_WORKER_DETACHED);
    IN_STATE (worker, HB_WORKER_DETACHED);
    CHECK_INT (service->draining, 0);
    hb_worker_destroy (&worker);
    hb_service_destroy (&service);
}

static void
test_every_state_can_be_detached (void)
{
    hb_worker_state_t states[] = {
        HB_WORKER_READY, HB_WORKER_FULL, HB_WORKER_RESTED, HB_WORKER_DRAINING
    };
    hb_service_t *service = hb_service_new ("echo");
    for (size_t i = 0; i < sizeof states / sizeof states[0]; i++) {
        hb_worker_t *worker = s_worker (service, 1, 1);
        hb_worker_set_state (worker, HB_WORKER_READY);
        hb_worker_set_state (worker, states[i]);
        IN_STATE (worker, states[i]);
        hb_worker_set_state (worker, HB_WORKER_DETACHED);
        IN_STATE (worker, HB_WORKER_DETACHED);
        CHECK_INT (zlistx_size (service->ready), 0);
        CHECK_INT (service->draining, 0);
        hb_worker_destroy (&worker);
    }
    hb_service_destroy (&service);
}

int
main (void)
{
    RUN (test_new_worker_is_detached);
    RUN (test_ready_full_and_back_by_credit);
    RUN (test_hold_keeps_least_recently_used_first);
    RUN (test_rested_worker_is_ready_when_heard);
    RUN (test_rested_worker_holding_jobs);
    RUN (test_draining_gets_no_work_and_is_counted);
    RUN (test_every_state_can_be_detached);
    return HEARTH_TEST_RESULT;
}
