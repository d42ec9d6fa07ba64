/*  hw_child - one child process of hearth-worker.                         */
#define _GNU_SOURCE             /* pipe2 */
#include "hw_child.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>
#include "hearth_clock.h"
#include "hearth_log.h"
#include "hearth_restart.h"

extern char **environ;

#define S_LINE_MAX   512        /* stderr line logged in pieces past this   */
#define S_READ_CHUNK 65536
#define S_READY_MAX  4096       /* a ready line is short; longer output is
                                   logged and skipped                     */

struct _hw_child_t {
    const char *service;
    pid_t pid;
    int in, out, err;           /* our ends; -1 once closed                 */
    bool reaped;
    int status;                 /* waitpid status once reaped               */
    bool out_eof, stray;        /* stdout closed / written unasked          */
    uint8_t *buffer;            /* stdout bytes not yet consumed            */
    size_t size, capacity;
    char tail[HW_CHILD_TAIL];   /* ring of the last stderr bytes            */
    size_t tail_pos;            /* next write position                      */
    bool tail_full;
    char line[S_LINE_MAX + 1];  /* stderr line being assembled for the log  */
    size_t line_len;
};

/*  What is still to be written to stdin: up to three pieces.              */
typedef struct {
    const uint8_t *data[3];
    size_t size[3];
    int index;
    size_t done;
} s_output_t;

/* ------------------------------------------------------------- spawning */

static void
s_close (int *fd)
{
    if (*fd >= 0)
        close (*fd);
    *fd = -1;
}

static int
s_pipes (int fds[3][2])
{
    for (int i = 0; i < 3; i++)
        fds[i][0] = fds[i][1] = -1;
    for (int i = 0; i < 3; i++)
        if (pipe2 (fds[i], O_CLOEXEC))
            return -1;
    return 0;
}

static void
s_pipes_close (int fds[3][2])
{
    for (int i = 0; i < 3; i++) {
        s_close (&fds[i][0]);
        s_close (&fds[i][1]);
    }
}

/*  posix_spawn: no fork of our threads' state, and exec failures come back
    as an error instead of a child that dies at once. The child gets its own
    process group, no blocked signals and default dispositions (we ignore
    SIGPIPE; it should not).                                                */
static int
s_spawn (pid_t *pid, char *const *argv, int fds[3][2])
{
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attr;
    sigset_t none, all;
    sigemptyset (&none);
    sigfillset (&all);
    sigdelset (&all, SIGKILL);
    sigdelset (&all, SIGSTOP);
    posix_spawn_file_actions_init (&actions);
    posix_spawnattr_init (&attr);
    posix_spawn_file_actions_adddup2 (&actions, fds[0][0], STDIN_FILENO);
    posix_spawn_file_actions_adddup2 (&actions, fds[1][1], STDOUT_FILENO);
    posix_spawn_file_actions_adddup2 (&actions, fds[2][1], STDERR_FILENO);
    posix_spawnattr_setflags (&attr, POSIX_SPAWN_SETPGROUP
                                   | POSIX_SPAWN_SETSIGMASK
                                   | POSIX_SPAWN_SETSIGDEF);
    posix_spawnattr_setpgroup (&attr, 0);
    posix_spawnattr_setsigmask (&attr, &none);
    posix_spawnattr_setsigdefault (&attr, &all);
    int rc = posix_spawnp (pid, argv[0], &actions, &attr, argv, environ);
    posix_spawn_file_actions_destroy (&actions);
    posix_spawnattr_destroy (&attr);
    return rc;
}

