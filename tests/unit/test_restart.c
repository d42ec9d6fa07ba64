/*  Unit tests for hearth_restart, the restart policy of `hearth up` and
    hearth-worker, on a made-up clock.                                      */
#include "hearth_restart.h"
#include "hearth_test.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

/*  Starts and kills the child after it ran ran_ms; returns the delay.     */
static int
s_life (hearth_restart_t *restart, int64_t *now, int ran_ms)
{
    hearth_restart_started (restart, *now);
    *now += ran_ms;
    return hearth_restart_died (restart, *now);
}

/*  Quick deaths: 100 ms doubling, capped at 30 s (hearth up's test reads
    these in its log as 100, 200, 400, 800, 1600).                          */
static void
test_doubling (void)
{
    hearth_restart_t *restart = hearth_restart_new ("svc");
    CHECK (restart);
    int64_t now = 1000;
    static const int expected[] = { 100, 200, 400, 800, 1600, 3200, 6400,
                                    12800, 25600, 30000, 30000 };
    for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++) {
        int delay = s_life (restart, &now, 10);
        CHECK_INT (delay, expected[i]);
        now += delay;
    }
    hearth_restart_destroy (&restart);
    CHECK (restart == NULL);
    hearth_restart_destroy (&restart);          /* idempotent              */
}

/*  A child that lived HEARTH_RESTART_HEALTHY_MS was not a crash.           */
static void
test_healthy_by_time (void)
{
    hearth_restart_t *restart = hearth_restart_new ("svc");
    int64_t now = 0;
    CHECK_INT (s_life (restart, &now, 5), 100);
    CHECK_INT (s_life (restart, &now, 5), 200);
    CHECK_INT (s_life (restart, &now, 5), 400);
    CHECK_INT (s_life (restart, &now, HEARTH_RESTART_HEALTHY_MS - 1), 800);
    CHECK_INT (s_life (restart, &now, HEARTH_RESTART_HEALTHY_MS), 100);
    CHECK_INT (s_life (restart, &now, 5), 200);
    hearth_restart_destroy (&restart);
}

/*  Marked healthy (hearth-worker: it answered a request), a short life is
    not a crash either; the mark lasts one life only.                       */
static void
test_healthy_by_mark (void)
{
    hearth_restart_t *restart = hearth_restart_new ("svc");
    int64_t now = 0;
    CHECK_INT (s_life (restart, &now, 5), 100);
    CHECK_INT (s_life (restart, &now, 5), 200);
    hearth_restart_started (restart, now);
    hearth_restart_healthy (restart);
    now += 5;
    CHECK_INT (hearth_restart_died (restart, now), 100);
    CHECK_INT (s_life (restart, &now, 5), 200);
    /*  A mark from before a start does not carry over to it.               */
    hearth_restart_healthy (restart);
    CHECK_INT (s_life (restart, &now, 5), 400);
    hearth_restart_destroy (&restart);
}

/*  Five deaths within 30 s are a crash loop, reported once, until a
    healthy child ends it; a failed start (no time alive) counts too.      */
static void
test_crash_loop (void)
{
    hearth_restart_t *restart = hearth_restart_new ("svc");
    int64_t now = 0;
    for (int i = 0; i < HEARTH_RESTART_LOOP_DEATHS - 1; i++) {
        now += s_life (restart, &now, 0);
        CHECK (!hearth_restart_looping (restart));
    }
    now += s_life (restart, &now, 0);
    CHECK (hearth_restart_looping (restart));
    for (int i = 0; i < 3; i++) {
        now += s_life (restart, &now, 0);
        CHECK (hearth_restart_looping (restart));
    }
    CHECK_INT (s_life (restart, &now, HEARTH_RESTART_HEALTHY_MS), 100);
    CHECK (!hearth_restart_looping (restart));
    hearth_restart_destroy (&restart);
}

/*  Deaths further apart than the window are no loop, however many.        */
static void
test_no_loop_when_spread (void)
{
    hearth_restart_t *restart = hearth_restart_new ("svc");
    int64_t now = 0;
    int gap = HEARTH_RESTART_LOOP_MS / (HEARTH_RESTART_LOOP_DEATHS - 1);
    for (int i = 0; i < 3 * HEARTH_RESTART_LOOP_DEATHS; i++) {
        s_life (restart, &now, 0);
        now += gap;
        CHECK (!hearth_restart_looping (restart));
    }
    hearth_restart_destroy (&restart);
}

/*  The status of a real child that exits with code, or kills itself with
    signum when code is negative.                                           */
static int
s_status_of (int code, int signum)
{
    pid_t pid = fork ();
    if (pid == 0) {
        if (code < 0)
            raise (signum);
        _exit (code);
    }
    int status = 0;
    CHECK_INT (waitpid (pid, &status, 0), pid);
    return status;
}

static void
test_describe (void)
{
    char text[96];
    CHECK_STR (hearth_restart_describe (s_status_of (3, 0), text, sizeof text),
               "exited with status 3");
    CHECK_STR (hearth_restart_describe (s_status_of (0, 0), text, sizeof text),
               "exited with status 0");
    CHECK_STR (hearth_restart_describe (s_status_of (-1, SIGKILL), text,
                                        sizeof text),
               "killed by signal 9 (Killed)");
    /*  Cut to the buffer, never past it.                                   */
    CHECK_STR (hearth_restart_describe (s_status_of (3, 0), text, 7),
               "exited");
}

int
main (void)
{
    RUN (test_doubling);
    RUN (test_healthy_by_time);
    RUN (test_healthy_by_mark);
    RUN (test_crash_loop);
    RUN (test_no_loop_when_spread);
    RUN (test_describe);
    return HEARTH_TEST_RESULT;
}
