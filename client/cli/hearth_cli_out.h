/*  hearth_cli_out - what the CLI prints, and the exit codes it returns.

    Every error message goes through here so they all read alike:
    "hearth: WHAT: DETAIL" on stderr.
*/
#ifndef HEARTH_CLI_OUT_H_INCLUDED
#define HEARTH_CLI_OUT_H_INCLUDED

#include <stddef.h>
#include <stdio.h>
#include "hearth/hearth.h"

/*  Exit codes, documented in --help and docs/cli.md.                        */
enum {
    HEARTH_EXIT_OK = 0,
    HEARTH_EXIT_ERROR = 1,          /* any other error                      */
    HEARTH_EXIT_USAGE = 2,          /* bad command line                     */
    HEARTH_EXIT_UNREACHABLE = 3,    /* broker unreachable or lost           */
    HEARTH_EXIT_TIMEOUT = 4,        /* 504 or local deadline                */
    HEARTH_EXIT_NOSERVICE = 5,      /* 404                                  */
    HEARTH_EXIT_WORKER = 6,         /* 500, 502                             */
    HEARTH_EXIT_UNAVAILABLE = 7,    /* 503                                  */
    HEARTH_EXIT_REFUSED = 8         /* 400, 403, 413, 501                   */
};

/*  The exit code for a library error (hearth_error_t).                     */
int hearth_cli_out_exit_code (int error);

/*  Prints "hearth: FORMAT" and a newline to stderr.                        */
void hearth_cli_out_fail (const char *format, ...)
    __attribute__ ((format (printf, 1, 2)));

/*  Prints why a call to service failed: the reply's status, reason and
    error text when the broker answered, else the library's error text.
    Returns the exit code for error.                                         */
int hearth_cli_out_call_error (const char *service, int error,
                               const hearth_reply_t *reply);

/*  Writes a body to out, then a newline unless it ends with one (an empty
    body prints nothing). Returns 0, or -1 on a write error.                */
int hearth_cli_out_body (FILE *out, const void *data, size_t size);

/*  Copies len bytes of text into buf (size bufsize, at least 1) with
    control characters and bytes that are not well-formed UTF-8 shown as
    '?', so text from the network cannot drive the terminal. Returns buf.   */
const char *hearth_cli_out_printable (const char *text, size_t len, char *buf,
                                      size_t bufsize);

#endif