hw_child_t *
hw_child_spawn (char *const *argv, const char *service)
{
    int fds[3][2];
    if (s_pipes (fds)) {
        hearth_log_error ("[%s] cannot create pipes: %s", service,
                          strerror (errno));
        s_pipes_close (fds);
        return NULL;
    }
    pid_t pid;
    int rc = s_spawn (&pid, argv, fds);
    if (rc) {
        hearth_log_error ("[%s] cannot start %s: %s", service, argv[0],
                          strerror (rc));
        s_pipes_close (fds);
        return NULL;
    }
    hw_child_t *self = calloc (1, sizeof *self);
    if (!self) {
        /*  Out of memory with a child running: stop it rather than leak.  */
        kill (-pid, SIGKILL);
        waitpid (pid, NULL, 0);
        s_pipes_close (fds);
        return NULL;
    }
    self->service = service;
    self->pid = pid;
    self->in = fds[0][1];
    self->out = fds[1][0];
    self->err = fds[2][0];
    s_close (&fds[0][0]);
    s_close (&fds[1][1]);
    s_close (&fds[2][1]);
    fcntl (self->in, F_SETFL, O_NONBLOCK);
    fcntl (self->out, F_SETFL, O_NONBLOCK);
    fcntl (self->err, F_SETFL, O_NONBLOCK);
    hearth_log_info ("[%s pid %d] started %s", service, (int) pid, argv[0]);
    return self;
}

void
hw_child_destroy (hw_child_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    hw_child_t *self = *self_p;
    hw_child_kill (self);
    s_close (&self->in);
    s_close (&self->out);
    s_close (&self->err);
    free (self->buffer);
    free (self);
    *self_p = NULL;
}

pid_t
hw_child_pid (const hw_child_t *self)
{
    return self->pid;
}

size_t
hw_child_buffered (const hw_child_t *self)
{
    return self->size;
}

/* ------------------------------------------------------------- stderr */

/*  The length of the well-formed UTF-8 sequence at text (RFC 3629: no
    overlong forms, no surrogates, nothing above U+10FFFF), or 0.          */
