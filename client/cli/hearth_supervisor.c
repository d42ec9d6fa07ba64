/*  hearth_supervisor - child processes kept alive. See the header.

    Between fork and exec the child calls only async-signal-safe functions:
    `hearth up` holds a ZeroMQ context whose I/O threads may own the malloc
    lock at the moment we fork. So everything the child needs (path, argv,
    environment, directory) is built in the parent beforehand.
*/
#include "hearth_supervisor.h"
#include "hearth_cli_strv.h"
#include "hearth_clock.h"
#include "hearth_log.h"
#include "hearth_restart.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

typedef struct {
    char *name;
    char *path;
    char *directory;                /* or NULL                              */
    char **argv;
    char **env;                     /* or NULL: inherit ours                */
    pid_t pid;                      /* 0 when not running                   */
    bool stopped;                   /* by the caller: never restart         */
    int64_t restart_at_ms;          /* 0: no restart scheduled              */
    int restarts;
    hearth_restart_t *restart;      /* when to start it again               */
} s_child_t;

struct _hearth_supervisor_t {
    s_child_t *children;
    int size, max;
};

/* ------------------------------------------------------------- helpers */

static void
s_sleep_ms (int ms)
{
    struct timespec ts = { ms / 1000, (long) (ms % 1000) * 1000000L };
    while (nanosleep (&ts, &ts) && errno == EINTR)
        ;
}

static void
s_child_free (s_child_t *child)
{
    free (child->name);
    free (child->path);
    free (child->directory);
    hearth_cli_strv_free (&child->argv);
    hearth_cli_strv_free (&child->env);
    hearth_restart_destroy (&child->restart);
}

/* ----------------------------------------------------------------- API */

hearth_supervisor_t *
hearth_supervisor_new (void)
{
    return calloc (1, sizeof (hearth_supervisor_t));
}

void
hearth_supervisor_destroy (hearth_supervisor_t **self_p, int grace_ms)
{
    hearth_supervisor_t *self = *self_p;
    if (!self)
        return;
    hearth_supervisor_stop (self, 0, self->size, grace_ms);
    for (int i = 0; i < self->size; i++)
        s_child_free (&self->children[i]);
    free (self->children);
    free (self);
    *self_p = NULL;
}

int
hearth_supervisor_add (hearth_supervisor_t *self, const char *name,
                       const char *path, char *const *argv,
                       const char *directory, char *const *env)
{
    if (self->size == self->max) {
        int max = self->max ? self->max * 2 : 8;
        s_child_t *bigger = realloc (self->children, max * sizeof *bigger);
        if (!bigger)
            return -1;
        self->children = bigger;
        self->max = max;
    }
    s_child_t *child = &self->children[self->size];
    memset (child, 0, sizeof *child);
    child->name = strdup (name);
    child->restart = hearth_restart_new (name);
    child->path = strdup (path);
    child->directory = directory ? strdup (directory) : NULL;
    if (!child->name || !child->path || (directory && !child->directory)
    ||  !child->restart
    ||  hearth_cli_strv_dup (argv, &child->argv) || !child->argv
    ||  hearth_cli_strv_dup (env, &child->env)) {
        s_child_free (child);
        return -1;
    }
    return self->size++;
}

/*  In the forked child: only async-signal-safe calls from here on.        */
static void
s_exec (const s_child_t *child, pid_t parent, int devnull)
{
    setpgid (0, 0);
    /*  If `hearth up` dies, so does the mesh; the getppid check closes the
        race where it died before prctl took effect.                        */
    prctl (PR_SET_PDEATHSIG, SIGTERM);
    if (getppid () != parent)
        _exit (127);
    signal (SIGPIPE, SIG_DFL);
    signal (SIGINT, SIG_DFL);
    signal (SIGTERM, SIG_DFL);
    sigset_t none;
    sigemptyset (&none);
    sigprocmask (SIG_SETMASK, &none, NULL);
    if (devnull >= 0)
        dup2 (devnull, STDIN_FILENO);
    static const char chdir_failed[] = "hearth up: child cannot enter its "
                                       "directory\n";
    static const char exec_failed[] = "hearth up: child cannot execute its "
                                      "program\n";
    if (child->directory && chdir (child->directory)) {
        (void) !write (STDERR_FILENO, chdir_failed, sizeof chdir_failed - 1);
        _exit (127);
    }
    execve (child->path, child->argv, child->env ? child->env : environ);
    (void) !write (STDERR_FILENO, exec_failed, sizeof exec_failed - 1);
    _exit (127);
}

