/*  hw_child - one child process of hearth-worker: spawn, talk, kill, reap.

    The child runs in its own process group (so a kill reaches whatever it
    started), with its stdin, stdout and stderr on non-blocking O_CLOEXEC
    pipes. Every wait is a poll() with a deadline and a stop flag checked
    at least every HW_CHILD_TICK_MS: nothing here blocks forever on a child.

    The child's stderr is read whenever we wait on it, logged line by line
    as "[SERVICE pid N] ..." and its last HW_CHILD_TAIL bytes kept for
    error texts.

    Not thread-safe: one thread at a time owns a child (hw_slot guards it).
*/
#ifndef HW_CHILD_H_INCLUDED
#define HW_CHILD_H_INCLUDED

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "hw_framing.h"

#define HW_CHILD_TAIL      2048     /* bytes of stderr kept for errors      */
#define HW_CHILD_TICK_MS   100      /* longest poll between stop checks     */
#define HW_CHILD_GRACE_MS  1000     /* SIGTERM to SIGKILL                   */

typedef struct _hw_child_t hw_child_t;

/*  How an exchange with the child ended.                                   */
typedef enum {
    HW_CHILD_OK = 0,        /* a reply came                                 */
    HW_CHILD_TIMEOUT,       /* the deadline passed first                    */
    HW_CHILD_DIED,          /* EOF on stdout or a write to a closed stdin   */
    HW_CHILD_GARBAGE,       /* the reply is not a valid frame               */
    HW_CHILD_STOPPED        /* the stop flag was raised                     */
} hw_child_result_t;

/*  Starts argv (argv[0] looked up in PATH) in a new process group. service
    names it in log lines (not copied: must outlive the child). Returns the
    child (caller owns it), or NULL if it could not be started (logged).    */
hw_child_t *hw_child_spawn (char *const *argv, const char *service);

/*  Kills the child if it still runs (hw_child_kill), closes its pipes and
    frees it. Idempotent.                                                   */
void hw_child_destroy (hw_child_t **self_p);

pid_t hw_child_pid (const hw_child_t *self);

/*  Bytes the child wrote on stdout that are not yet consumed (part of a
    reply still being written, or output nobody asked for).               */
size_t hw_child_buffered (const hw_child_t *self);

/*  Reads stdout lines until one equals ready_line (a trailing "\r" and
    surrounding blanks ignored); lines before it are logged. Bytes after it
    stay buffered for the first reply. Returns HW_CHILD_OK, HW_CHILD_TIMEOUT
    (deadline_at, monotonic ms), HW_CHILD_DIED or HW_CHILD_STOPPED.          */
hw_child_result_t hw_child_wait_ready (hw_child_t *self, const char *ready_line,
                                       int64_t deadline_at, atomic_bool *stop);

/*  Writes body in framing and reads one reply of at most max bytes. On
    HW_CHILD_OK *reply is a malloc'd buffer the caller owns (*reply_size
    bytes, may be 0). Returns as soon as the deadline passes or stop is set;
    the child is then out of step and must be killed.                        */
hw_child_result_t hw_child_exchange (hw_child_t *self, hw_framing_t framing,
                                     const void *body, size_t size, size_t max,
                                     int64_t deadline_at, atomic_bool *stop,
                                     void **reply, size_t *reply_size);

/*  Per-request mode: writes body, closes stdin and reads all of stdout up
    to EOF (at most max bytes, else HW_CHILD_GARBAGE), then waits for the
    exit. HW_CHILD_OK means exit status 0 with the output in *reply (caller
    owns it); HW_CHILD_DIED means any other exit (see hw_child_describe).  */
hw_child_result_t hw_child_run_once (hw_child_t *self, const void *body,
                                     size_t size, size_t max,
                                     int64_t deadline_at, atomic_bool *stop,
                                     void **reply, size_t *reply_size);

/*  Reads what the child wrote to stderr, without waiting. Also notes if it
    wrote unasked to stdout or closed it. Returns true if the child is
    still running and in step (no exit, no stdout EOF, no stray output).    */
bool hw_child_check (hw_child_t *self);

/*  After a death: waits up to wait_ms for the exit and for stderr to close,
    so the exit status and the last stderr lines are known.                 */
void hw_child_collect (hw_child_t *self, int wait_ms);

/*  Sends SIGTERM to the child's group and returns at once (a hung child
    is told to go while its caller gets its answer; hw_child_kill finishes
    the job).                                                               */
void hw_child_terminate (hw_child_t *self);

/*  SIGTERM to the group, up to HW_CHILD_GRACE_MS for the exit, then
    SIGKILL; reaps. Safe to call more than once.                            */
void hw_child_kill (hw_child_t *self);

/*  "exited with status 3", "killed by signal 9 (Killed)" or "still
    running", into buf; returns buf.                                        */
const char *hw_child_describe (const hw_child_t *self, char *buf,
                               size_t bufsize);

/*  The last HW_CHILD_TAIL bytes of stderr, control characters other than
    newline replaced, NUL-terminated, into buf; returns buf.                 */
const char *hw_child_tail (const hw_child_t *self, char *buf, size_t bufsize);

/*  The first bytes of what the child wrote on stdout and nobody consumed
    (after HW_CHILD_GARBAGE: the garbage), control characters replaced, in
    buf (NUL-terminated). Returns buf.                                       */
const char *hw_child_stdout_sample (const hw_child_t *self, char *buf,
                                    size_t bufsize);

#endif