static size_t
s_utf8_length (const unsigned char *text, size_t len)
{
    unsigned char c = text[0];
    size_t n = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3
             : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
    if (n == 0 || n > len)
        return 0;
    unsigned char lo = c == 0xe0 ? 0xa0 : c == 0xf0 ? 0x90 : 0x80;
    unsigned char hi = c == 0xed ? 0x9f : c == 0xf4 ? 0x8f : 0xbf;
    if (text[1] < lo || text[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if (text[i] < 0x80 || text[i] > 0xbf)
            return 0;
    return n;
}

/*  Replaces control characters (and DEL) so a child cannot forge log lines
    or terminal escapes, and bytes that are not UTF-8, so an error text is
    a valid msgpack string for every client. Well-formed UTF-8 is kept.    */
static void
s_sanitise (char *text, size_t len, bool keep_newline)
{
    unsigned char *bytes = (unsigned char *) text;
    size_t i = 0;
    while (i < len) {
        unsigned char c = bytes[i];
        size_t n = c < 0x80 ? 1 : s_utf8_length (bytes + i, len - i);
        if (n == 0
        ||  (c < 0x20 && c != '\t' && !(keep_newline && c == '\n'))
        ||  c == 0x7f) {
            text[i] = '?';
            n = 1;
        }
        i += n;
    }
}

static void
s_log_line (hw_child_t *self)
{
    self->line[self->line_len] = 0;
    s_sanitise (self->line, self->line_len, false);
    hearth_log_info ("[%s pid %d] %s", self->service, (int) self->pid,
                     self->line);
    self->line_len = 0;
}

static void
s_stderr_bytes (hw_child_t *self, const char *data, size_t size)
{
    for (size_t i = 0; i < size; i++) {
        self->tail[self->tail_pos++] = data[i];
        if (self->tail_pos == HW_CHILD_TAIL) {
            self->tail_pos = 0;
            self->tail_full = true;
        }
        if (data[i] == '\n')
            s_log_line (self);
        else {
            self->line[self->line_len++] = data[i];
            if (self->line_len == S_LINE_MAX)
                s_log_line (self);
        }
    }
}

/*  Reads stderr without waiting. Returns -1 once it is closed.             */
static int
s_read_stderr (hw_child_t *self)
{
    char chunk[4096];
    /*  Bounded: a child that writes stderr flat out cannot keep us here.  */
    for (int round = 0; round < 64 && self->err >= 0; round++) {
        ssize_t n = read (self->err, chunk, sizeof chunk);
        if (n > 0)
            s_stderr_bytes (self, chunk, (size_t) n);
        else
        if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
            if (self->line_len)
                s_log_line (self);
            s_close (&self->err);
        }
        else
        if (errno == EAGAIN)
            break;
    }
    return self->err >= 0 ? 0 : -1;
}

const char *
hw_child_tail (const hw_child_t *self, char *buf, size_t bufsize)
{
    size_t len = self->tail_full ? HW_CHILD_TAIL : self->tail_pos;
    size_t start = self->tail_full ? self->tail_pos : 0;
    if (len >= bufsize)
        len = bufsize - 1;
    /*  Keep the newest bytes when buf is smaller than the ring.           */
    size_t skip = (self->tail_full ? HW_CHILD_TAIL : self->tail_pos) - len;
    for (size_t i = 0; i < len; i++)
        buf[i] = self->tail[(start + skip + i) % HW_CHILD_TAIL];
    /*  Trailing newlines say nothing in an error text.                    */
    while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
        len--;
    buf[len] = 0;
    s_sanitise (buf, len, true);
    return buf;
}

/* ------------------------------------------------------------- stdout */

const char *
hw_child_stdout_sample (const hw_child_t *self, char *buf, size_t bufsize)
{
    /*  Escaped (\xNN), so binary garbage stays readable and the text is
        valid UTF-8 wherever it goes (logs, a reply's error text).          */
    return hearth_log_sample (self->buffer, self->size, buf, bufsize);
}

/*  Reads stdout into the buffer, keeping it under limit bytes. Returns 0,
    or -1 at EOF or on a read error.                                        */
static int
s_read_stdout (hw_child_t *self, size_t limit)
{
    while (self->out >= 0 && self->size < limit) {
        if (self->capacity - self->size < S_READ_CHUNK
        &&  self->capacity < limit) {
            size_t capacity = self->capacity ? self->capacity * 2 : S_READ_CHUNK * 2;
            if (capacity > limit)
                capacity = limit;
            uint8_t *buffer = realloc (self->buffer, capacity);
            if (!buffer)
                return 0;   /* try again next round; the deadline bounds it */
            self->buffer = buffer;
            self->capacity = capacity;
        }
        size_t room = self->capacity - self->size;
        if (room > S_READ_CHUNK)
            room = S_READ_CHUNK;
        ssize_t n = read (self->out, self->buffer + self->size, room);
        if (n > 0) {
            self->size += (size_t) n;
            /*  A pipe gives all it holds: a short read emptied it, and
                asking again would only cost an EAGAIN.                     */
            if ((size_t) n < room)
                break;
        }
        else
        if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
            s_close (&self->out);
            self->out_eof = true;
        }
        else
        if (errno == EAGAIN)
            break;
    }
    return self->out_eof ? -1 : 0;
}

static void
s_consume (hw_child_t *self, size_t count)
{
    if (count == 0)
        return;
    memmove (self->buffer, self->buffer + count, self->size - count);
    self->size -= count;
}

/*  Marks n bytes of out as written.                                      */
static void
s_output_advance (s_output_t *out, size_t n)
{
    while (out->index < 3) {
        size_t left = out->size[out->index] - out->done;
        if (n < left) {
            out->done += n;
            return;
        }
        n -= left;
        out->index++;
        out->done = 0;
    }
}

/*  Writes what it can of out without waiting, all pieces in one writev so
    the child wakes once per request. Returns 0, or -1 if stdin is closed
    on the child's side.                                                    */
static int
s_write (hw_child_t *self, s_output_t *out)
{
    while (true) {
        s_output_advance (out, 0);      /* skip empty pieces               */
        if (out->index >= 3)
            return 0;
        struct iovec iov[3];
        int count = 0;
        for (int i = out->index; i < 3; i++) {
            size_t skip = i == out->index ? out->done : 0;
            if (out->size[i] > skip)
                iov[count++] = (struct iovec) {
                    (void *) (out->data[i] + skip), out->size[i] - skip };
        }
        ssize_t n = writev (self->in, iov, count);
        if (n > 0)
            s_output_advance (out, (size_t) n);
        else
        if (n < 0 && errno == EAGAIN)
            return 0;
        else
        if (n < 0 && errno == EINTR)
            continue;
        else
            return -1;
    }
}

