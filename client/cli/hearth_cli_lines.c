/*  hearth_cli_lines - line reader over a raw descriptor (see the header).

    Bytes live in buffer[start, end); next() consumes lines from start, and
    fill() moves what is left to the front before it reads, so the buffer
    only grows to hold one line plus one read.
*/
#include "hearth_cli_lines.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define S_READ_SIZE (64 * 1024)

struct _hearth_cli_lines_t {
    int fd;
    size_t max_line;
    char *buffer;
    size_t size;                /* allocated bytes                          */
    size_t start;               /* first byte not yet handed out            */
    size_t end;                 /* one past the last byte read              */
    size_t scanned;             /* bytes from start known to hold no '\n'   */
    bool eof;                   /* the descriptor has no more to give       */
    bool skipping;              /* inside a too-long line, until its '\n'   */
};

hearth_cli_lines_t *
hearth_cli_lines_new (int fd, size_t max_line)
{
    if (fd < 0 || max_line == 0 || max_line > SIZE_MAX / 2 - S_READ_SIZE)
        return NULL;
    hearth_cli_lines_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->fd = fd;
    self->max_line = max_line;
    return self;
}

void
hearth_cli_lines_destroy (hearth_cli_lines_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free ((*self_p)->buffer);
    free (*self_p);
    *self_p = NULL;
}

/*  Makes room for one more read. Returns 0, or -1 out of memory.          */
static int
s_make_room (hearth_cli_lines_t *self)
{
    if (self->start > 0) {
        memmove (self->buffer, self->buffer + self->start,
                 self->end - self->start);
        self->end -= self->start;
        self->start = 0;
    }
    if (self->size - self->end >= S_READ_SIZE)
        return 0;
    size_t size = self->end + S_READ_SIZE;
    char *bigger = realloc (self->buffer, size);
    if (!bigger)
        return -1;
    self->buffer = bigger;
    self->size = size;
    return 0;
}

int
hearth_cli_lines_fill (hearth_cli_lines_t *self)
{
    assert (self);
    if (self->eof)
        return 0;
    if (s_make_room (self)) {
        self->eof = true;
        errno = ENOMEM;
        return -1;
    }
    ssize_t n;
    do
        n = read (self->fd, self->buffer + self->end, self->size - self->end);
    while (n < 0 && errno == EINTR);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return 0;
    if (n <= 0) {
        self->eof = true;
        return n < 0 ? -1 : 0;
    }
    self->end += (size_t) n;
    return 0;
}

bool
hearth_cli_lines_next (hearth_cli_lines_t *self, const char **line,
                       size_t *len, bool *too_long)
{
    assert (self && line && len && too_long);
    char *from = self->buffer + self->start;
    size_t have = self->end - self->start;
    char *newline = have > self->scanned
                  ? memchr (from + self->scanned, '\n', have - self->scanned)
                  : NULL;
    size_t length = newline ? (size_t) (newline - from) : have;
    if (!newline) {
        if (!self->eof) {
            self->scanned = have;
            if (have > self->max_line) {
                /*  Too long and no end yet: drop the bytes, keep the fact. */
                self->skipping = true;
                self->start = self->end = self->scanned = 0;
            }
            return false;
        }
        /*  At the end, the last line needs no newline.                    */
        if (have == 0 && !self->skipping)
            return false;
    }
    self->start += length + (newline ? 1 : 0);
    self->scanned = 0;
    if (self->skipping || length > self->max_line) {
        self->skipping = false;
        *line = "";
        *len = 0;
        *too_long = true;
        return true;
    }
    *line = from;
    *len = length;
    *too_long = false;
    return true;
}

bool
hearth_cli_lines_done (const hearth_cli_lines_t *self)
{
    assert (self);
    return self->eof && self->start == self->end && !self->skipping;
}

int64_t
hearth_cli_lines_count (int fd)
{
    struct stat st;
    if (fstat (fd, &st) || !S_ISREG (st.st_mode))
        return -1;
    off_t offset = lseek (fd, 0, SEEK_CUR);
    if (offset < 0)
        return -1;
    static char chunk[S_READ_SIZE];
    int64_t lines = 0;
    char last = '\n';
    while (true) {
        ssize_t n = pread (fd, chunk, sizeof chunk, offset);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0)
            break;
        for (const char *p = chunk, *end = chunk + n;
             (p = memchr (p, '\n', (size_t) (end - p))); p++)
            lines++;
        last = chunk[n - 1];
        offset += n;
    }
    return lines + (last != '\n');
}
