/*  hearth_supervisor - a set of child processes kept alive: started, reaped,
    restarted when they die (after the delay hearth_restart decides, the
    policy hearth-worker uses too; crash loops are logged, never spun), and
    stopped in the order the caller asks (`hearth up` stops the broker
    first, while its workers keep serving what it accepted, then them).

    Each child runs in its own process group (so a terminal's Ctrl-C reaches
    only `hearth up`, which then stops the children in order) and gets
    SIGTERM if `hearth up` itself dies (PR_SET_PDEATHSIG), so a killed
    supervisor never leaves a mesh behind. Single-threaded: call every
    function from one thread.
*/
#ifndef HEARTH_SUPERVISOR_H_INCLUDED
#define HEARTH_SUPERVISOR_H_INCLUDED

#include <stdbool.h>
#include <sys/types.h>

typedef struct _hearth_supervisor_t hearth_supervisor_t;

/*  Creates an empty supervisor. Returns NULL out of memory.                */
hearth_supervisor_t *hearth_supervisor_new (void);

/*  Stops every child still running (SIGTERM, then SIGKILL after
    grace_ms) and frees the supervisor. Idempotent.                          */
void hearth_supervisor_destroy (hearth_supervisor_t **self_p, int grace_ms);

/*  Adds a child, not started. name is for the log; path is the program
    to execute (absolute, or relative to directory); argv its arguments
    (argv[0] included, NULL-terminated); directory its working directory
    (NULL: ours); env its whole environment ("K=V", NULL-terminated; NULL:
    ours). All are copied. Returns the child's index, or -1 out of memory.   */
int hearth_supervisor_add (hearth_supervisor_t *self, const char *name,
                           const char *path, char *const *argv,
                           const char *directory, char *const *env);

/*  Starts child index now (it must not be running). Returns 0, or -1 if
    fork failed (a restart is then scheduled as if it had died).             */
int hearth_supervisor_start (hearth_supervisor_t *self, int index);

/*  Reaps children that died and restarts those whose backoff is over.
    Never blocks. Call at least every 100 ms.                                */
void hearth_supervisor_tick (hearth_supervisor_t *self);

/*  Stops children [first, first + count): SIGTERM to each, then waits up to
    grace_ms for all of them before SIGKILL to their process groups. They
    are not restarted afterwards. The other children stay supervised while
    it waits (reaped and restarted as by tick).                              */
void hearth_supervisor_stop (hearth_supervisor_t *self, int first, int count,
                             int grace_ms);

/*  The pid of child index, or 0 if it is not running.                      */
pid_t hearth_supervisor_pid (const hearth_supervisor_t *self, int index);

/*  How many times child index has been restarted.                          */
int hearth_supervisor_restarts (const hearth_supervisor_t *self, int index);

/*  Number of children added.                                               */
int hearth_supervisor_size (const hearth_supervisor_t *self);

#endif