static bool
s_output_done (const s_output_t *out)
{
    return out->index >= 3;
}

/* ------------------------------------------------------------- waiting */

/*  One bounded wait on the child's pipes: stdin if output is pending,
    stdout while open, stderr while open. Then reads and writes what is
    ready. Returns 0, or -1 if writing failed (stdin closed by the child). */
static int
s_round (hw_child_t *self, s_output_t *out, size_t limit, int64_t deadline_at)
{
    struct pollfd fds[3];
    int count = 0;
    bool writing = out && !s_output_done (out) && self->in >= 0;
    if (writing)
        fds[count++] = (struct pollfd) { self->in, POLLOUT, 0 };
    int out_at = -1, err_at = -1;
    if (self->out >= 0 && self->size < limit) {
        out_at = count;
        fds[count++] = (struct pollfd) { self->out, POLLIN, 0 };
    }
    if (self->err >= 0) {
        err_at = count;
        fds[count++] = (struct pollfd) { self->err, POLLIN, 0 };
    }
    int64_t timeout = deadline_at - hearth_clock_ms ();
    if (timeout > HW_CHILD_TICK_MS)
        timeout = HW_CHILD_TICK_MS;
    if (timeout < 0)
        timeout = 0;
    if (count == 0) {
        /*  All pipes closed: the child is exiting. Short naps until the
            caller's waitpid sees it, so a per-request run is not slowed. */
        struct timespec ts = { 0, timeout > 0 ? 1000000L : 0 };
        nanosleep (&ts, NULL);
        return 0;
    }
    if (poll (fds, (nfds_t) count, (int) timeout) <= 0)
        return 0;
    /*  Only what poll reported (data, hang-up or error): an empty pipe
        would cost a read that says EAGAIN.                                 */
    if (err_at >= 0 && fds[err_at].revents)
        s_read_stderr (self);
    if (out_at >= 0 && fds[out_at].revents)
        s_read_stdout (self, limit);
    if (writing && fds[0].revents && s_write (self, out))
        return -1;
    return 0;
}

static bool
s_stopped (atomic_bool *stop)
{
    return stop && atomic_load (stop);
}

/*  Whether a wait for the child's output may go on: HW_CHILD_OK, or why
    not (stdout closed, a stop, the deadline).                              */
static hw_child_result_t
s_keep_waiting (hw_child_t *self, atomic_bool *stop, int64_t deadline_at)
{
    if (self->out_eof)
        return HW_CHILD_DIED;
    if (s_stopped (stop))
        return HW_CHILD_STOPPED;
    if (hearth_clock_ms () >= deadline_at)
        return HW_CHILD_TIMEOUT;
    return HW_CHILD_OK;
}

hw_child_result_t
hw_child_wait_ready (hw_child_t *self, const char *ready_line,
                     int64_t deadline_at, atomic_bool *stop)
{
    while (true) {
        size_t offset, length, consumed;
        int rc = hw_framing_next (HW_FRAMING_LINE, self->buffer, self->size,
                                  S_READY_MAX, &offset, &length, &consumed);
        if (rc == -2 && consumed == 0)
            consumed = self->size;          /* overlong: drop it all      */
        if (rc != 0) {
            char text[S_READY_MAX + 1];
            size_t len = rc == 1 ? length : 0;
            if (len)
                memcpy (text, self->buffer + offset, len);
            text[len] = 0;
            s_consume (self, consumed);
            /*  Blanks around the line are not worth a failed start.      */
            char *start = text;
            while (*start == ' ' || *start == '\t')
                start++;
            char *end = start + strlen (start);
            while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
                *--end = 0;
            if (strcmp (start, ready_line) == 0)
                return HW_CHILD_OK;
            s_sanitise (start, strlen (start), false);
            hearth_log_info ("[%s pid %d] stdout before ready: %s",
                             self->service, (int) self->pid, start);
            continue;
        }
        hw_child_result_t verdict = s_keep_waiting (self, stop, deadline_at);
        if (verdict != HW_CHILD_OK)
            return verdict;
        s_round (self, NULL, S_READY_MAX + 2, deadline_at);
    }
}

