/*  hearth_log - leveled logging to stderr, and sanitised samples of bad
    input so a hostile peer cannot write control characters into our logs.
*/
#ifndef HEARTH_LOG_H_INCLUDED
#define HEARTH_LOG_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    HEARTH_LOG_ERROR = 0,
    HEARTH_LOG_WARN,
    HEARTH_LOG_INFO,
    HEARTH_LOG_DEBUG
} hearth_log_level_t;

/*  The program name printed on every line (not copied: pass a literal).    */
void hearth_log_set_ident (const char *ident);
/*  Lines above this level are not printed. Default INFO, or $HEARTH_LOG
    (error, warn, info, debug) when set.                                     */
void hearth_log_set_level (int level);
int hearth_log_level (void);
/*  Parses "error", "warn", "info", "debug"; returns -1 if none of those.   */
int hearth_log_level_parse (const char *name);

void hearth_log (int level, const char *format, ...)
    __attribute__ ((format (printf, 2, 3)));

#define hearth_log_error(...) hearth_log (HEARTH_LOG_ERROR, __VA_ARGS__)
#define hearth_log_warn(...)  hearth_log (HEARTH_LOG_WARN, __VA_ARGS__)
#define hearth_log_info(...)  hearth_log (HEARTH_LOG_INFO, __VA_ARGS__)
#define hearth_log_debug(...) \
    do { if (hearth_log_level () >= HEARTH_LOG_DEBUG) \
        hearth_log (HEARTH_LOG_DEBUG, __VA_ARGS__); } while (0)

/*  A rate limit for one kind of line (zero it to start): repeated lines,
    from bad input or a flood of refusals, must not flood the log.          */
typedef struct {
    int64_t window_ms;          /* start of the current second              */
    int lines;                  /* logged in it                              */
    uint64_t suppressed;        /* not logged since the last line that was  */
} hearth_log_limit_t;

#define HEARTH_LOG_LIMIT_LINES 20   /* a second, per limit                  */

/*  Logs as hearth_log does, at most HEARTH_LOG_LIMIT_LINES a second through
    limit. Lines past it are counted, not written; the first line written
    after them is preceded by one saying how many were not. Returns true if
    this line was written.                                                   */
bool hearth_log_limited (hearth_log_limit_t *limit, int level,
                         const char *format, ...)
    __attribute__ ((format (printf, 3, 4)));

/*  Writes a printable, truncated rendering of data into buf (always
    NUL-terminated): printable ASCII as is, other bytes as \xNN, at most
    about 48 input bytes, then "...(N bytes)". Returns buf.                 */
const char *hearth_log_sample (const void *data, size_t size, char *buf,
                               size_t bufsize);

#endif
