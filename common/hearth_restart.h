/*  hearth_restart - the one restart policy of Hearth's supervisors: `hearth
    up` for the processes of a mesh (client/cli/hearth_supervisor) and
    hearth-worker for the children of its slots (workers/host/hw_slot).
    They differ in what they supervise (a process they spawn, a child on
    pipes behind a worker); when to start the next one is decided here.

    - A child that dies is started again after a delay that doubles from
      HEARTH_RESTART_MIN_MS up to HEARTH_RESTART_MAX_MS.
    - A child that was healthy (ran HEARTH_RESTART_HEALTHY_MS, or was marked
      so, as hearth-worker marks one that answered a request) was not a
      crash: the delay starts over from HEARTH_RESTART_MIN_MS.
    - HEARTH_RESTART_LOOP_DEATHS deaths within HEARTH_RESTART_LOOP_MS are a
      crash loop: logged as an error once per loop ("NAME: crash loop: died
      5 times within 30 s; ..."), never spun; the loop ends with a healthy
      child.

    The caller passes the time (monotonic ms), so the policy is a plain
    function of what happened. Not thread-safe: one supervisor thread owns
    an instance. For programs only; not part of libhearth.
*/
#ifndef HEARTH_RESTART_H_INCLUDED
#define HEARTH_RESTART_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HEARTH_RESTART_MIN_MS       100
#define HEARTH_RESTART_MAX_MS       30000
#define HEARTH_RESTART_HEALTHY_MS   10000
#define HEARTH_RESTART_LOOP_DEATHS  5
#define HEARTH_RESTART_LOOP_MS      30000

typedef struct _hearth_restart_t hearth_restart_t;

/*  Creates the policy state of one child; name (copied) is for the log.
    Returns NULL out of memory.                                              */
hearth_restart_t *hearth_restart_new (const char *name);

/*  Frees it. Idempotent.                                                   */
void hearth_restart_destroy (hearth_restart_t **self_p);

/*  The child was started (or a start was attempted) at now.               */
void hearth_restart_started (hearth_restart_t *self, int64_t now);

/*  The child has proved itself healthy, however short its life turns out. */
void hearth_restart_healthy (hearth_restart_t *self);

/*  The child died, or could not start, at now. Returns how many ms to wait
    before starting it again; logs a crash loop when one begins.            */
int hearth_restart_died (hearth_restart_t *self, int64_t now);

/*  True while a crash loop is under way (reported, not yet ended).         */
bool hearth_restart_looping (const hearth_restart_t *self);

/*  How a child ended, from its waitpid status, for the log line of its
    death: "exited with status 3", "killed by signal 9 (Killed)". Writes
    into buf (size bytes) and returns buf.                                   */
const char *hearth_restart_describe (int status, char *buf, size_t size);

#endif