static void
s_output_init (s_output_t *out, hw_framing_t framing, const void *body,
               size_t size, uint8_t header[HW_FRAMING_HEADER_MAX])
{
    size_t header_size, trailer_size;
    const char *trailer;
    hw_framing_wrap (framing, size, header, &header_size, &trailer,
                     &trailer_size);
    *out = (s_output_t) {
        { header, body, (const uint8_t *) trailer },
        { header_size, size, trailer_size }, 0, 0
    };
}

hw_child_result_t
hw_child_exchange (hw_child_t *self, hw_framing_t framing, const void *body,
                   size_t size, size_t max, int64_t deadline_at,
                   atomic_bool *stop, void **reply, size_t *reply_size)
{
    uint8_t header[HW_FRAMING_HEADER_MAX];
    s_output_t out;
    s_output_init (&out, framing, body, size, header);
    *reply = NULL;
    *reply_size = 0;
    /*  Line framing may carry "\r\n": room for it past max.                */
    size_t limit = max + 8;
    if (self->size > 0)
        return HW_CHILD_GARBAGE;        /* output nobody asked for         */
    if (self->in < 0 || s_write (self, &out))
        return HW_CHILD_DIED;
    while (true) {
        size_t offset, length, consumed;
        int rc = hw_framing_next (framing, self->buffer, self->size, max,
                                  &offset, &length, &consumed);
        if (rc == -2)
            return HW_CHILD_GARBAGE;
        if (rc == 1) {
            /*  A reply before the whole request went out is out of step. */
            if (!s_output_done (&out))
                return HW_CHILD_GARBAGE;
            *reply = malloc (length ? length : 1);
            if (!*reply)
                return HW_CHILD_GARBAGE;
            memcpy (*reply, self->buffer + offset, length);
            *reply_size = length;
            s_consume (self, consumed);
            return HW_CHILD_OK;
        }
        hw_child_result_t verdict = s_keep_waiting (self, stop, deadline_at);
        if (verdict != HW_CHILD_OK)
            return verdict;
        if (s_round (self, &out, limit, deadline_at))
            return HW_CHILD_DIED;
    }
}

/* ------------------------------------------------------------- exit */

/*  Reaps the child if it has exited (options: WNOHANG or 0). Before the
    reap, while the zombie still holds its pid as the group id, whatever it
    left running in its group is killed: nothing outlives its child, and
    the group id cannot yet belong to anyone else.                          */
static bool
s_reap (hw_child_t *self, int options)
{
    if (self->reaped)
        return true;
    siginfo_t info;
    memset (&info, 0, sizeof info);
    int rc;
    do
        rc = waitid (P_PID, (id_t) self->pid, &info,
                     WEXITED | WNOWAIT | options);
    while (rc < 0 && errno == EINTR);
    if (rc == 0 && info.si_pid == 0)
        return false;                   /* still running (WNOHANG)         */
    if (rc == 0)
        kill (-self->pid, SIGKILL);
    int status = 0;
    pid_t pid;
    do
        pid = waitpid (self->pid, &status, WNOHANG);
    while (pid < 0 && errno == EINTR);
    if (pid == self->pid || (pid < 0 && errno == ECHILD)) {
        self->reaped = true;
        self->status = pid == self->pid ? status : 0;
    }
    return self->reaped;
}

