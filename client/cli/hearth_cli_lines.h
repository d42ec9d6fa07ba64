/*  hearth_cli_lines - reads lines from a file descriptor without blocking
    the caller between lines.

    fill() does one read() (call it when poll says the descriptor is
    readable, or at any time for a regular file); next() hands out the
    complete lines read so far. The last line of the input need not end in
    a newline. A line longer than max_line is not kept: it is reported once,
    flagged too long, with its bytes skipped, so memory stays bounded
    whatever the input holds.
*/
#ifndef HEARTH_CLI_LINES_H_INCLUDED
#define HEARTH_CLI_LINES_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct _hearth_cli_lines_t hearth_cli_lines_t;

/*  Creates a reader of fd (not owned: never closed here) for lines of up to
    max_line (>= 1) bytes, newline excluded. NULL on a bad argument or out
    of memory.                                                               */
hearth_cli_lines_t *hearth_cli_lines_new (int fd, size_t max_line);

/*  Destroys the reader. Idempotent.                                         */
void hearth_cli_lines_destroy (hearth_cli_lines_t **self_p);

/*  One read() from the descriptor. Returns 0 (also at end of input), or -1
    on a read error (errno set; the reader is then at its end).              */
int hearth_cli_lines_fill (hearth_cli_lines_t *self);

/*  The next complete line, without its newline: returns true with *line and
    *len set (valid until the next fill or next call; a too-long line has
    *len 0 and *too_long true), false when no complete line is buffered.     */
bool hearth_cli_lines_next (hearth_cli_lines_t *self, const char **line,
                            size_t *len, bool *too_long);

/*  True once the descriptor reached its end and every line was handed out. */
bool hearth_cli_lines_done (const hearth_cli_lines_t *self);

/*  Counts the lines from the descriptor's current offset to its end without
    moving it (pread), for a progress total. Returns -1 if fd is not a
    regular file or cannot be read.                                          */
int64_t hearth_cli_lines_count (int fd);

#endif