/*  Schedules the next start of a child that died (or never started).     */
static void
s_schedule_restart (s_child_t *child, int64_t now)
{
    child->restart_at_ms = now + hearth_restart_died (child->restart, now);
}

int
hearth_supervisor_start (hearth_supervisor_t *self, int index)
{
    s_child_t *child = &self->children[index];
    if (child->pid)
        return 0;
    int devnull = open ("/dev/null", O_RDONLY | O_CLOEXEC);
    pid_t parent = getpid ();
    pid_t pid = fork ();
    if (pid == 0)
        s_exec (child, parent, devnull);
    if (devnull >= 0)
        close (devnull);
    int64_t now = hearth_clock_ms ();
    hearth_restart_started (child->restart, now);
    child->restart_at_ms = 0;
    if (pid < 0) {
        hearth_log_error ("%s: cannot fork: %s", child->name, strerror (errno));
        s_schedule_restart (child, now);
        return -1;
    }
    setpgid (pid, pid);         /* as the child does: whoever runs first   */
    child->pid = pid;
    hearth_log_debug ("%s: started (pid %d)", child->name, (int) pid);
    return 0;
}

/*  The death's text; exit 127 is what execve failing in s_exec (or a
    shell not finding the command) looks like.                              */
static void
s_describe_status (int status, char *text, size_t size)
{
    hearth_restart_describe (status, text, size);
    if (WIFEXITED (status) && WEXITSTATUS (status) == 127)
        snprintf (text, size, "exited with status 127 (cannot execute, or "
                  "command not found)");
}

static s_child_t *
s_child_by_pid (hearth_supervisor_t *self, pid_t pid)
{
    for (int i = 0; i < self->size; i++)
        if (self->children[i].pid == pid)
            return &self->children[i];
    return NULL;
}

void
hearth_supervisor_tick (hearth_supervisor_t *self)
{
    int status;
    pid_t pid;
    int64_t now = hearth_clock_ms ();
    while ((pid = waitpid (-1, &status, WNOHANG)) > 0) {
        s_child_t *child = s_child_by_pid (self, pid);
        if (!child)
            continue;
        child->pid = 0;
        if (child->stopped) {
            /*  Anything a stopped child left in its group goes with it.    */
            kill (-pid, SIGKILL);
            continue;
        }
        char how[128];
        s_describe_status (status, how, sizeof how);
        s_schedule_restart (child, now);
        hearth_log_warn ("%s (pid %d) %s; restarting in %d ms", child->name,
                         (int) pid, how, (int) (child->restart_at_ms - now));
    }
    for (int i = 0; i < self->size; i++) {
        s_child_t *child = &self->children[i];
        if (!child->pid && !child->stopped && child->restart_at_ms
        &&  now >= child->restart_at_ms) {
            child->restarts++;
            hearth_supervisor_start (self, i);
        }
    }
}

/*  True while a child in the range is running.                         */
static bool
s_any_running (const hearth_supervisor_t *self, int first, int count)
{
    for (int i = first; i < first + count; i++)
        if (self->children[i].pid)
            return true;
    return false;
}

void
hearth_supervisor_stop (hearth_supervisor_t *self, int first, int count,
                        int grace_ms)
{
    for (int i = first; i < first + count; i++) {
        s_child_t *child = &self->children[i];
        child->stopped = true;
        if (child->pid)
            kill (child->pid, SIGTERM);
    }
    /*  The tick reaps them, and meanwhile keeps the rest supervised: the
        workers that serve a draining broker are restarted if they die.    */
    int64_t deadline = hearth_clock_ms () + grace_ms;
    while (true) {
        hearth_supervisor_tick (self);
        if (!s_any_running (self, first, count)
        ||  hearth_clock_ms () >= deadline)
            break;
        s_sleep_ms (20);
    }
    for (int i = first; i < first + count; i++) {
        s_child_t *child = &self->children[i];
        if (!child->pid)
            continue;
        hearth_log_warn ("%s (pid %d) did not stop within %d ms: killed",
                         child->name, (int) child->pid, grace_ms);
        kill (-child->pid, SIGKILL);
        kill (child->pid, SIGKILL);
        waitpid (child->pid, NULL, 0);
        child->pid = 0;
    }
}

pid_t
hearth_supervisor_pid (const hearth_supervisor_t *self, int index)
{
    return self->children[index].pid;
}

int
hearth_supervisor_restarts (const hearth_supervisor_t *self, int index)
{
    return self->children[index].restarts;
}

int
hearth_supervisor_size (const hearth_supervisor_t *self)
{
    return self->size;
}
