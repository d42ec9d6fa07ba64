/*  bench_proc - the benchmark's child processes.

    The broker, the workers and the raw echo server each run in a process
    of their own, forked from hearth-bench before the parent makes any
    ZeroMQ context (contexts do not survive fork). A child says it is ready
    by writing one line (an endpoint, say) to a pipe; the parent stops it
    with SIGTERM. Children die with the parent, so a crashed run leaves no
    stray processes behind.
*/
#ifndef BENCH_PROC_H_INCLUDED
#define BENCH_PROC_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/*  The body of a child: runs with SIGTERM and SIGINT blocked (see
    bench_proc_stopping), writes its ready line with bench_proc_ready and
    returns the exit code.                                                   */
typedef int (bench_child_fn) (void *arg, int ready_fd);

/*  Forks a child running fn (arg) and waits up to timeout_ms for its ready
    line, copied NUL-terminated without its newline into line (size bytes).
    Returns the child's pid, or -1 (the child is then stopped and reaped).  */
pid_t bench_proc_start (bench_child_fn *fn, void *arg, char *line,
                        size_t size, int timeout_ms);

/*  Stops a child: SIGTERM, up to timeout_ms for it to exit, then SIGKILL.
    Returns its exit code, or -1 if it had to be killed or died of a signal. */
int bench_proc_stop (pid_t pid, int timeout_ms);

/*  In a child: writes text and a newline to ready_fd. Returns 0 or -1.     */
int bench_proc_ready (int ready_fd, const char *text);

/*  In a child: true once SIGTERM or SIGINT has arrived, waiting up to
    wait_ms for one (0: just look).                                           */
bool bench_proc_stopping (int wait_ms);

#endif
