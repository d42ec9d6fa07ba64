/*  hb_timer - what the broker does by the clock: deadline expiry, and the
    tick (heartbeats and liveness of workers, linger of worker-less
    services), and how long the loop may sleep before the next of them.
*/
#include "hb_broker.h"

/*  Longest sleep, so a stop from another thread is seen quickly.           */
#define S_MAX_WAIT_MS 100

void
hb_timer_expire (hearth_broker_t *self)
{
    hb_job_t *job;
    while ((job = hb_jobs_earliest (self->jobs)) && job->deadline_at <= self->now) {
        hb_jobs_forget_deadline (self->jobs, job);
        self->stats.expired++;
        int64_t waited = self->now - job->received_at;
        if (job->pipeline && job->sink != HB_SINK_PIPELINE)
            /*  A client's pipeline: it answers, naming the stage.          */
            hb_pipeline_expire (self, job);
        else
        if (!job->worker)
            hb_reply_fail (self, job, HEARTH_STATUS_TIMEOUT,
                           "deadline exceeded after %lld ms in the queue of '%s'",
                           (long long) waited, job->service->name);
        else
            /*  At a worker: answer now; the job stays held (and its credit
                spent) until the worker replies or is removed.               */
            hb_reply_error (self, job, HEARTH_STATUS_TIMEOUT,
                            "deadline exceeded after %lld ms, %lld of them at "
                            "worker %s", (long long) waited,
                            (long long) (self->now - job->dispatched_at),
                            job->worker->id);
    }
}

void
hb_timer_tick (hearth_broker_t *self)
{
    self->next_tick = self->now + self->config.heartbeat_ms;
    hb_worker_check_all (self);
    hb_service_linger_all (self);
}

int
hb_timer_wait_ms (hearth_broker_t *self, int64_t now)
{
    int64_t due = self->next_tick;
    hb_job_t *earliest = hb_jobs_earliest (self->jobs);
    if (earliest && earliest->deadline_at < due)
        due = earliest->deadline_at;
    if (self->draining && self->drain_until < due)
        due = self->drain_until;
    int64_t wait = due - now;
    return wait < 0 ? 0 : wait > S_MAX_WAIT_MS ? S_MAX_WAIT_MS : (int) wait;
}
