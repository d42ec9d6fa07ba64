/*  test_lines - the line reader of `hearth run`
    (client/cli/hearth_cli_lines.c): lines split across reads, a last line
    without newline, blank lines kept, too-long lines reported once and
    skipped without holding their bytes, and the line count of a file.
*/
#include "hearth_cli_lines.h"
#include "hearth_test.h"

#include <stdlib.h>
#include <unistd.h>

/*  Reads everything from fd, joining lines as "line|" ("!" for a too-long
    one), into out (size outsize). Returns the number of lines.              */
static int
s_read_all (int fd, size_t max_line, char *out, size_t outsize)
{
    hearth_cli_lines_t *lines = hearth_cli_lines_new (fd, max_line);
    CHECK (lines != NULL);
    int count = 0;
    size_t used = 0;
    out[0] = 0;
    for (int rounds = 0; rounds < 100000 && !hearth_cli_lines_done (lines);
         rounds++) {
        const char *line;
        size_t len;
        bool too_long;
        while (hearth_cli_lines_next (lines, &line, &len, &too_long)) {
            count++;
            used += (size_t) snprintf (out + used, outsize - used, "%.*s%s",
                                       (int) len, line, too_long ? "!|" : "|");
        }
        CHECK_INT (hearth_cli_lines_fill (lines), 0);
    }
    CHECK (hearth_cli_lines_done (lines));
    hearth_cli_lines_destroy (&lines);
    hearth_cli_lines_destroy (&lines);          /* idempotent               */
    return count;
}

/*  A pipe fed with text, then closed; returns its read end.               */
static int
s_pipe (const char *text)
{
    int fds[2];
    CHECK_INT (pipe (fds), 0);
    size_t len = strlen (text);
    CHECK_INT (write (fds[1], text, len), (long long) len);
    close (fds[1]);
    return fds[0];
}

static void
test_lines_and_blanks (void)
{
    char out[256];
    int fd = s_pipe ("{\"a\":1}\n\n  \nlast");
    CHECK_INT (s_read_all (fd, 100, out, sizeof out), 4);
    CHECK_STR (out, "{\"a\":1}||  |last|");
    close (fd);
    fd = s_pipe ("");
    CHECK_INT (s_read_all (fd, 100, out, sizeof out), 0);
    close (fd);
    fd = s_pipe ("\n");
    CHECK_INT (s_read_all (fd, 100, out, sizeof out), 1);
    CHECK_STR (out, "|");
    close (fd);
}

static void
test_too_long (void)
{
    char out[256];
    /*  Exactly max is fine; one more is too long, reported once; what
        follows is read normally, also when the long line is last.          */
    int fd = s_pipe ("abcd\nabcde\nxy\nabcdefghij");
    CHECK_INT (s_read_all (fd, 4, out, sizeof out), 4);
    CHECK_STR (out, "abcd|!|xy|!|");
    close (fd);
}

/*  A line much longer than one read (64 KiB) and than max: its bytes are
    dropped as they come, and the reader stays small.                       */
static void
test_long_line_over_reads (void)
{
    size_t big = 300 * 1024;
    char *text = malloc (big + 16);
    memset (text, 'x', big);
    memcpy (text + big, "\nok\n", 5);
    int fds[2];
    CHECK_INT (pipe (fds), 0);
    pid_t pid = fork ();
    if (pid == 0) {
        close (fds[0]);
        ssize_t left = (ssize_t) strlen (text), off = 0;
        while (left > 0) {
            ssize_t n = write (fds[1], text + off, (size_t) left);
            if (n <= 0)
                _exit (1);
            off += n;
            left -= n;
        }
        _exit (0);
    }
    close (fds[1]);
    char out[64];
    CHECK_INT (s_read_all (fds[0], 1000, out, sizeof out), 2);
    CHECK_STR (out, "!|ok|");
    close (fds[0]);
    free (text);
}

static void
test_count (void)
{
    char path[] = "/tmp/hearth-test-lines-XXXXXX";
    int fd = mkstemp (path);
    CHECK (fd >= 0);
    unlink (path);
    CHECK_INT (hearth_cli_lines_count (fd), 0);
    CHECK_INT (write (fd, "a\n\nb", 4), 4);
    lseek (fd, 0, SEEK_SET);
    CHECK_INT (hearth_cli_lines_count (fd), 3);
    CHECK_INT (write (fd, "", 0), 0);
    lseek (fd, 0, SEEK_END);
    CHECK_INT (write (fd, "\n", 1), 1);
    lseek (fd, 0, SEEK_SET);
    CHECK_INT (hearth_cli_lines_count (fd), 3);
    /*  Counting does not move the offset: the lines are still all there.  */
    char out[64];
    CHECK_INT (s_read_all (fd, 100, out, sizeof out), 3);
    CHECK_STR (out, "a||b|");
    close (fd);
    int p = s_pipe ("a\n");
    CHECK_INT (hearth_cli_lines_count (p), -1);     /* not a regular file   */
    close (p);
}

int
main (void)
{
    RUN (test_lines_and_blanks);
    RUN (test_too_long);
    RUN (test_long_line_over_reads);
    RUN (test_count);
    return HEARTH_TEST_RESULT;
}
