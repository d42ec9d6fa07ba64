/*  hearth_cli_out - messages and exit codes of the CLI. */
#include "hearth_cli_out.h"

#include <stdarg.h>
#include <string.h>

int
hearth_cli_out_exit_code (int error)
{
    switch (error) {
        case HEARTH_OK:           return HEARTH_EXIT_OK;
        case HEARTH_EUNREACHABLE:
        case HEARTH_EBROKERLOST:  return HEARTH_EXIT_UNREACHABLE;
        case HEARTH_ETIMEOUT:     return HEARTH_EXIT_TIMEOUT;
        case HEARTH_ENOSERVICE:   return HEARTH_EXIT_NOSERVICE;
        case HEARTH_EWORKER:
        case HEARTH_EWORKERLOST:  return HEARTH_EXIT_WORKER;
        case HEARTH_EUNAVAILABLE: return HEARTH_EXIT_UNAVAILABLE;
        case HEARTH_EMALFORMED:
        case HEARTH_EFORBIDDEN:
        case HEARTH_ETOOLARGE:
        case HEARTH_ENOTIMPL:     return HEARTH_EXIT_REFUSED;
        default:                  return HEARTH_EXIT_ERROR;
    }
}

void
hearth_cli_out_fail (const char *format, ...)
{
    /*  One buffer, one write: lines stay whole when stderr is shared.      */
    char line[1024];
    va_list args;
    va_start (args, format);
    int n = vsnprintf (line, sizeof line, format, args);
    va_end (args);
    if (n < 0)
        n = 0;
    fprintf (stderr, "hearth: %s\n", line);
}

int
hearth_cli_out_call_error (const char *service, int error,
                           const hearth_reply_t *reply)
{
    char name[HEARTH_SERVICE_MAX + 1];
    hearth_cli_out_printable (service, strlen (service), name, sizeof name);
    /*  A lost or absent broker never answered: a status would mislead.    */
    if (reply && error != HEARTH_EBROKERLOST && error != HEARTH_EUNREACHABLE) {
        int status = hearth_reply_status (reply);
        const char *text = hearth_reply_error (reply);
        char detail[512];
        hearth_cli_out_printable (text ? text : "", text ? strlen (text) : 0,
                                  detail, sizeof detail);
        if (text)
            hearth_cli_out_fail ("%s: %d %s: %s", name, status,
                                 hearth_status_text (status), detail);
        else
            hearth_cli_out_fail ("%s: %d %s", name, status,
                                 hearth_status_text (status));
    }
    else
        hearth_cli_out_fail ("%s: %s", name, hearth_strerror (error));
    return hearth_cli_out_exit_code (error);
}

int
hearth_cli_out_body (FILE *out, const void *data, size_t size)
{
    if (size && fwrite (data, 1, size, out) != size)
        return -1;
    if (size && ((const char *) data)[size - 1] != '\n' && fputc ('\n', out) == EOF)
        return -1;
    return fflush (out) == 0 ? 0 : -1;
}

const char *
hearth_cli_out_printable (const char *text, size_t len, char *buf,
                          size_t bufsize)
{
    size_t i = 0;
    for (; i < len && i + 1 < bufsize; i++) {
        unsigned char c = (unsigned char) text[i];
        buf[i] = c >= 0x20 && c < 0x7f ? (char) c : '?';
    }
    buf[i] = '\0';
    return buf;
}
