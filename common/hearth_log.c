/*  hearth_log - leveled logging to stderr. */
#include "hearth_log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

static const char *s_ident = "hearth";
static int s_level = -1;            /* -1: not yet read from $HEARTH_LOG */
static const char *s_names[] = { "error", "warn", "info", "debug" };

void
hearth_log_set_ident (const char *ident)
{
    s_ident = ident ? ident : "hearth";
}

int
hearth_log_level_parse (const char *name)
{
    for (int i = 0; name && i < 4; i++)
        if (strcasecmp (name, s_names[i]) == 0)
            return i;
    return -1;
}

void
hearth_log_set_level (int level)
{
    s_level = level < HEARTH_LOG_ERROR ? HEARTH_LOG_ERROR
            : level > HEARTH_LOG_DEBUG ? HEARTH_LOG_DEBUG : level;
}

int
hearth_log_level (void)
{
    if (s_level < 0) {
        int level = hearth_log_level_parse (getenv ("HEARTH_LOG"));
        s_level = level < 0 ? HEARTH_LOG_INFO : level;
    }
    return s_level;
}

static void
s_vlog (int level, const char *format, va_list args)
{
    struct timespec ts;
    clock_gettime (CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r (&ts.tv_sec, &tm);
    /*  One buffer and one write, so lines from threads and processes that
        share a terminal or log file do not interleave.                      */
    char line[2048];
    int n = snprintf (line, sizeof line,
                      "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s[%d] %s: ",
                      tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                      tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000L, s_ident,
                      (int) getpid (), s_names[level]);
    n += vsnprintf (line + n, sizeof line - (size_t) n - 1, format, args);
    if (n > (int) sizeof line - 2)
        n = (int) sizeof line - 2;
    line[n++] = '\n';
    ssize_t rc = write (STDERR_FILENO, line, (size_t) n);
    (void) rc;
}

static void
s_log (int level, const char *format, ...)
{
    va_list args;
    va_start (args, format);
    s_vlog (level, format, args);
    va_end (args);
}

void
hearth_log (int level, const char *format, ...)
{
    if (level > hearth_log_level ())
        return;
    va_list args;
    va_start (args, format);
    s_vlog (level, format, args);
    va_end (args);
}

bool
hearth_log_limited (hearth_log_limit_t *limit, int level, const char *format,
                    ...)
{
    if (level > hearth_log_level ())
        return false;
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    int64_t now = (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    if (now - limit->window_ms >= 1000) {
        limit->window_ms = now;
        limit->lines = 0;
    }
    if (limit->lines >= HEARTH_LOG_LIMIT_LINES) {
        limit->suppressed++;
        return false;
    }
    limit->lines++;
    if (limit->suppressed) {
        s_log (level, "%llu more lines like the next not logged",
               (unsigned long long) limit->suppressed);
        limit->suppressed = 0;
    }
    va_list args;
    va_start (args, format);
    s_vlog (level, format, args);
    va_end (args);
    return true;
}

const char *
hearth_log_sample (const void *data, size_t size, char *buf, size_t bufsize)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *bytes = data;
    size_t out = 0, i = 0;
    if (bufsize == 0)
        return buf;
    /*  Leave room for the longest tail: "...(18446744073709551615 bytes)". */
    size_t limit = bufsize > 40 ? bufsize - 40 : 0;
    for (; i < size && i < 48 && out + 4 < limit; i++) {
        unsigned char c = bytes[i];
        if (c >= 0x20 && c < 0x7f && c != '\\')
            buf[out++] = (char) c;
        else {
            buf[out++] = '\\';
            buf[out++] = 'x';
            buf[out++] = hex[c >> 4];
            buf[out++] = hex[c & 15];
        }
    }
    buf[out] = 0;
    if (i < size && bufsize - out > 1)
        snprintf (buf + out, bufsize - out, "...(%zu bytes)", size);
    return buf;
}
