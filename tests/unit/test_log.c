/*  test_log - levels, line format and hearth_log_sample's escaping and
    truncation (common/hearth_log).
*/
#include "hearth_log.h"
#include "hearth_test.h"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

/*  True if every byte of str is printable ASCII.                            */
static bool
s_printable (const char *str)
{
    for (; *str; str++)
        if (*str < 0x20 || *str > 0x7e)
            return false;
    return true;
}

static void
test_sample_escaping (void)
{
    char buf[256];
    CHECK_STR (hearth_log_sample ("hello", 5, buf, sizeof buf), "hello");
    CHECK_STR (hearth_log_sample ("", 0, buf, sizeof buf), "");
    CHECK_STR (hearth_log_sample ("a\nb\x01", 4, buf, sizeof buf),
               "a\\x0ab\\x01");
    CHECK_STR (hearth_log_sample ("\x00\x7f\x80\xff", 4, buf, sizeof buf),
               "\\x00\\x7f\\x80\\xff");
    /*  A backslash is escaped too, so "\x41" in the log is never ambiguous
        between four bytes and one.                                          */
    CHECK_STR (hearth_log_sample ("\\x41", 4, buf, sizeof buf), "\\x5cx41");
    CHECK_STR (hearth_log_sample ("\x1b[2J", 4, buf, sizeof buf), "\\x1b[2J");
    /*  Returns buf.                                                          */
    CHECK (hearth_log_sample ("x", 1, buf, sizeof buf) == buf);
}

static void
test_sample_truncation (void)
{
    char buf[256];
    char input[100];
    memset (input, 'a', sizeof input);
    /*  48 bytes fit whole; the 49th brings the tail.                         */
    hearth_log_sample (input, 48, buf, sizeof buf);
    CHECK_INT (strlen (buf), 48);
    hearth_log_sample (input, 49, buf, sizeof buf);
    CHECK (strncmp (buf, input, 48) == 0);
    CHECK_STR (buf + 48, "...(49 bytes)");
    hearth_log_sample (input, sizeof input, buf, sizeof buf);
    CHECK_STR (buf + 48, "...(100 bytes)");
    /*  The largest size still fits its tail.                                 */
    hearth_log_sample (input, SIZE_MAX, buf, sizeof buf);
    CHECK_STR (buf + 48, "...(18446744073709551615 bytes)");

    /*  Hostile bytes grow fourfold when escaped; still bounded and
        printable, and never cut in the middle of an escape.                  */
    unsigned char binary[100];
    for (size_t i = 0; i < sizeof binary; i++)
        binary[i] = (unsigned char) (i * 37);
    hearth_log_sample (binary, sizeof binary, buf, sizeof buf);
    CHECK (s_printable (buf));
    CHECK (strstr (buf, "...(100 bytes)") != NULL);

    /*  Every buffer size from 1 to 200: NUL-terminated inside the buffer,
        no byte written past it, only printable text.                          */
    for (size_t size = 1; size <= 200; size++) {
        char small[256];
        memset (small, '#', sizeof small);
        hearth_log_sample (binary, sizeof binary, small, size);
        size_t len = strnlen (small, size);
        if (len >= size)
            HEARTH_TEST_FAIL_AT ("bufsize %zu: not terminated", size);
        else
        if (!s_printable (small))
            HEARTH_TEST_FAIL_AT ("bufsize %zu: unprintable output", size);
        for (size_t i = size; i < sizeof small; i++)
            if (small[i] != '#') {
                HEARTH_TEST_FAIL_AT ("bufsize %zu: wrote byte %zu", size, i);
                break;
            }
        /*  An escape is never cut: a backslash is followed by x and two
            hex digits.                                                       */
        const char *bs = strchr (small, '\\');
        for (; bs; bs = strchr (bs + 1, '\\'))
            if (strlen (bs) < 4 || bs[1] != 'x')
                HEARTH_TEST_FAIL_AT ("bufsize %zu: cut escape", size);
        hearth_test_checks += 3;
    }
    /*  bufsize 0 writes nothing at all.                                      */
    char untouched = '#';
    hearth_log_sample ("abc", 3, &untouched, 0);
    CHECK_INT (untouched, '#');
}