hw_child_result_t
hw_child_run_once (hw_child_t *self, const void *body, size_t size,
                   size_t max, int64_t deadline_at, atomic_bool *stop,
                   void **reply, size_t *reply_size)
{
    s_output_t out = { { body, NULL, NULL }, { size, 0, 0 }, 0, 0 };
    *reply = NULL;
    *reply_size = 0;
    bool closed = false;
    while (true) {
        if (!closed && s_output_done (&out)) {
            s_close (&self->in);        /* EOF tells the child to answer   */
            closed = true;
        }
        if (self->size > max)
            return HW_CHILD_GARBAGE;
        if (self->out_eof && self->err < 0 && s_reap (self, WNOHANG))
            break;
        if (s_stopped (stop))
            return HW_CHILD_STOPPED;
        if (hearth_clock_ms () >= deadline_at)
            return HW_CHILD_TIMEOUT;
        if (s_round (self, closed ? NULL : &out, max + 1, deadline_at)) {
            /*  The child closed stdin early: it may still answer.         */
            s_close (&self->in);
            closed = true;
            out.index = 3;
        }
        if (self->out_eof && self->err >= 0 && s_reap (self, WNOHANG)) {
            /*  Exited, but something it started still holds stderr: do
                not wait on it beyond what is already there.               */
            s_read_stderr (self);
            break;
        }
    }
    if (!WIFEXITED (self->status) || WEXITSTATUS (self->status) != 0)
        return HW_CHILD_DIED;
    *reply = self->buffer;
    *reply_size = self->size;
    self->buffer = NULL;
    self->size = self->capacity = 0;
    return HW_CHILD_OK;
}

bool
hw_child_check (hw_child_t *self)
{
    s_read_stderr (self);
    if (self->out >= 0) {
        struct pollfd fd = { self->out, POLLIN, 0 };
        if (poll (&fd, 1, 0) > 0) {
            /*  Readable while idle: stray output or EOF, either way the
                next reply could not be trusted.                            */
            s_read_stdout (self, self->size + 4096);
            if (!self->out_eof)
                self->stray = true;
        }
    }
    return !self->out_eof && !self->stray && self->size == 0
        && !s_reap (self, WNOHANG);
}

void
hw_child_collect (hw_child_t *self, int wait_ms)
{
    int64_t until = hearth_clock_ms () + wait_ms;
    while (hearth_clock_ms () < until && (!s_reap (self, WNOHANG)
                                          || self->err >= 0)) {
        struct pollfd fd = { self->err, POLLIN, 0 };
        if (self->err >= 0)
            poll (&fd, 1, 10);
        else {
            struct timespec ts = { 0, 10 * 1000000L };
            nanosleep (&ts, NULL);
        }
        s_read_stderr (self);
    }
}

void
hw_child_terminate (hw_child_t *self)
{
    if (!self->reaped)
        kill (-self->pid, SIGTERM);
}

void
hw_child_kill (hw_child_t *self)
{
    if (!self->reaped) {
        kill (-self->pid, SIGTERM);
        int64_t until = hearth_clock_ms () + HW_CHILD_GRACE_MS;
        while (!s_reap (self, WNOHANG) && hearth_clock_ms () < until) {
            struct timespec ts = { 0, 10 * 1000000L };
            nanosleep (&ts, NULL);
            if (self->err >= 0)
                s_read_stderr (self);
        }
        if (!self->reaped) {
            hearth_log_warn ("[%s pid %d] did not exit on SIGTERM; killing",
                             self->service, (int) self->pid);
            kill (-self->pid, SIGKILL);
            /*  Bounded even for a child stuck in the kernel.               */
            until = hearth_clock_ms () + 5 * HW_CHILD_GRACE_MS;
            while (!s_reap (self, WNOHANG) && hearth_clock_ms () < until) {
                struct timespec ts = { 0, 5 * 1000000L };
                nanosleep (&ts, NULL);
            }
            if (!self->reaped)
                hearth_log_error ("[%s pid %d] survives SIGKILL",
                                  self->service, (int) self->pid);
        }
    }
    if (self->err >= 0)
        s_read_stderr (self);
}

const char *
hw_child_describe (const hw_child_t *self, char *buf, size_t bufsize)
{
    if (!self->reaped)
        snprintf (buf, bufsize, "still running");
    else
        hearth_restart_describe (self->status, buf, bufsize);
    return buf;
}
