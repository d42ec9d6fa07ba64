/*  bench_proc - forked children with a readiness pipe. See bench_proc.h. */
#include "bench_proc.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hearth_clock.h"

static void
s_stop_signals (sigset_t *set)
{
    sigemptyset (set);
    sigaddset (set, SIGTERM);
    sigaddset (set, SIGINT);
}

/*  Runs in the child and never returns. _exit, not exit: the parent's
    atexit handlers and stdio buffers are the parent's business.             */
static void
s_child (bench_child_fn *fn, void *arg, int ready_fd)
{
    /*  Blocked before any thread exists, so every thread inherits the mask
        and the signal waits, pending, for bench_proc_stopping.              */
    sigset_t set;
    s_stop_signals (&set);
    sigprocmask (SIG_BLOCK, &set, NULL);
    prctl (PR_SET_PDEATHSIG, SIGKILL);
    if (getppid () == 1)
        _exit (1);              /* the parent died before prctl */
    int rc = fn (arg, ready_fd);
    close (ready_fd);
    _exit (rc);
}

/*  Reads the ready line, bounded by timeout_ms. Returns 0 or -1.           */
static int
s_read_line (int fd, char *line, size_t size, int timeout_ms)
{
    size_t used = 0;
    int64_t deadline = hearth_clock_ms () + timeout_ms;
    while (used + 1 < size) {
        int64_t left = deadline - hearth_clock_ms ();
        struct pollfd item = { .fd = fd, .events = POLLIN };
        if (left <= 0 || poll (&item, 1, (int) left) <= 0)
            return -1;
        ssize_t got = read (fd, line + used, 1);
        if (got <= 0)
            return -1;          /* the child exited without a line */
        if (line[used] == '\n') {
            line[used] = 0;
            return 0;
        }
        used++;
    }
    return -1;
}

pid_t
bench_proc_start (bench_child_fn *fn, void *arg, char *line, size_t size,
                  int timeout_ms)
{
    int fds[2];
    if (pipe (fds))
        return -1;
    /*  Flushed so the child's copy of the stdio buffers is empty.          */
    fflush (stdout);
    fflush (stderr);
    pid_t pid = fork ();
    if (pid < 0) {
        close (fds[0]);
        close (fds[1]);
        return -1;
    }
    if (pid == 0) {
        close (fds[0]);
        s_child (fn, arg, fds[1]);
    }
    close (fds[1]);
    int rc = s_read_line (fds[0], line, size, timeout_ms);
    close (fds[0]);
    if (rc) {
        bench_proc_stop (pid, 2000);
        return -1;
    }
    return pid;
}

/*  Waits up to timeout_ms for pid to exit; returns its wait status or -1. */
static int
s_reap (pid_t pid, int timeout_ms)
{
    int64_t deadline = hearth_clock_ms () + timeout_ms;
    while (true) {
        int status;
        pid_t done = waitpid (pid, &status, WNOHANG);
        if (done == pid)
            return status;
        if (done < 0 && errno != EINTR)
            return -1;
        if (hearth_clock_ms () >= deadline)
            return -1;
        nanosleep (&(struct timespec) { 0, 5 * 1000 * 1000 }, NULL);
    }
}

int
bench_proc_stop (pid_t pid, int timeout_ms)
{
    if (pid <= 0)
        return -1;
    kill (pid, SIGTERM);
    int status = s_reap (pid, timeout_ms);
    if (status == -1) {
        kill (pid, SIGKILL);
        s_reap (pid, 5000);
        return -1;
    }
    return WIFEXITED (status) ? WEXITSTATUS (status) : -1;
}

int
bench_proc_ready (int ready_fd, const char *text)
{
    size_t len = strlen (text);
    char line[512];
    if (len + 1 > sizeof line)
        return -1;
    memcpy (line, text, len);
    line[len] = '\n';
    return write (ready_fd, line, len + 1) == (ssize_t) (len + 1) ? 0 : -1;
}

bool
bench_proc_stopping (int wait_ms)
{
    sigset_t set;
    s_stop_signals (&set);
    struct timespec wait = { wait_ms / 1000, (long) (wait_ms % 1000) * 1000000L };
    while (true) {
        int signo = sigtimedwait (&set, NULL, &wait);
        if (signo > 0)
            return true;
        if (errno != EINTR)
            return false;       /* EAGAIN: the wait passed quietly */
    }
}