static void
test_levels (void)
{
    CHECK_INT (hearth_log_level_parse ("error"), HEARTH_LOG_ERROR);
    CHECK_INT (hearth_log_level_parse ("WARN"), HEARTH_LOG_WARN);
    CHECK_INT (hearth_log_level_parse ("Info"), HEARTH_LOG_INFO);
    CHECK_INT (hearth_log_level_parse ("debug"), HEARTH_LOG_DEBUG);
    CHECK_INT (hearth_log_level_parse ("verbose"), -1);
    CHECK_INT (hearth_log_level_parse (""), -1);
    CHECK_INT (hearth_log_level_parse ("errorx"), -1);
    CHECK_INT (hearth_log_level_parse (NULL), -1);
    hearth_log_set_level (-5);
    CHECK_INT (hearth_log_level (), HEARTH_LOG_ERROR);
    hearth_log_set_level (99);
    CHECK_INT (hearth_log_level (), HEARTH_LOG_DEBUG);
    hearth_log_set_level (HEARTH_LOG_WARN);
    CHECK_INT (hearth_log_level (), HEARTH_LOG_WARN);
}

/*  Runs one log call with stderr redirected into a pipe; returns what was
    written (NUL-terminated in out, at most size - 1 bytes).                 */
#define CAPTURE(out, size, call) \
    do { \
        int pipe_[2]; \
        CHECK_INT (pipe (pipe_), 0); \
        int saved_ = dup (STDERR_FILENO); \
        dup2 (pipe_[1], STDERR_FILENO); \
        call; \
        dup2 (saved_, STDERR_FILENO); \
        close (saved_); \
        close (pipe_[1]); \
        ssize_t got_ = read (pipe_[0], (out), (size) - 1); \
        (out)[got_ > 0 ? got_ : 0] = 0; \
        close (pipe_[0]); \
    } while (0)

static void
test_lines (void)
{
    char out[4096];
    hearth_log_set_ident ("unit");
    hearth_log_set_level (HEARTH_LOG_INFO);
    CAPTURE (out, sizeof out, hearth_log_info ("answer %d", 42));
    CHECK (strstr (out, " unit[") != NULL);
    CHECK (strstr (out, "] info: answer 42\n") != NULL);
    /*  ISO 8601 UTC timestamp first: 2024-01-02T03:04:05.678Z              */
    CHECK (strlen (out) > 24 && out[4] == '-' && out[10] == 'T'
           && out[23] == 'Z');
    CHECK_INT (strchr (out, '\n') - out, (long long) strlen (out) - 1);

    /*  Above the level: nothing is written.                                 */
    CAPTURE (out, sizeof out, hearth_log_debug ("hidden"));
    CHECK_STR (out, "");
    CAPTURE (out, sizeof out, hearth_log (HEARTH_LOG_DEBUG, "hidden"));
    CHECK_STR (out, "");
    CAPTURE (out, sizeof out, hearth_log_error ("shown"));
    CHECK (strstr (out, "] error: shown\n") != NULL);

    /*  A huge message is cut to one line that still ends in a newline.     */
    char *huge = malloc (5000);
    CHECK (huge != NULL);
    if (huge) {
        memset (huge, 'h', 4999);
        huge[4999] = 0;
        CAPTURE (out, sizeof out, hearth_log_warn ("%s", huge));
        size_t len = strlen (out);
        CHECK (len > 1000 && len < 2048);
        CHECK (len > 0 && out[len - 1] == '\n');
        CHECK (strchr (out, '\n') == out + len - 1);
        free (huge);
    }
    hearth_log_set_ident (NULL);
    CAPTURE (out, sizeof out, hearth_log_warn ("x"));
    CHECK (strstr (out, " hearth[") != NULL);
}

int
main (void)
{
    /*  $HEARTH_LOG is read on first use, so this must come first.           */
    setenv ("HEARTH_LOG", "debug", 1);
    CHECK_INT (hearth_log_level (), HEARTH_LOG_DEBUG);
    RUN (test_sample_escaping);
    RUN (test_sample_truncation);
    RUN (test_levels);
    RUN (test_lines);
    return HEARTH_TEST_RESULT;
}
