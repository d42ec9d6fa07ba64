/*  Unit tests of hb_service's service-time estimate (PROTOCOL.md 5.1): when
    it declines to judge, the figure it gives, and how it learns.           */
#include <stdlib.h>
#include "hb_broker.h"
#include "hearth_test.h"

static void
s_learn (hb_service_t *service, int replies, int64_t run_ms)
{
    for (int i = 0; i < replies; i++)
        hb_service_completed (service, run_ms);
}

static void
test_no_judgement_without_grounds (void)
{
    hb_service_t *service = hb_service_new ("slow");
    REQUIRE (service);
    service->credit = 1;
    service->in_flight = 1;
    /*  Cold: fewer than HB_SERVICE_ESTIMATE_MIN replies seen.             */
    s_learn (service, HB_SERVICE_ESTIMATE_MIN - 1, 100);
    CHECK_INT (hb_service_expected_ms (service), -1);
    s_learn (service, 1, 100);
    CHECK_INT (hb_service_expected_ms (service), 200);
    /*  A worker with free credit: the request would not wait.             */
    int worker = 0;
    void *handle = zlistx_add_end (service->ready, &worker);
    CHECK_INT (hb_service_expected_ms (service), -1);
    zlistx_delete (service->ready, handle);
    /*  No workers (linger decides): no credit.                            */
    service->credit = 0;
    service->in_flight = 0;
    CHECK_INT (hb_service_expected_ms (service), -1);
    hb_service_destroy (&service);
}

static void
test_wait_is_the_work_ahead_at_the_pace_of_the_credit (void)
{
    hb_service_t *service = hb_service_new ("slow");
    REQUIRE (service);
    s_learn (service, HB_SERVICE_ESTIMATE_MIN, 50);
    hb_job_t jobs[6];
    memset (jobs, 0, sizeof jobs);
    for (int i = 0; i < 6; i++)
        REQUIRE (hb_service_enqueue (service, &jobs[i]) == 0);
    /*  Two workers of credit 2, all four held: (6 + 4) x 50 / 4 + 50.      */
    service->credit = 4;
    service->in_flight = 4;
    CHECK_INT (hb_service_expected_ms (service), 175);
    /*  One worker of credit 1: each job ahead costs a whole run.          */
    service->credit = 1;
    service->in_flight = 1;
    CHECK_INT (hb_service_expected_ms (service), 7 * 50 + 50);
    while (hb_service_dequeue (service))
        ;
    hb_service_destroy (&service);
}

static void
test_estimate_follows_the_service (void)
{
    hb_service_t *service = hb_service_new ("drifts");
    REQUIRE (service);
    service->credit = 1;
    /*  The first reply seeds the mean; one slow reply moves it by 1/8.     */
    s_learn (service, HB_SERVICE_ESTIMATE_MIN, 80);
    CHECK_INT (hb_service_expected_ms (service), 80);
    hb_service_completed (service, 880);
    CHECK_INT (hb_service_expected_ms (service), 180);
    /*  A service that slows for good shows within a few dozen replies.   */
    s_learn (service, 40, 400);
    CHECK (hb_service_expected_ms (service) >= 390);
    CHECK (hb_service_expected_ms (service) <= 400);
    /*  A reply timed at less than nothing (clock steps) counts as 0.     */
    s_learn (service, 100, -5);
    CHECK_INT (hb_service_expected_ms (service), 0);
    hb_service_destroy (&service);
}

int
main (void)
{
    RUN (test_no_judgement_without_grounds);
    RUN (test_wait_is_the_work_ahead_at_the_pace_of_the_credit);
    RUN (test_estimate_follows_the_service);
    return HEARTH_TEST_RESULT;
}
